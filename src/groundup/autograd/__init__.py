"""A NumPy autograd engine (no torch inside): tensors, gradient checking and a small MLP."""

from groundup.autograd.engine import Tensor, cross_entropy, no_grad

__all__ = ["Tensor", "cross_entropy", "no_grad"]
