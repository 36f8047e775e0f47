"""Exercise: the pieces of a fine-tuning recipe (warm-up schedule, layer-wise learning rates,
dynamic padding, a mean-pooled classification head)."""
