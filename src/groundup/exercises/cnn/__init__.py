"""Exercise `cnn`: a 2-D convolution (cross-correlation) from tensor operations, graded against PyTorch."""
