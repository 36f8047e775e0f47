"""Exercise bpe: pair statistics, merging a pair, the training loop and encoding by rank."""
