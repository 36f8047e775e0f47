"""The NumPy engine against torch.autograd: values and gradients of every op on random shapes.

Tolerance for all oracle comparisons (both sides float64): atol 1e-8, rtol 1e-6. Each test
backpropagates a random upstream gradient (not a plain sum), so a rule that is wrong for
some output elements cannot hide.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from groundup.autograd.engine import (
    ShapeError,
    Tensor,
    cross_entropy,
    log_softmax_backward,
    matmul_backward,
    no_grad,
    unbroadcast,
)

ATOL, RTOL = 1e-8, 1e-6
FEW = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
broadcast_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4)


def compare_with_torch(
    ours: Callable[..., Tensor],
    theirs: Callable[..., torch.Tensor],
    inputs: list[np.ndarray],
    seed: int = 0,
) -> None:
    """Same function in both engines: equal outputs and equal input gradients."""
    our_inputs = [Tensor(x, requires_grad=True) for x in inputs]
    torch_inputs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out = ours(*our_inputs)
    ref = theirs(*torch_inputs)
    assert out.shape == tuple(ref.shape)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=ATOL, rtol=RTOL)

    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    for mine, reference in zip(our_inputs, torch_inputs, strict=True):
        expected = np.zeros(mine.shape) if reference.grad is None else reference.grad.numpy()
        assert mine.grad is not None and mine.grad.shape == mine.shape
        np.testing.assert_allclose(mine.grad, expected, atol=ATOL, rtol=RTOL)


def normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with |x| in [0.5, 2]: safe denominators."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


# ---------------------------------------------------------------- elementwise, broadcasting

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
}


@pytest.mark.parametrize("op", list(BINARY))
@FEW
@given(shapes=broadcast_pairs, seed=seeds)
def test_matches_torch_binary_ops_with_broadcasting(op: str, shapes, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a_shape, b_shape = shapes.input_shapes
    ours, theirs = BINARY[op]
    compare_with_torch(ours, theirs, [normal(rng, a_shape), away_from_zero(rng, b_shape)], seed)


@FEW
@given(shape=shapes, seed=seeds, scalar=st.floats(-3, 3).filter(lambda v: abs(v) > 0.1))
def test_matches_torch_ops_with_python_scalars(shape, seed: int, scalar: float) -> None:
    x = away_from_zero(np.random.default_rng(seed), shape)
    compare_with_torch(
        lambda a: (scalar + a) * scalar - scalar / a + (1.0 - a) / scalar,
        lambda a: (scalar + a) * scalar - scalar / a + (1.0 - a) / scalar,
        [x],
        seed,
    )


def test_numpy_array_on_the_left_defers_to_tensor() -> None:
    a = Tensor([1.0, 2.0], requires_grad=True)
    out = np.array([3.0, 4.0]) * a + np.array([1.0, 1.0])
    assert isinstance(out, Tensor)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])


@FEW
@given(
    shape=shapes,
    seed=seeds,
    exponent=st.sampled_from([2, 3, -1, 0.5, -1.5, 1 / 3, 2.7]),
)
def test_matches_torch_pow(shape, seed: int, exponent: float) -> None:
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.5, 2.0, size=shape)  # positive: every real exponent is defined
    compare_with_torch(lambda a: a**exponent, lambda a: a**exponent, [base], seed)


@FEW
@given(shape=shapes, seed=seeds, exponent=st.sampled_from([2, 3, -1, -2]))
def test_matches_torch_pow_integer_exponent_negative_base(shape, seed: int, exponent: int) -> None:
    x = away_from_zero(np.random.default_rng(seed), shape)
    compare_with_torch(lambda a: a**exponent, lambda a: a**exponent, [x], seed)


UNARY = {
    "neg": (lambda a: -a, lambda a: -a, normal),
    "exp": (lambda a: a.exp(), torch.exp, normal),
    "log": (lambda a: a.log(), torch.log, lambda rng, s: rng.uniform(0.1, 3.0, size=s)),
    "tanh": (lambda a: a.tanh(), torch.tanh, normal),
    "sigmoid": (lambda a: a.sigmoid(), torch.sigmoid, lambda rng, s: 4 * rng.standard_normal(s)),
    "relu": (lambda a: a.relu(), torch.relu, normal),
}


@pytest.mark.parametrize("op", list(UNARY))
@FEW
@given(shape=shapes, seed=seeds)
def test_matches_torch_unary_ops(op: str, shape, seed: int) -> None:
    ours, theirs, sample = UNARY[op]
    compare_with_torch(ours, theirs, [sample(np.random.default_rng(seed), shape)], seed)


def test_sigmoid_saturates_without_overflow() -> None:
    with np.errstate(all="raise"):
        out = Tensor([-1000.0, 0.0, 1000.0]).sigmoid()
    np.testing.assert_allclose(out.data, [0.0, 0.5, 1.0])


# ---------------------------------------------------------------- matmul


@FEW
@given(shapes=hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_side=4))
def test_matches_torch_matmul_all_numpy_cases(shapes) -> None:
    """1-D @ 1-D, 1-D @ N-D, N-D @ 1-D, 2-D and batched with broadcast batch dims."""
    a_shape, b_shape = shapes.input_shapes
    rng = np.random.default_rng(len(a_shape) * 10 + len(b_shape))
    compare_with_torch(
        lambda a, b: a @ b, torch.matmul, [normal(rng, a_shape), normal(rng, b_shape)]
    )


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [
        ((3,), (3,)),
        ((3,), (2, 3, 4)),
        ((2, 5, 3), (3,)),
        ((4, 1, 2, 3), (5, 3, 2)),
        ((2, 3), (3, 4)),
    ],
)
def test_matmul_backward_function_matches_torch(a_shape, b_shape) -> None:
    rng = np.random.default_rng(0)
    a, b = normal(rng, a_shape), normal(rng, b_shape)
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    out = ta @ tb
    upstream = normal(rng, tuple(out.shape))
    out.backward(torch.tensor(upstream))
    grad_a, grad_b = matmul_backward(a, b, upstream)
    np.testing.assert_allclose(grad_a, ta.grad.numpy(), atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(grad_b, tb.grad.numpy(), atol=ATOL, rtol=RTOL)


def test_matmul_with_array_on_the_left() -> None:
    w = Tensor(np.eye(2) * 3, requires_grad=True)
    out = np.array([[1.0, 2.0]]) @ w
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [[3.0, 6.0]])
    np.testing.assert_array_equal(w.grad, [[1.0, 1.0], [2.0, 2.0]])


# ---------------------------------------------------------------- reductions


@st.composite
def shape_and_axis(draw: st.DrawFn, min_dims: int = 0):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=4))
    ndim = len(shape)
    if ndim == 0:
        return shape, None
    choice = draw(st.sampled_from(["none", "int", "tuple"]))
    if choice == "none":
        return shape, None
    if choice == "int":
        return shape, draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    negative = draw(st.booleans())
    return shape, tuple(a - ndim if negative else a for a in axes)


def torch_dims(axis, ndim: int):
    """torch spells "all axes" as every axis, not None."""
    return tuple(range(ndim)) if axis is None else axis


@pytest.mark.parametrize("op", ["sum", "mean", "max"])
@FEW
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_matches_torch_reductions(op: str, case, keepdims: bool, seed: int) -> None:
    """max on tie-free inputs (continuous random values), compared with torch.amax."""
    shape, axis = case
    x = normal(np.random.default_rng(seed), shape)
    torch_op = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}[op]
    compare_with_torch(
        lambda a: getattr(a, op)(axis=axis, keepdims=keepdims),
        lambda a: torch_op(a, dim=torch_dims(axis, a.ndim), keepdim=keepdims),
        [x],
        seed,
    )


def test_max_splits_gradient_evenly_among_ties_like_torch_amax() -> None:
    x = np.array([[1.0, 5.0, 5.0, 2.0], [7.0, 7.0, 7.0, 0.0]])
    compare_with_torch(lambda a: a.max(axis=1), lambda a: torch.amax(a, dim=1), [x])
    a = Tensor(x, requires_grad=True)
    a.max().backward()
    np.testing.assert_allclose(a.grad, [[0, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]])


# ---------------------------------------------------------------- indexing and shapes


@st.composite
def basic_index_case(draw: st.DrawFn):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    index = draw(
        hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True).filter(
            # torch has no negative slice steps
            lambda ix: all(
                not isinstance(i, slice) or i.step is None or i.step > 0
                for i in (ix if isinstance(ix, tuple) else (ix,))
            )
        )
    )
    return shape, index


@FEW
@given(case=basic_index_case(), seed=seeds)
def test_matches_torch_basic_indexing(case, seed: int) -> None:
    shape, index = case
    x = normal(np.random.default_rng(seed), shape)
    compare_with_torch(lambda a: a[index], lambda a: a[index], [x], seed)


@FEW
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
    index_shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6),
    seed=seeds,
)
def test_matches_torch_integer_array_indexing_with_repeats(shape, index_shape, seed: int) -> None:
    """Repeated indices must add up their gradients (np.add.at), not overwrite them."""
    rng = np.random.default_rng(seed)
    x = normal(rng, shape)
    index = rng.integers(-shape[0], shape[0], size=index_shape)
    compare_with_torch(lambda a: a[index], lambda a: a[torch.tensor(index)], [x], seed)


def test_matches_torch_pairwise_integer_indexing() -> None:
    """The pattern cross-entropy uses: one picked column per row, rows repeated."""
    rng = np.random.default_rng(1)
    x = normal(rng, (4, 5))
    rows, cols = np.array([0, 1, 1, 3, 0]), np.array([4, 2, 2, 0, 4])
    compare_with_torch(
        lambda a: a[rows, cols], lambda a: a[torch.tensor(rows), torch.tensor(cols)], [x]
    )
    compare_with_torch(lambda a: a[Tensor(rows)], lambda a: a[torch.tensor(rows)], [x])


@st.composite
def reshape_case(draw: st.DrawFn):
    shape = draw(shapes)
    size = int(np.prod(shape))
    target = draw(
        st.sampled_from([(size,), (-1,), (1, size), (size, 1), tuple(reversed(shape)), ()]).filter(
            lambda t: t != () or size == 1
        )
    )
    return shape, target


@FEW
@given(case=reshape_case(), seed=seeds)
def test_matches_torch_reshape(case, seed: int) -> None:
    shape, target = case
    x = normal(np.random.default_rng(seed), shape)
    compare_with_torch(lambda a: a.reshape(target), lambda a: a.reshape(target), [x], seed)


@FEW
@given(
    case=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4).flatmap(
        lambda s: st.tuples(st.just(s), st.permutations(range(len(s))))
    ),
    seed=seeds,
)
def test_matches_torch_transpose(case, seed: int) -> None:
    shape, axes = case
    x = normal(np.random.default_rng(seed), shape)
    compare_with_torch(lambda a: a.transpose(*axes), lambda a: a.permute(*axes), [x], seed)
    compare_with_torch(lambda a: a.T, lambda a: a.permute(*reversed(range(a.ndim))), [x], seed)


# ---------------------------------------------------------------- softmax family


@st.composite
def shape_and_one_axis(draw: st.DrawFn):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@pytest.mark.parametrize("op", ["log_softmax", "softmax"])
@FEW
@given(case=shape_and_one_axis(), seed=seeds, scale=st.sampled_from([1.0, 10.0, 1000.0]))
def test_matches_torch_softmax_family(op: str, case, seed: int, scale: float) -> None:
    """scale 1000 makes a naive exp overflow; the max-shift must keep it finite."""
    shape, axis = case
    x = scale * normal(np.random.default_rng(seed), shape)
    compare_with_torch(
        lambda a: getattr(a, op)(axis=axis), lambda a: getattr(a, op)(dim=axis), [x], seed
    )


@FEW
@given(case=shape_and_one_axis(), seed=seeds)
def test_log_softmax_backward_function_matches_torch(case, seed: int) -> None:
    shape, axis = case
    rng = np.random.default_rng(seed)
    x, upstream = normal(rng, shape), normal(rng, shape)
    tx = torch.tensor(x, requires_grad=True)
    torch.log_softmax(tx, dim=axis).backward(torch.tensor(upstream))
    got = log_softmax_backward(x, upstream, axis)
    np.testing.assert_allclose(got, tx.grad.numpy(), atol=ATOL, rtol=RTOL)


@FEW
@given(
    n=st.integers(1, 8), classes=st.integers(2, 6), seed=seeds, scale=st.sampled_from([1.0, 50.0])
)
def test_matches_torch_cross_entropy(n: int, classes: int, seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    logits = scale * normal(rng, (n, classes))
    targets = rng.integers(0, classes, size=n)
    compare_with_torch(
        lambda a: cross_entropy(a, targets),
        lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(targets)),
        [logits],
        seed,
    )


# ---------------------------------------------------------------- graphs, not single ops


def test_matches_torch_two_layer_network() -> None:
    rng = np.random.default_rng(3)
    x, targets = normal(rng, (6, 4)), rng.integers(0, 3, size=6)
    params = [normal(rng, (4, 5)), normal(rng, (5,)), normal(rng, (5, 3)), normal(rng, (3,))]

    def ours(w1, b1, w2, b2):
        return cross_entropy((Tensor(x) @ w1 + b1).tanh() @ w2 + b2, targets)

    def theirs(w1, b1, w2, b2):
        hidden = torch.tanh(torch.tensor(x) @ w1 + b1)
        return torch.nn.functional.cross_entropy(hidden @ w2 + b2, torch.tensor(targets))

    compare_with_torch(ours, theirs, params)


def test_matches_torch_when_a_tensor_is_used_many_times() -> None:
    """A node reached along several paths gets the sum of their gradients."""
    x = np.random.default_rng(4).standard_normal((3, 3))

    def graph(a, exp, matmul):
        b = a * a + a
        return (exp(b) @ matmul(b, a)) / (1.0 + a * a) - a

    compare_with_torch(
        lambda a: graph(a, lambda t: t.exp(), lambda s, t: s @ t),
        lambda a: graph(a, torch.exp, torch.matmul),
        [x],
    )


def test_gradients_accumulate_over_backward_calls_like_torch() -> None:
    a = Tensor([1.0, 2.0], requires_grad=True)
    ta = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    for _ in range(3):
        (a * a).sum().backward()
        (ta * ta).sum().backward()
    np.testing.assert_allclose(a.grad, ta.grad.numpy())
    a.zero_grad()
    assert a.grad is None


def test_deep_chain_does_not_hit_the_recursion_limit() -> None:
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.0001**5000)


def test_no_grad_records_no_graph() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        out = (w * 3).sum()
    assert not out.requires_grad and out._parents == ()
    assert (w * 3).requires_grad  # recording is back on after the block


def test_constants_get_no_gradient() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    (w * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])


def test_tensor_copies_its_input_and_defaults_to_float64() -> None:
    source = np.array([1, 2, 3])
    t = Tensor(source)
    t.data += 1
    assert t.dtype == np.float64
    np.testing.assert_array_equal(source, [1, 2, 3])
    assert Tensor([1.0], dtype=np.float32).dtype == np.float32


# ---------------------------------------------------------------- unbroadcast


@FEW
@given(shapes=broadcast_pairs, seed=seeds)
def test_unbroadcast_is_the_adjoint_of_broadcasting(shapes, seed: int) -> None:
    """<g, broadcast(x)> = <unbroadcast(g), x> for every x and g: the defining property."""
    small, other = shapes.input_shapes
    big = shapes.result_shape
    rng = np.random.default_rng(seed)
    x, g = normal(rng, small), normal(rng, big)
    reduced = unbroadcast(g, small)
    assert reduced.shape == small and isinstance(reduced, np.ndarray)
    np.testing.assert_allclose(
        (g * np.broadcast_to(x, big)).sum(), (reduced * x).sum(), atol=1e-9, rtol=1e-9
    )


def test_unbroadcast_sums_leading_and_size_one_dims() -> None:
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(g, (4,)), g.sum(axis=(0, 1)))
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), g.sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(unbroadcast(g, (1, 1, 4)), g.sum(axis=(0, 1), keepdims=True))
    np.testing.assert_array_equal(unbroadcast(g, ()), g.sum())
    np.testing.assert_array_equal(unbroadcast(g, (2, 3, 4)), g)


# ---------------------------------------------------------------- clear errors


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (
            lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones((4,))),
            ShapeError,
            "add: shapes (2, 3) and (4,)",
        ),
        (lambda: Tensor(np.ones((2, 3))) * np.ones((2,)), ShapeError, "mul: shapes"),
        (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5))), ShapeError, "(3) must equal"),
        (
            lambda: Tensor(np.ones(3)) @ Tensor(np.ones(4)),
            ShapeError,
            "matmul: shapes (3,) and (4,)",
        ),
        (lambda: Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 1))), ShapeError, "batch dims"),
        (lambda: Tensor(2.0) @ Tensor(np.ones(3)), ShapeError, "at least 1-D"),
        (lambda: Tensor(np.ones((2, 3))).reshape(4, 2), ShapeError, "6 elements"),
        (lambda: Tensor(np.ones((2, 3))).transpose(0, 0), ShapeError, "permutation"),
        (lambda: Tensor(np.ones((2, 3))).sum(axis=2), ShapeError, "axis 2 is out of range"),
        (lambda: Tensor(np.ones((2, 3))).log_softmax(axis=-3), ShapeError, "axis -3"),
        (lambda: Tensor(np.ones(3)) ** Tensor(2.0), TypeError, "exponent"),
        (lambda: cross_entropy(Tensor(np.ones(3)), [0]), ShapeError, "(N, C)"),
        (lambda: cross_entropy(Tensor(np.ones((2, 3))), [0, 1, 2]), ShapeError, "shape (2,)"),
        (lambda: cross_entropy(Tensor(np.ones((2, 3))), [0.0, 1.0]), TypeError, "integer"),
        (lambda: cross_entropy(Tensor(np.ones((2, 3))), [0, 3]), ValueError, "[0, 3)"),
        (lambda: unbroadcast(np.ones((2, 3)), (4,)), ShapeError, "unbroadcast"),
        (lambda: unbroadcast(np.ones(3), (2, 3)), ShapeError, "unbroadcast"),
    ],
)
def test_shape_mistakes_raise_clear_errors(make, error, words: str) -> None:
    with pytest.raises(error) as info:
        make()
    assert words in str(info.value)


def test_backward_errors_say_what_to_do() -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"needs grad=\.\.\. of that shape"):
        (x * 2).backward()
    with pytest.raises(ShapeError, match=r"grad has shape \(3,\), expected \(2, 3\)"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        Tensor(1.0).backward()
