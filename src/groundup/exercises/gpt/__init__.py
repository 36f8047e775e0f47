"""Exercise `gpt`: the sampling filters and next-token choice of a language model."""
