"""Building blocks of Transformers on PyTorch tensors, one concept per file (e.g. `attention`)."""
