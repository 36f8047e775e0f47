"""Wrong solutions of the autograd exercise, each with one planted bug a learner might write.

Every mutant is the correct NumPy solution below with one edit; `catches` names the check
that must fail on it.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """import numpy as np


def unbroadcast(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return np.asarray(grad)


def matmul_backward(a, b, grad_out):
    grad_a = grad_out @ np.swapaxes(b, -1, -2)
    grad_b = np.swapaxes(a, -1, -2) @ grad_out
    return unbroadcast(grad_a, a.shape), unbroadcast(grad_b, b.shape)


def log_softmax_backward(x, grad_out, axis=-1):
    exp = np.exp(x - x.max(axis=axis, keepdims=True))
    softmax = exp / exp.sum(axis=axis, keepdims=True)
    return grad_out - softmax * grad_out.sum(axis=axis, keepdims=True)
"""


def _mutant(name: str, catches: str, old: str, new: str, note: str) -> Mutant:
    if SOLUTION.count(old) != 1:
        raise ValueError(f"mutant {name}: {old!r} must occur exactly once in SOLUTION")
    return Mutant(name=name, catches=catches, source=SOLUTION.replace(old, new), note=note)


MUTANTS: list[Mutant] = [
    _mutant(
        "unbroadcast_sums_last_axis",
        "unbroadcast_leading_dims",
        "grad = grad.sum(axis=0)",
        "grad = grad.sum(axis=-1)",
        "removes extra axes from the wrong end: shapes align from the right",
    ),
    _mutant(
        "unbroadcast_mean_instead_of_sum",
        "unbroadcast_leading_dims",
        "grad = grad.sum(axis=0)",
        "grad = grad.mean(axis=0)",
        "averages the copies' gradients instead of adding them",
    ),
    _mutant(
        "unbroadcast_forgets_size_one_dims",
        "unbroadcast_size_one_dims",
        "        if size == 1 and grad.shape[axis] != 1:\n"
        "            grad = grad.sum(axis=axis, keepdims=True)\n",
        "        pass\n",
        "only removes leading axes; stretched size-1 axes keep their full length",
    ),
    _mutant(
        "unbroadcast_drops_size_one_dims",
        "unbroadcast_size_one_dims",
        "grad = grad.sum(axis=axis, keepdims=True)",
        "grad = grad.sum(axis=axis)",
        "sums a stretched axis without keepdims, so the result loses that axis",
    ),
    _mutant(
        "matmul_missing_transpose",
        "matmul_backward_2d",
        "grad_a = grad_out @ np.swapaxes(b, -1, -2)",
        "grad_a = grad_out @ b",
        "multiplies by b instead of b^T",
    ),
    _mutant(
        "matmul_swapped_grads",
        "matmul_backward_2d",
        "return unbroadcast(grad_a, a.shape), unbroadcast(grad_b, b.shape)",
        "return unbroadcast(grad_b, b.shape), unbroadcast(grad_a, a.shape)",
        "returns (grad_b, grad_a)",
    ),
    _mutant(
        "matmul_transposes_all_axes",
        "matmul_backward_batched",
        "grad_b = np.swapaxes(a, -1, -2) @ grad_out",
        "grad_b = a.T @ grad_out",
        "a.T reverses the batch axes too; right for 2-D only",
    ),
    _mutant(
        "matmul_forgets_unbroadcast",
        "matmul_backward_broadcast_batch",
        "return unbroadcast(grad_a, a.shape), unbroadcast(grad_b, b.shape)",
        "return grad_a, grad_b",
        "a matrix shared across the batch gets one gradient per batch element",
    ),
    _mutant(
        "log_softmax_forgets_softmax_term",
        "log_softmax_backward_values",
        "return grad_out - softmax * grad_out.sum(axis=axis, keepdims=True)",
        "return grad_out",
        "treats log_softmax like the identity: forgets the normaliser's gradient",
    ),
    _mutant(
        "log_softmax_sums_last_axis",
        "log_softmax_backward_axis",
        "return grad_out - softmax * grad_out.sum(axis=axis, keepdims=True)",
        "return grad_out - softmax * grad_out.sum(axis=-1, keepdims=True)",
        "ignores `axis` in the sum of the upstream gradient",
    ),
    _mutant(
        "log_softmax_without_max_shift",
        "log_softmax_backward_large_logits",
        "exp = np.exp(x - x.max(axis=axis, keepdims=True))",
        "exp = np.exp(x)",
        "np.exp overflows for large inputs and softmax turns into nan",
    ),
    _mutant(
        "log_softmax_changes_grad_out_in_place",
        "inputs_unchanged",
        "return grad_out - softmax * grad_out.sum(axis=axis, keepdims=True)",
        "grad_out -= softmax * grad_out.sum(axis=axis, keepdims=True)\n    return grad_out",
        "right values, but the caller's gradient array is overwritten",
    ),
]
