"""Exercise `transfer-learning`: freeze, layer-wise parameter groups, few-shot subsets."""
