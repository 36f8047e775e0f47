"""Exercise `word_vectors`: the negative-sampling loss and its gradients, subsampling and the noise distribution."""
