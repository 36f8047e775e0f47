"""Exercise `regularization`: batch normalization with running statistics, graded against PyTorch."""
