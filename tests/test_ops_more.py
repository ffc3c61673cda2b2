"""The newer minikeras.ops (trigonometry, special functions, scans, sorting, shapes, indexing):
values against NumPy / math formulas and derivatives against float64 finite differences."""

import math
import warnings

import numpy as np
import pytest
from gradcheck import gradient_check, tape_grads

import minikeras
from minikeras import ops

RNG = np.random.default_rng(3)


def _u(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def _signed(*shape, low=0.5, high=1.5):
    """Values with |x| in [low, high] and random signs (away from 0)."""
    return _u(*shape, low=low, high=high) * np.where(_u(*shape) > 0, 1, -1)


_ERF = np.vectorize(math.erf)

UNARY = {  # name -> (reference formula, (low, high) inside the domain)
    "sin": (np.sin, (-3, 3)), "cos": (np.cos, (-3, 3)), "tan": (np.tan, (-1.2, 1.2)),
    "arcsin": (np.arcsin, (-0.9, 0.9)), "arccos": (np.arccos, (-0.9, 0.9)),
    "arctan": (np.arctan, (-3, 3)), "sinh": (np.sinh, (-3, 3)), "cosh": (np.cosh, (-3, 3)),
    "arcsinh": (lambda x: np.log(x + np.sqrt(x * x + 1)), (-3, 3)),
    "arccosh": (lambda x: np.log(x + np.sqrt(x * x - 1)), (1.1, 4)),
    "arctanh": (lambda x: 0.5 * np.log((1 + x) / (1 - x)), (-0.9, 0.9)),
    "expm1": (lambda x: np.exp(x) - 1, (-3, 3)), "exp2": (lambda x: 2.0**x, (-3, 3)),
    "log2": (lambda x: np.log(x) / np.log(2), (0.1, 4)),
    "log10": (lambda x: np.log(x) / np.log(10), (0.1, 4)),
    "reciprocal": (lambda x: 1 / x, (0.5, 3)), "cbrt": (lambda x: x ** (1 / 3), (0.1, 3)),
    "erf": (_ERF, (-3, 3)), "rsqrt": (lambda x: 1 / np.sqrt(x), (0.2, 4)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops(name):
    reference, (low, high) = UNARY[name]
    x = _u(3, 4, low=low, high=high)
    np.testing.assert_allclose(getattr(ops, name)(x), reference(x), rtol=1e-12, atol=1e-14)
    gradient_check(getattr(ops, name), x)


def test_cbrt_and_reciprocal_of_negative_numbers():
    x = _u(3, 4, low=-3, high=-0.5)
    np.testing.assert_allclose(ops.cbrt(x), -((-x) ** (1 / 3)), rtol=1e-12)
    gradient_check(ops.cbrt, x)
    gradient_check(ops.reciprocal, x)


@pytest.mark.parametrize("name", sorted(UNARY) + ["floor", "ceil", "round", "trunc"])
def test_float32_stays_float32(name):
    x = np.linspace(1.1, 1.9, 6, dtype=np.float32) * (0.5 if name in ("arcsin", "arccos",
                                                                      "arctanh") else 1)
    assert np.asarray(getattr(ops, name)(x)).dtype == np.float32


def test_rounding_ops_values_and_no_gradient():
    x = np.array([-2.5, -1.5, -0.7, -0.5, 0.5, 1.5, 2.5, 2.7])
    np.testing.assert_array_equal(ops.floor(x), np.floor(x))
    np.testing.assert_array_equal(ops.ceil(x), np.ceil(x))
    np.testing.assert_array_equal(ops.round(x), [-2, -2, -1, -0, 0, 2, 2, 3])  # half to even
    np.testing.assert_array_equal(ops.trunc(x), [-2, -1, -0, -0, 0, 1, 2, 2])
    np.testing.assert_allclose(ops.round(np.array([1.234, 15.0]), 1), [1.2, 15.0])
    v = minikeras.Variable(x)
    with minikeras.GradientTape() as tape:
        y = ops.floor(v) + ops.ceil(v) + ops.round(v) + ops.trunc(v) + ops.floor_divide(v, 2.0)
    assert tape.gradient(y, v) is None


BINARY = {  # name -> (reference, first operand, second operand)
    "arctan2": (np.arctan2, _u(3, 4), _signed(4)),
    "mod": (lambda a, b: a - np.floor(a / b) * b, _u(3, 4, low=-4, high=4), _signed(4)),
    "logaddexp": (lambda a, b: np.log(np.exp(a) + np.exp(b)), _u(3, 4, low=-4, high=4),
                  _u(4, low=-4, high=4)),
    "hypot": (lambda a, b: np.sqrt(a * a + b * b), _u(3, 4), _signed(3, 1)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops(name):
    reference, a, b = BINARY[name]
    if name == "mod":  # away from the jumps, where a / b is an integer
        a = np.where(np.abs(a / b - np.round(a / b)) < 1e-2, a + 0.05, a)
    np.testing.assert_allclose(getattr(ops, name)(a, b), reference(a, b), rtol=1e-12)
    gradient_check(getattr(ops, name), a, b)


def test_logaddexp_is_stable_and_ties_follow_tensorflow():
    a, b = np.array([1000.0, -1000.0, 2.0]), np.array([-1000.0, 1000.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ops.logaddexp(a, b)
    np.testing.assert_allclose(out, [1000.0, 1000.0, 2 + np.log(2)])
    d_a, d_b = tape_grads(ops.logaddexp, [a, b], [0, 1], np.ones(3))
    np.testing.assert_allclose(d_a, [1, 0, 1])  # at the tie: all to x1, as TF's max and |.|
    np.testing.assert_allclose(d_b, [0, 1, 0])


def test_creation_ops():
    assert ops.arange(5).dtype == "int32" and ops.arange(0.0, 1.0, 0.25).dtype == "float32"
    np.testing.assert_array_equal(ops.arange(2, 11, 3), [2, 5, 8])
    assert ops.ones((2, 3)).dtype == "float32" and ops.zeros(4, "int32").dtype == "int32"
    np.testing.assert_array_equal(ops.full((2, 2), 7), [[7.0, 7.0], [7.0, 7.0]])
    np.testing.assert_array_equal(ops.eye(3, 4, 1), np.eye(3, 4, 1))
    np.testing.assert_array_equal(ops.identity(2), np.eye(2))
    np.testing.assert_array_equal(ops.tri(3, 4, -1), np.tri(3, 4, -1))
    np.testing.assert_array_equal(ops.empty((2, 1)), [[0.0], [0.0]])
    np.testing.assert_allclose(ops.linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1])
    assert ops.full_like(np.arange(3), 2).dtype == np.arange(3).dtype


# --- reductions and scans ------------------------------------------------------------------------
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
def test_prod_std_var(axis, keepdims):
    x = _signed(2, 3, 4)
    np.testing.assert_allclose(ops.prod(x, axis, keepdims), np.prod(x, axis, keepdims=keepdims))
    np.testing.assert_allclose(ops.std(x, axis, keepdims), np.std(x, axis, keepdims=keepdims))
    np.testing.assert_allclose(ops.var(x, axis, keepdims), np.var(x, axis, keepdims=keepdims))
    for name in ["prod", "std", "var"]:
        gradient_check(lambda t, n=name: getattr(ops, n)(t, axis=axis, keepdims=keepdims), x)


def test_prod_gradient_with_zeros_needs_no_division():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    grad = tape_grads(lambda t: ops.prod(t, axis=1), [x], [0], np.ones(2))[0]
    np.testing.assert_array_equal(grad, [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    gradient_check(lambda t: ops.prod(t, axis=1), x)


@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=str)
def test_cumsum_cumprod(axis):
    x = _signed(2, 3, 4)
    np.testing.assert_allclose(ops.cumsum(x, axis), np.cumsum(x, axis))
    np.testing.assert_allclose(ops.cumprod(x, axis), np.cumprod(x, axis))
    gradient_check(lambda t: ops.cumsum(t, axis), x)
    gradient_check(lambda t: ops.cumprod(t, axis), x)


@pytest.mark.parametrize("axis", [None, 0, -1], ids=str)
def test_sort_gradient_follows_the_permutation(axis):
    x = _u(3, 5)
    expected = np.sort(x, axis=axis)
    np.testing.assert_array_equal(ops.sort(x, axis), expected)
    np.testing.assert_array_equal(ops.argsort(x, axis), np.argsort(x, axis=axis))
    gradient_check(lambda t: ops.sort(t, axis), x)


def test_logic_reductions():
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(ops.all(x > 0, axis=1), [False, False])
    np.testing.assert_array_equal(ops.any(x > 0, axis=0), [False, True, True])
    assert ops.count_nonzero(x).dtype == "int32" and int(ops.count_nonzero(x)) == 3


# --- shapes and indexing -------------------------------------------------------------------------
X = _u(2, 3, 4)
SHAPE_OPS = {
    "tile": lambda t: ops.tile(t, (2, 1, 3)), "tile_more_axes": lambda t: ops.tile(t, (2, 1, 1, 2)),
    "repeat": lambda t: ops.repeat(t, 2), "repeat_axis": lambda t: ops.repeat(t, [1, 0, 3], 1),
    "flip": lambda t: ops.flip(t, (0, 2)), "roll": lambda t: ops.roll(t, (1, 2), (0, 2)),
    "roll_flat": lambda t: ops.roll(t, 5), "swapaxes": lambda t: ops.swapaxes(t, 0, 2),
    "moveaxis": lambda t: ops.moveaxis(t, (0, 1), (2, 0)),
    "broadcast_to": lambda t: ops.broadcast_to(t, (5, 2, 3, 4)),
    "tril": lambda t: ops.tril(t, -1), "triu": lambda t: ops.triu(t, 1),
    "diagonal": lambda t: ops.diagonal(t, 1, 1, 2), "diagonal_neg": lambda t: ops.diagonal(t, -1),
    "trace": lambda t: ops.trace(t, 1, 1, 2),
    "split": lambda t: ops.concatenate([p * (k + 1.0) for k, p in
                                        enumerate(ops.split(t, [1, 3], axis=2))], axis=2),
    "take_along_axis": lambda t: ops.take_along_axis(t, np.array([[[3, 0], [1, 1], [2, -1]]]), -1),
    "take_along_axis_flat": lambda t: ops.take_along_axis(t, np.array([0, 5, 5, 23])),
    "pad": lambda t: ops.pad(t, ((0, 1), (2, 0), (1, 1)), constant_values=1.5),
    "pad_reflect": lambda t: ops.pad(t, ((1, 1), (1, 2), (2, 3)), "reflect"),
    "pad_symmetric": lambda t: ops.pad(t, ((1, 1), (2, 2), (3, 1)), "symmetric"),
    "einsum": lambda t: ops.einsum("bij,jk->bik", t, np.arange(12.0).reshape(4, 3)),
    "einsum_sum_away": lambda t: ops.einsum("bij->b", t),
    "tensordot": lambda t: ops.tensordot(t, np.ones((3, 4, 2)), 2),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_op_gradients(name):
    gradient_check(SHAPE_OPS[name], X)


def test_shape_op_values():
    np.testing.assert_array_equal(ops.tile(X, (2, 1, 3)), np.tile(X, (2, 1, 3)))
    np.testing.assert_array_equal(ops.repeat(X, [1, 0, 3], 1), np.repeat(X, [1, 0, 3], 1))
    np.testing.assert_array_equal(ops.roll(X, 5), np.roll(X, 5))
    np.testing.assert_array_equal(ops.diagonal(X, 1, 1, 2), np.diagonal(X, 1, 1, 2))
    np.testing.assert_allclose(ops.trace(X, 1, 1, 2), np.trace(X, 1, 1, 2))
    np.testing.assert_array_equal(ops.pad(X, ((1, 1), (1, 2), (2, 3)), "reflect"),
                                  np.pad(X, ((1, 1), (1, 2), (2, 3)), "reflect"))
    np.testing.assert_allclose(ops.tensordot(X, np.ones((3, 4, 2)), 2),
                               np.tensordot(X, np.ones((3, 4, 2)), 2))
    np.testing.assert_array_equal(ops.outer([1.0, 2.0], [3.0, 4.0, 5.0]),
                                  np.outer([1, 2], [3, 4, 5]))


def test_diag_and_outer_gradients():
    gradient_check(lambda t: ops.diag(t, 1), _u(4))
    gradient_check(lambda t: ops.diag(t, -1), _u(3, 4))
    gradient_check(ops.outer, _u(3), _u(2, 2))


@pytest.mark.parametrize("subscripts, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("i,j->ij", [(3,), (4,)]), ("ij->i", [(2, 3)]),
    ("ij,jk", [(2, 3), (3, 4)]), ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
], ids=str)
def test_einsum(subscripts, shapes):
    args = [_u(*s) for s in shapes]
    np.testing.assert_allclose(ops.einsum(subscripts, *args), np.einsum(subscripts, *args))
    gradient_check(lambda *xs: ops.einsum(subscripts, *xs), *args)


def test_nan_to_num_and_predicates():
    x = np.array([np.nan, np.inf, -np.inf, 1.5])
    np.testing.assert_array_equal(ops.isnan(x), [True, False, False, False])
    np.testing.assert_array_equal(ops.isinf(x), [False, True, True, False])
    np.testing.assert_array_equal(ops.isfinite(x), [False, False, False, True])
    np.testing.assert_array_equal(ops.nan_to_num(x, posinf=9.0, neginf=-9.0), [0, 9, -9, 1.5])
    grad = tape_grads(ops.nan_to_num, [x], [0], np.ones(4))[0]
    np.testing.assert_array_equal(grad, [0, 0, 0, 1])
    np.testing.assert_array_equal(ops.logical_xor([1, 0, 1], [1, 1, 0]), [False, True, True])
    np.testing.assert_array_equal(ops.logical_not([0.0, 2.0]), [True, False])


# --- small conveniences --------------------------------------------------------------------------
@pytest.mark.parametrize("ord_, axis", [(None, None), (2, 1), (1, 0), (3, -1), (np.inf, 1),
                                        (-np.inf, 0), ("fro", (0, 1)), (1, (0, 1)),
                                        (-1, (1, 0)), (np.inf, (0, 1)), (-np.inf, (0, 1))],
                         ids=str)
def test_norm(ord_, axis):
    x = _signed(3, 4)
    np.testing.assert_allclose(ops.norm(x, ord_, axis), np.linalg.norm(x, ord_, axis))
    gradient_check(lambda t: ops.norm(t, ord_, axis), x)


def test_moments():
    x = _u(2, 3, 4)
    mean, variance = ops.moments(x, [0, 2])
    np.testing.assert_allclose(mean, x.mean((0, 2)))
    np.testing.assert_allclose(variance, x.var((0, 2)))
    gradient_check(lambda t: ops.moments(t, [0, 2])[0], x)
    gradient_check(lambda t: ops.moments(t, [0, 2], keepdims=True)[1], x)


def test_top_k_unstack_divide_no_nan():
    x = _u(3, 6)
    values, indices = ops.top_k(x, 2)
    np.testing.assert_array_equal(values, -np.sort(-x, axis=-1)[:, :2])
    assert indices.dtype == "int32"
    gradient_check(lambda t: ops.top_k(t, 2)[0], x)
    gradient_check(lambda t: ops.stack(ops.unstack(t, axis=1)[::-1], axis=1), x)
    b = np.array([0.5, 0.0, -1.5, 0.0, 2.0, 1.0])
    np.testing.assert_array_equal(ops.divide_no_nan(x, b)[:, 1], 0)
    gradient_check(ops.divide_no_nan, x, b, wrt=[0])  # x2 = 0 is a pole: d/dx2 is set to 0
    gradient_check(ops.divide_no_nan, x, _signed(6))
    gradient_check(ops.fabs, _signed(4))
    gradient_check(lambda s, t: ops.append(s, t), x, _u(2))


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "nearest", "midpoint"])
@pytest.mark.parametrize("q, axis", [(0.3, None), ([0.1, 0.5, 0.95], 1), (0.5, (0, 2))],
                         ids=str)
def test_quantile(method, q, axis):
    x = _u(2, 5, 4)
    # a list of q becomes a floatx (float32) tensor first, as in Keras: hence rtol 1e-6
    np.testing.assert_allclose(ops.quantile(x, q, axis=axis, method=method),
                               np.quantile(x, q, axis=axis, method=method), rtol=1e-6)
    gradient_check(lambda t: ops.quantile(t, q, axis=axis, method=method), x)
    np.testing.assert_allclose(ops.median(x, axis=axis), np.median(x, axis=axis))


def test_average_diff_select_segment_sum_normalize_gradients():
    x, w = _u(3, 4), _u(3, 4, low=0.5, high=2)
    gradient_check(lambda t, v: ops.average(t, axis=1, weights=v), x, w)
    gradient_check(lambda t, v: ops.average(t, axis=0, weights=v), x, w[:, 0])
    np.testing.assert_allclose(ops.average(x, axis=0, weights=w[:, 0]),
                               np.average(x, axis=0, weights=w[:, 0]))
    gradient_check(lambda t: ops.diff(t, 2, 1), x)
    np.testing.assert_allclose(ops.diff(x, 2, 1), np.diff(x, 2, 1))
    conditions = [x > 0.5, x < -0.5]
    gradient_check(lambda s, t: ops.select(conditions, [s, t], -3.0), x, _u(3, 4))
    ids = np.array([2, 0, 1])
    np.testing.assert_allclose(ops.segment_sum(x, ids), x[[1, 2, 0]])
    gradient_check(lambda t: ops.segment_sum(t, np.array([0, 1, 0]), 2), x)
    for axis, order in [(-1, 2), (0, 1), (-1, 3)]:
        gradient_check(lambda t, a=axis, o=order: ops.normalize(t, a, o), x)
    np.testing.assert_allclose(ops.normalize(x), x / np.linalg.norm(x, axis=-1, keepdims=True))
    gradient_check(ops.deg2rad, x)
    np.testing.assert_allclose(ops.rad2deg(np.pi), 180.0, rtol=1e-6)


def test_last_batch_values_and_gradients():
    a = _u(3, 4, low=-4, high=4)
    b = _signed(4)
    a = np.where(np.abs(a / b - np.round(a / b)) < 1e-2, a + 0.05, a)
    np.testing.assert_allclose(ops.fmod(a, b), np.fmod(a, b))
    gradient_check(ops.fmod, a, b)
    np.testing.assert_allclose(ops.logaddexp2(a, b), np.logaddexp2(a, b))
    gradient_check(ops.logaddexp2, a, b)
    x = _u(3, 4, low=-3, high=3)
    np.testing.assert_allclose(ops.erfc(x), np.vectorize(math.erfc)(x), rtol=1e-12)
    gradient_check(ops.erfc, x)
    y = _u(4)
    np.testing.assert_allclose(ops.inner(X, y), np.inner(X, y))
    np.testing.assert_allclose(ops.vdot(X, X), np.vdot(X, X))
    gradient_check(ops.inner, X, y)
    gradient_check(ops.vdot, x, _u(3, 4))
    np.testing.assert_allclose(ops.ptp(x, 0), np.ptp(x, 0))
    gradient_check(lambda t: ops.ptp(t, 1), x)
    for k in [1, 2, 3, -1]:
        np.testing.assert_array_equal(ops.rot90(X, k, (1, 2)), np.rot90(X, k, (1, 2)))
        gradient_check(lambda t, k=k: ops.rot90(t, k, (2, 0)), X)
    pieces = ops.array_split(_u(5, 2), 3)
    assert [p.shape for p in pieces] == [(2, 2), (2, 2), (1, 2)]
    gradient_check(lambda t: ops.concatenate([p * (i + 1.0) for i, p in
                                              enumerate(ops.array_split(t, 3))]), _u(5, 2))
    gradient_check(lambda s, t: ops.dstack([s, t]), x, _u(3, 4))


@pytest.mark.parametrize("name", ["nansum", "nanmean", "nanmax", "nanmin"])
def test_nan_reductions_skip_nans_and_give_them_no_gradient(name):
    x = _u(3, 4)
    x[0, 1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(getattr(ops, name)(x, axis=1), getattr(np, name)(x, axis=1))
    gradient_check(lambda t: getattr(ops, name)(t, axis=1), x)
    grad = tape_grads(lambda t: getattr(ops, name)(t), [x], [0], np.ones(()))[0]
    assert grad[0, 1] == 0 and np.all(np.isfinite(grad))


def test_in_top_k_counts_ties_as_in():
    predictions = np.array([[0.1, 0.5, 0.5, 0.2], [0.3, np.nan, 0.1, 0.2]])
    np.testing.assert_array_equal(ops.in_top_k(np.array([2, 0]), predictions, 1), [True, False])
