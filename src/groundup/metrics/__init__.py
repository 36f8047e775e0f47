"""Metrics and model evaluation, from scratch in NumPy and checked against scikit-learn.

- `classification`: accuracy, confusion matrix, precision/recall/F1, ROC and PR curves, AUC
- `regression`: mean absolute error, mean squared error, its root, R²
- `model_selection`: k-fold splits, cross-validation, grid and random search
- `bootstrap`: a confidence interval for any metric of a test set
"""
