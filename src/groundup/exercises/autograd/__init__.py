"""Exercise autograd: the backward rules of broadcasting, matmul and log_softmax in NumPy."""
