"""Exercise `optimization`: gradient descent with (Nesterov) momentum, returning the whole path."""
