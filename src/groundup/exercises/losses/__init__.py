"""Exercise `losses`: stable binary cross-entropy and cross-entropy with label smoothing."""
