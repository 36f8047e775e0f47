"""Exercise `ngram_lm`: add-k and interpolated Kneser-Ney probabilities of a bigram model."""
