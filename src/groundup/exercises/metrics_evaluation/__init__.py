"""Exercise `metrics_evaluation`: precision, recall and F1 with averages, and ROC AUC."""
