"""The rest of minikeras.ops against keras.ops (TensorFlow backend): creation, trigonometry and
special functions, scans and sorting, shapes, indexing and logic.

As in test_ops_parity.py: the same float32 inputs, forward values (and dtypes) equal to rtol 1e-5,
atol 1e-6, and gradients of ``sum(f(x) * r)`` equal to ``tf.GradientTape``'s.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_ops_parity import assert_parity

import minikeras
from minikeras import ops as mk

RNG = np.random.default_rng(11)


def _f32(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape).astype("float32")


def _same(ours, theirs):
    """Equal values, shapes and dtypes (for ops without gradients)."""
    theirs = np.asarray(theirs)
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


# --- creation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs", [
    ((5,), {}), ((1, 7), {}), ((1, 7, 2), {}), ((0.0, 1.0, 0.25), {}), ((2, 9.5), {}),
    ((5,), {"dtype": "float32"}), ((10, 0, -3), {}),
], ids=str)
def test_arange_parity(args, kwargs):
    _same(mk.arange(*args, **kwargs), keras.ops.arange(*args, **kwargs))


@pytest.mark.parametrize("name, args, kwargs", [
    ("ones", ((2, 3),), {}), ("ones", ((4,),), {"dtype": "int32"}), ("zeros", ((2, 3),), {}),
    ("zeros", ((3,),), {"dtype": "bool"}), ("full", ((2, 3), 1.5), {}),
    ("full", ((2, 3), 4), {"dtype": "int32"}), ("full", ((3,), 7), {}),
    ("eye", (3,), {}), ("eye", (3, 4), {}), ("eye", (4, 3, 1), {}), ("eye", (3, 4, -1), {}),
    ("eye", (3,), {"dtype": "int32"}), ("identity", (4,), {}), ("tri", (3,), {}),
    ("tri", (3, 5, 1), {}), ("tri", (4, 3, -1), {}), ("tri", (3,), {"dtype": "int32"}),
    ("empty", ((2, 3),), {}),
    ("linspace", (0.0, 1.0, 5), {}), ("linspace", (0, 10, 4), {}),
    ("linspace", (0.0, 1.0, 5), {"endpoint": False}), ("linspace", (0, 10, 7), {"dtype": "int32"}),
    ("linspace", (np.array([0.0, 1.0], "float32"), np.array([1.0, 3.0], "float32"), 4), {}),
    ("linspace", (np.array([0.0, 1.0], "float32"), np.array([1.0, 3.0], "float32"), 4),
     {"axis": 1}),
], ids=str)
def test_creation_parity(name, args, kwargs):
    _same(getattr(mk, name)(*args, **kwargs), getattr(keras.ops, name)(*args, **kwargs))


def test_linspace_retstep_and_full_like_parity():
    ours, step = mk.linspace(0.0, 2.0, 5, retstep=True)
    theirs, k_step = keras.ops.linspace(0.0, 2.0, 5, retstep=True)
    _same(ours, theirs)
    _same(step, k_step)
    x = _f32(2, 3)
    _same(mk.full_like(x, 2.5), keras.ops.full_like(x, 2.5))
    _same(mk.full_like(x, 3, dtype="int32"), keras.ops.full_like(x, 3, dtype="int32"))
    ints = np.arange(6, dtype="int32").reshape(2, 3)
    _same(mk.full_like(ints, 3), keras.ops.full_like(ints, 3))


# --- elementwise math ----------------------------------------------------------------------------
UNARY = {  # name -> (low, high): inside each op's domain, away from its poles
    "sin": (-3, 3), "cos": (-3, 3), "tan": (-1.2, 1.2), "arcsin": (-0.9, 0.9),
    "arccos": (-0.9, 0.9), "arctan": (-3, 3), "sinh": (-3, 3), "cosh": (-3, 3),
    "arcsinh": (-3, 3), "arccosh": (1.1, 4), "arctanh": (-0.9, 0.9), "expm1": (-3, 3),
    "exp2": (-3, 3), "log2": (0.1, 4), "log10": (0.1, 4), "reciprocal": (0.5, 3),
    "cbrt": (0.1, 3), "erf": (-3, 3), "rsqrt": (0.2, 4),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_parity(name):
    low, high = UNARY[name]
    assert_parity(getattr(mk, name), getattr(keras.ops, name), _f32(3, 5, low=low, high=high))


def test_reciprocal_and_cbrt_of_negative_numbers_parity():
    assert_parity(mk.reciprocal, keras.ops.reciprocal, _f32(3, 4, low=-3, high=-0.5))
    assert_parity(mk.cbrt, keras.ops.cbrt, _f32(3, 4, low=-3, high=-0.1))


@pytest.mark.parametrize("name", ["sin", "cos", "arctan", "expm1", "exp2", "log2", "log10",
                                  "cbrt", "floor", "ceil", "erf"])
def test_unary_ops_turn_integers_into_floatx(name):
    """(Keras's erf rejects integers; minikeras's takes them as floatx like the others.)"""
    ints = np.array([[1, 2, 3], [4, 5, 6]], dtype="int32")
    theirs = getattr(keras.ops, name)(ints if name != "erf" else ints.astype("float32"))
    _same(getattr(mk, name)(ints), theirs)


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_rounding_ops_parity_and_zero_gradient(name):
    x = np.concatenate([_f32(12, low=-3, high=3),
                        np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.0, 3.0], "float32")])
    assert_parity(getattr(mk, name), getattr(keras.ops, name), x, wrt=[])
    v = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(v)
        y = getattr(keras.ops, name)(v)
    k_grad = tape.gradient(y, v)
    assert k_grad is None or not np.any(k_grad)  # Keras: no gradient (or zeros)
    t = minikeras.Tensor(x)
    with minikeras.GradientTape() as mk_tape:
        mk_tape.watch(t)
        out = getattr(mk, name)(t)
    grad = mk_tape.gradient(out, t, unconnected_gradients="zero")
    assert grad is not None and not np.any(np.asarray(grad))


def test_round_decimals_and_integer_rounding_parity():
    x = _f32(3, 4, low=-30, high=30)
    for decimals in [1, 2, -1]:
        _same(mk.round(x, decimals), keras.ops.round(x, decimals))
    ints = np.array([[-7, 3, 15], [24, -26, 0]], dtype="int32")
    for name in ["round", "trunc"]:
        _same(getattr(mk, name)(ints), getattr(keras.ops, name)(ints))


BINARY = {"arctan2": (-2, 2), "mod": (0.5, 2), "logaddexp": (-4, 4), "hypot": (-3, 3)}
SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((2, 3), ())]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_parity(name, shapes):
    low, high = BINARY[name]
    a = _f32(*shapes[0], low=-4, high=4)
    b = _f32(*shapes[1], low=low, high=high)
    if name == "mod":  # both signs of the divisor, away from 0
        b = b * np.where(_f32(*shapes[1]) > 0, 1, -1).astype("float32")
        # away from the jumps, where x1 / x2 is an integer
        a = np.where(np.abs(a / b - np.round(a / b)) < 1e-2, a + 0.05, a).astype("float32")
    assert_parity(getattr(mk, name), getattr(keras.ops, name), a, b)


def test_logaddexp_ties_and_large_gaps_follow_tensorflow():
    a = np.array([1.0, -2.0, 0.0, 100.0, -100.0, 3.0], dtype="float32")
    b = np.array([1.0, -2.0, 0.0, -100.0, 100.0, 3.5], dtype="float32")
    assert_parity(mk.logaddexp, keras.ops.logaddexp, a, b)


def test_floor_divide_parity():
    a = _f32(3, 4, low=-5, high=5)
    b = _f32(4, low=0.5, high=2) * np.array([1, -1, 1, -1], "float32")
    assert_parity(mk.floor_divide, keras.ops.floor_divide, a, b, wrt=[])
    ints, divisors = np.array([[7, -7, 8, 0]], "int32"), np.array([2, 2, -3, 5], "int32")
    _same(mk.floor_divide(ints, divisors), keras.ops.floor_divide(ints, divisors))
    _same(mk.mod(ints, divisors), keras.ops.mod(ints, divisors))
    _same(mk.floor_divide(ints, 2.0), keras.ops.floor_divide(ints, 2.0))


# --- reductions and scans ------------------------------------------------------------------------
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", ["prod", "std", "var"])
def test_reduction_parity(name, axis, keepdims):
    x = _f32(2, 3, 4, low=0.5, high=1.5) * np.where(_f32(2, 3, 4) > 0, 1, -1).astype("float32")
    assert_parity(lambda t: getattr(mk, name)(t, axis=axis, keepdims=keepdims),
                  lambda t: getattr(keras.ops, name)(t, axis=axis, keepdims=keepdims), x)


def test_prod_with_zeros_has_tensorflows_gradient():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 5.0], [1.5, 2.0, -1.0]], dtype="float32")
    for axis in [None, 0, 1]:
        assert_parity(lambda t, a=axis: mk.prod(t, axis=a),
                      lambda t, a=axis: keras.ops.prod(t, axis=a), x)


def test_integer_reductions_dtypes_parity():
    ints = np.array([[1, 2, 3], [4, 5, 6]], dtype="int8")
    for name in ["prod", "std", "var", "cumsum", "cumprod", "trace"]:
        _same(getattr(mk, name)(ints), getattr(keras.ops, name)(ints))
    flags = np.array([[True, False], [True, True]])
    for name in ["prod", "cumsum", "cumprod"]:
        _same(getattr(mk, name)(flags), getattr(keras.ops, name)(flags))


@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scan_parity(name, axis):
    x = _f32(2, 3, 4, low=0.5, high=1.5)
    assert_parity(lambda t: getattr(mk, name)(t, axis=axis),
                  lambda t: getattr(keras.ops, name)(t, axis=axis), x)


def test_cumprod_with_zeros_has_tensorflows_gradient():
    x = np.array([[1.5, 0.0, 2.0, 3.0], [0.0, 2.0, 0.0, 1.0]], dtype="float32")
    assert_parity(lambda t: mk.cumprod(t, axis=1), lambda t: keras.ops.cumprod(t, axis=1), x)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)], ids=str)
def test_logic_reductions_parity(axis):
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]], dtype="float32")
    flags = x > 0
    for name in ["all", "any"]:
        for keepdims in [False, True]:
            _same(getattr(mk, name)(flags, axis=axis, keepdims=keepdims),
                  getattr(keras.ops, name)(flags, axis=axis, keepdims=keepdims))
    _same(mk.count_nonzero(x, axis=axis), keras.ops.count_nonzero(x, axis=axis))


@pytest.mark.parametrize("axis", [None, 0, -1], ids=str)
def test_sort_and_argsort_parity(axis):
    x = _f32(3, 5)
    assert_parity(lambda t: mk.sort(t, axis=axis), lambda t: keras.ops.sort(t, axis=axis), x)
    _same(mk.argsort(x, axis=axis), keras.ops.argsort(x, axis=axis))
    ties = np.array([[2.0, 1.0, 2.0, 1.0, 0.0], [3.0, 3.0, 3.0, -1.0, 3.0]], "float32")
    _same(mk.argsort(ties, axis=axis), keras.ops.argsort(ties, axis=axis))
    ints = np.array([[3, 1, 2], [0, -5, 9]], dtype="int32")
    _same(mk.sort(ints, axis=axis), keras.ops.sort(ints, axis=axis))


# --- shapes and indexing -------------------------------------------------------------------------
X = _f32(2, 3, 4)


@pytest.mark.parametrize("name, args", [
    ("tile", (2,)), ("tile", ((2, 1, 3),)), ("tile", ((2, 1, 1, 2),)), ("tile", ((3, 1),)),
    ("repeat", (2,)), ("repeat", (2, 1)), ("repeat", ([1, 0, 3], 1)), ("repeat", (3, -1)),
    ("flip", ()), ("flip", (1,)), ("flip", ((0, 2),)),
    ("roll", (2,)), ("roll", (-1, 1)), ("roll", ((1, 2), (0, 2))),
    ("swapaxes", (0, 2)), ("swapaxes", (-1, 1)), ("moveaxis", (0, -1)),
    ("moveaxis", ((0, 1), (2, 0))), ("broadcast_to", ((5, 2, 3, 4),)),
    ("tril", ()), ("tril", (1,)), ("tril", (-1,)), ("triu", ()), ("triu", (2,)), ("triu", (-1,)),
    ("diagonal", ()), ("diagonal", (1,)), ("diagonal", (-1, 1, 2)), ("diagonal", (1, 2, 0)),
    ("trace", ()), ("trace", (1, 1, 2)), ("trace", (-1, 0, 2)),
], ids=str)
def test_shape_op_parity(name, args):
    assert_parity(lambda t: getattr(mk, name)(t, *args),
                  lambda t: getattr(keras.ops, name)(t, *args), X)


def test_broadcast_to_from_size_one_axes_parity():
    assert_parity(lambda t: mk.broadcast_to(t, (2, 3, 4)),
                  lambda t: keras.ops.broadcast_to(t, (2, 3, 4)), _f32(3, 1))


@pytest.mark.parametrize("k", [0, 1, -2])
def test_diag_parity(k):
    assert_parity(lambda t: mk.diag(t, k), lambda t: keras.ops.diag(t, k), _f32(4))
    assert_parity(lambda t: mk.diag(t, k), lambda t: keras.ops.diag(t, k), _f32(3, 4))


@pytest.mark.parametrize("sections, axis", [(3, 1), ([1, 3], 2), (2, 0), ([2], -1)], ids=str)
def test_split_parity(sections, axis):
    def weighted(lib):  # each piece scaled differently, so every piece's gradient is checked
        return lambda t: lib.concatenate(
            [p * (k + 1.0) for k, p in enumerate(lib.split(t, sections, axis=axis))], axis=axis)

    assert_parity(weighted(mk), weighted(keras.ops), _f32(2, 3, 4))


def test_outer_parity():
    assert_parity(mk.outer, keras.ops.outer, _f32(3), _f32(4))
    assert_parity(mk.outer, keras.ops.outer, _f32(2, 2), _f32(3))


@pytest.mark.parametrize("subscripts, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]),
    ("i,i->", [(4,), (4,)]), ("i,j->ij", [(3,), (4,)]), ("ij->ji", [(2, 3)]),
    ("ij->i", [(2, 3)]), ("ij,jk", [(2, 3), (3, 4)]), ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("abc,cd->abd", [(2, 3, 4), (4, 5)]), ("ij,kj->", [(2, 3), (4, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]), ("bii->b", [(2, 3, 3)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
], ids=str)
def test_einsum_parity(subscripts, shapes):
    args = [_f32(*s) for s in shapes]
    assert_parity(lambda *xs: mk.einsum(subscripts, *xs),
                  lambda *xs: keras.ops.einsum(subscripts, *xs), *args)


@pytest.mark.parametrize("axes, shapes", [
    (2, [(2, 3, 4), (3, 4, 5)]), (1, [(2, 3), (3, 4)]), (0, [(2, 3), (4,)]),
    (([0], [1]), [(3, 2), (4, 3)]), (([1, 0], [0, 1]), [(2, 3, 4), (3, 2)]),
], ids=str)
def test_tensordot_parity(axes, shapes):
    assert_parity(lambda a, b: mk.tensordot(a, b, axes),
                  lambda a, b: keras.ops.tensordot(a, b, axes), *[_f32(*s) for s in shapes])


@pytest.mark.parametrize("axis, indices", [
    (0, [[[1, 0, 1, 1]], [[0, 0, 1, 0]]]), (-1, [[[3, 0], [1, 1], [2, -1]]] * 2),
    (1, [[[2, 2, 0, 1]]]), (None, [0, 5, 5, 23]),
], ids=str)
def test_take_along_axis_parity(axis, indices):
    indices = np.array(indices, dtype="int32")
    if axis == 0:
        indices = indices.reshape(2, 1, 4)
    assert_parity(lambda t: mk.take_along_axis(t, indices, axis=axis),
                  lambda t: keras.ops.take_along_axis(t, indices, axis=axis), X)


@pytest.mark.parametrize("pad_width, mode, value", [
    (((1, 1),) * 3, "constant", None), (((0, 1), (2, 0), (1, 1)), "constant", None),
    (((1, 1), (0, 0), (2, 1)), "constant", 1.5), (((1, 1), (1, 2), (2, 3)), "reflect", None),
    (((1, 1), (2, 2), (3, 1)), "symmetric", None),
], ids=str)
def test_pad_parity(pad_width, mode, value):
    assert_parity(lambda t: mk.pad(t, pad_width, mode, value),
                  lambda t: keras.ops.pad(t, pad_width, mode, value), X)


def test_pad_rejects_constant_values_outside_constant_mode():
    with pytest.raises(ValueError, match="constant_values"):
        mk.pad(X, 1, "reflect", 2.0)


def test_predicates_logic_and_nan_to_num_parity():
    x = np.array([[np.nan, np.inf, -np.inf, 0.0, -1.5, 2.0]], dtype="float32")
    for name in ["isnan", "isinf", "isfinite"]:
        _same(getattr(mk, name)(x), getattr(keras.ops, name)(x))
    ints = np.array([0, 1, -2], "int32")
    for name in ["isnan", "isinf", "isfinite"]:
        _same(getattr(mk, name)(ints), getattr(keras.ops, name)(ints))
    a, b = np.array([0.0, 1.0, 2.0, 0.0], "float32"), np.array([1, 0, 3, 0], "int32")
    for name in ["logical_and", "logical_or", "logical_xor"]:
        _same(getattr(mk, name)(a, b), getattr(keras.ops, name)(a, b))
    _same(mk.logical_not(a), keras.ops.logical_not(a))
    assert_parity(mk.nan_to_num, keras.ops.nan_to_num, x)
    assert_parity(lambda t: mk.nan_to_num(t, nan=1.0, posinf=9.0, neginf=-9.0),
                  lambda t: keras.ops.nan_to_num(t, nan=1.0, posinf=9.0, neginf=-9.0), x)


# --- small conveniences: norms, moments, top_k, stacking -----------------------------------------
@pytest.mark.parametrize("ord_, axis, keepdims", [
    (None, None, False), (None, -1, False), (2, 0, True), (1, 1, False), (3, -1, False),
    (np.inf, 1, False), (-np.inf, 0, False), (0, 1, False), (None, (0, 1), False),
    ("fro", (0, 1), True), (1, (0, 1), False), (-1, (1, 0), False), (np.inf, (0, 1), True),
    (-np.inf, (0, 1), False),
], ids=str)
def test_norm_parity(ord_, axis, keepdims):
    x = _f32(3, 4, low=0.5, high=1.5) * np.where(_f32(3, 4) > 0, 1, -1).astype("float32")
    assert_parity(lambda t: mk.norm(t, ord_, axis, keepdims),
                  lambda t: keras.ops.norm(t, ord_, axis, keepdims), x,
                  wrt=[] if ord_ == 0 else None)  # counting nonzeros has no gradient


@pytest.mark.parametrize("axes, keepdims", [([0], False), ([0, 1], True), ([-1], False)],
                         ids=str)
def test_moments_parity(axes, keepdims):
    for i in range(2):
        assert_parity(lambda t, i=i: mk.moments(t, axes, keepdims)[i],
                      lambda t, i=i: keras.ops.moments(t, axes, keepdims)[i], _f32(2, 3, 4))


def test_top_k_parity():
    x = _f32(3, 6)
    x[0, :3] = 0.5  # ties: the lower index first
    for k in [1, 3]:
        assert_parity(lambda t, k=k: mk.top_k(t, k)[0], lambda t, k=k: keras.ops.top_k(t, k)[0],
                      x)
        _same(mk.top_k(x, k)[1], keras.ops.top_k(x, k)[1])


def test_small_conveniences_parity():
    a, b = _f32(2, 3), _f32(2, 3)
    for name in ["ravel", "copy", "fabs"]:
        assert_parity(getattr(mk, name), getattr(keras.ops, name), a)
    assert mk.ndim(a) == keras.ops.ndim(a)
    _same(mk.size(a), keras.ops.size(a))
    for axis in [None, 0, 1]:
        assert_parity(lambda s, t, axis=axis: mk.append(s, t, axis),
                      lambda s, t, axis=axis: keras.ops.append(s, t, axis), a, b)
    for name in ["hstack", "vstack"]:
        assert_parity(lambda s, t, n=name: getattr(mk, n)([s, t]),
                      lambda s, t, n=name: getattr(keras.ops, n)([s, t]), a, b)
        assert_parity(lambda s, t, n=name: getattr(mk, n)([s, t]),
                      lambda s, t, n=name: getattr(keras.ops, n)([s, t]), a[0], b[0])
    for axis in [0, 1, -1]:
        assert_parity(lambda t, axis=axis: mk.stack(mk.unstack(t, axis=axis)[::-1], axis=axis),
                      lambda t, axis=axis: keras.ops.stack(
                          keras.ops.unstack(t, axis=axis)[::-1], axis=axis), a)
    b[0, 0] = a[0, 0] * (1 + 1e-6)
    _same(mk.isclose(a, b), keras.ops.isclose(a, b))
    ints = np.array([1, -2], "int32")
    _same(mk.fabs(ints), keras.ops.fabs(ints))
    _same(mk.isclose(ints, np.array([1, 2], "int32")),
          keras.ops.isclose(ints, np.array([1, 2], "int32")))


def test_divide_no_nan_parity():
    a = _f32(2, 4)
    b = np.array([0.5, 0.0, -1.5, 0.0], "float32")
    assert_parity(mk.divide_no_nan, keras.ops.divide_no_nan, a, b)
    ints = np.array([3, 4], "int32")
    _same(mk.divide_no_nan(ints, np.array([2, 0], "int32")),
          keras.ops.divide_no_nan(ints, np.array([2, 0], "int32")))


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "nearest", "midpoint"])
@pytest.mark.parametrize("q", [0.5, 0.0, 1.0, 0.3, [0.1, 0.5, 0.95]], ids=str)
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), ((0, 2), True),
                                            (-1, True), (None, True)], ids=str)
def test_quantile_parity(method, q, axis, keepdims):
    assert_parity(lambda t: mk.quantile(t, q, axis=axis, method=method, keepdims=keepdims),
                  lambda t: keras.ops.quantile(t, q, axis=axis, method=method,
                                               keepdims=keepdims), _f32(2, 5, 4))


@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=str)
def test_median_parity(axis):
    for x in [_f32(4, 6), _f32(5, 3)]:
        assert_parity(lambda t: mk.median(t, axis=axis), lambda t: keras.ops.median(t, axis=axis),
                      x)
    ints = np.array([[3, 1, 2], [7, 5, 9]], "int32")
    _same(mk.median(ints, axis=axis), keras.ops.median(ints, axis=axis))


def test_quantile_propagates_nan():
    x = _f32(3, 4)
    x[1, 2] = np.nan
    _same(mk.quantile(x, [0.2, 0.7], axis=1), keras.ops.quantile(x, [0.2, 0.7], axis=1))


def test_average_parity():
    x = _f32(3, 4)
    assert_parity(mk.average, keras.ops.average, x)
    for axis in [0, 1, None]:
        assert_parity(lambda t, axis=axis: mk.average(t, axis=axis),
                      lambda t, axis=axis: keras.ops.average(t, axis=axis), x)
    w = _f32(3, 4, low=0.5, high=2)
    for axis in [0, -1, None]:
        assert_parity(lambda t, v, axis=axis: mk.average(t, axis=axis, weights=v),
                      lambda t, v, axis=axis: keras.ops.average(t, axis=axis, weights=v), x, w)
    assert_parity(lambda t, v: mk.average(t, axis=1, weights=v),
                  lambda t, v: keras.ops.average(t, axis=1, weights=v), x, w[0])


@pytest.mark.parametrize("n, axis", [(1, -1), (2, 0), (0, 1), (3, 1)], ids=str)
def test_diff_parity(n, axis):
    assert_parity(lambda t: mk.diff(t, n, axis), lambda t: keras.ops.diff(t, n, axis),
                  _f32(4, 5))
    flags = np.array([[True, False, False], [True, True, False]])
    _same(mk.diff(flags, 1, -1), keras.ops.diff(flags, 1, -1))


def test_select_nonzero_deg2rad_parity():
    x, y = _f32(3, 4), _f32(3, 4)
    conditions = [x > 0.5, x < -0.5]
    assert_parity(lambda s, t: mk.select(conditions, [s, t]),
                  lambda s, t: keras.ops.select(conditions, [s, t]), x, y)
    assert_parity(lambda s, t: mk.select(conditions, [s, t], default=-3.0),
                  lambda s, t: keras.ops.select(conditions, [s, t], default=-3.0), x, y)
    ours, theirs = mk.nonzero(x > 0), keras.ops.nonzero(x > 0)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        _same(a, b)
    for name in ["deg2rad", "rad2deg"]:
        assert_parity(getattr(mk, name), getattr(keras.ops, name), x)
        ints = np.array([30, 180], "int32")
        _same(getattr(mk, name)(ints), getattr(keras.ops, name)(ints))


@pytest.mark.parametrize("ids, num_segments, sorted_", [
    ([0, 0, 1, 2, 2], None, True), ([2, 0, 1, 0, 2], None, False), ([0, 2, 2, 0, 1], 4, False),
    ([0, -1, 1, 0, 1], None, False),
], ids=str)
def test_segment_sum_parity(ids, num_segments, sorted_):
    ids = np.array(ids, "int32")
    assert_parity(lambda t: mk.segment_sum(t, ids, num_segments, sorted_),
                  lambda t: keras.ops.segment_sum(t, ids, num_segments, sorted_), _f32(5, 3))


def test_segment_sum_rejects_ids_past_the_last_segment():
    with pytest.raises(ValueError, match="out of range"):
        mk.segment_sum(_f32(5, 3), np.array([0, 3, 3, 0, 1]), 2)


@pytest.mark.parametrize("axis, order", [(-1, 2), (0, 2), (-1, 1), (0, 3), ((0, 1), 2)],
                         ids=str)
def test_normalize_parity(axis, order):
    x = _f32(3, 4)
    x[1] = 0.0  # an all-zero row: the epsilon floor
    assert_parity(lambda t: mk.normalize(t, axis, order),
                  lambda t: keras.ops.normalize(t, axis, order), x)


# --- result dtypes for every input dtype ---------------------------------------------------------
DTYPES = ["int32", "int8", "int64", "uint8", "bool", "float16", "float64", "float32"]
UNARY_DTYPE_OPS = ("sin cos tan arctan sinh cosh arcsinh expm1 exp2 log2 log10 reciprocal cbrt "
                   "erf rsqrt floor ceil round trunc fabs deg2rad rad2deg prod std var cumsum "
                   "cumprod count_nonzero argsort sort all any flip tril triu diagonal trace "
                   "ravel copy isnan isinf isfinite logical_not nan_to_num median average "
                   "norm erfc ptp fliplr flipud signbit isposinf isneginf").split()


def _keras_or_none(fn, *args):
    try:
        return keras.ops.convert_to_numpy(fn(*args))
    except Exception:  # Keras (TensorFlow) does not take this dtype: nothing to match
        return None


@pytest.mark.parametrize("name", UNARY_DTYPE_OPS)
def test_unary_result_dtypes_match_keras(name):
    for dtype in DTYPES:  # no zeros: log2(0) and 1/0 would warn (as NumPy's log does)
        x = np.array([[1, 2, 5], [3, 1, 2]]).astype(dtype)
        expected = _keras_or_none(getattr(keras.ops, name), x)
        if expected is not None:
            ours = np.asarray(getattr(mk, name)(x))
            assert (ours.dtype, ours.shape) == (expected.dtype, expected.shape), dtype
            np.testing.assert_allclose(ours.astype("float64"), expected.astype("float64"),
                                       rtol=1e-3, atol=1e-3, err_msg=dtype)


@pytest.mark.parametrize("name", ["arctan2", "mod", "floor_divide", "logaddexp", "hypot",
                                  "divide_no_nan", "outer", "append", "logical_and", "isclose",
                                  "fmod", "logaddexp2", "heaviside", "inner", "vdot"])
def test_binary_result_dtypes_match_keras(name):
    for dtype1 in ["int32", "float32", "float16", "bool"]:
        for dtype2 in ["int32", "float32", "int8"]:
            a = np.array([[1, 2, 0], [3, 1, 2]]).astype(dtype1)
            b = np.array([[2, 3, 1], [4, 2, 3]]).astype(dtype2)
            expected = _keras_or_none(getattr(keras.ops, name), a, b)
            if expected is not None:
                ours = np.asarray(getattr(mk, name)(a, b))
                assert ours.dtype == expected.dtype, (dtype1, dtype2)
                np.testing.assert_allclose(ours.astype("float64"), expected.astype("float64"),
                                           rtol=1e-3, atol=1e-3, err_msg=f"{dtype1} {dtype2}")


# --- the last batch: fmod, logaddexp2, inner, vdot, ptp, rot90, splits, stacks, predicates -----
def test_fmod_logaddexp2_heaviside_parity():
    a = _f32(3, 4, low=-4, high=4)
    b = _f32(4, low=0.5, high=2) * np.array([1, -1, 1, -1], "float32")
    a = np.where(np.abs(a / b - np.round(a / b)) < 1e-2, a + 0.05, a).astype("float32")
    assert_parity(mk.fmod, keras.ops.fmod, a, b)
    assert_parity(mk.logaddexp2, keras.ops.logaddexp2, a, b)
    ties = np.array([1.0, -2.0, 100.0, -100.0], "float32")
    assert_parity(mk.logaddexp2, keras.ops.logaddexp2, ties, np.array([1, -2, -100, 100], "f4"))
    x = np.array([-1.5, 0.0, 2.0, 0.0], "float32")
    _same(mk.heaviside(x, 0.5), keras.ops.heaviside(x, 0.5))
    ints = np.array([-2, 0, 3], "int32")
    _same(mk.heaviside(ints, ints), keras.ops.heaviside(ints, ints))


def test_erfc_parity():
    assert_parity(mk.erfc, keras.ops.erfc, _f32(3, 5, low=-3, high=3))


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (4, 3)), ((2, 3), ()),
                                    ((2, 2, 3), (3,))], ids=str)
def test_inner_and_vdot_parity(shapes):
    a, b = _f32(*shapes[0]), _f32(*shapes[1])
    assert_parity(mk.inner, keras.ops.inner, a, b)
    if np.size(a) == np.size(b):
        assert_parity(mk.vdot, keras.ops.vdot, a, b)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, True), (-1, False)], ids=str)
def test_ptp_parity(axis, keepdims):
    assert_parity(lambda t: mk.ptp(t, axis, keepdims), lambda t: keras.ops.ptp(t, axis, keepdims),
                  _f32(3, 4))


@pytest.mark.parametrize("k, axes", [(1, (0, 1)), (3, (1, 2)), (-1, (2, 0)), (5, (1, 0))],
                         ids=str)
def test_rot90_and_flips_parity(k, axes):
    """Keras 3.15's TensorFlow rot90 is wrong for k = 2 (mod 4): rot90([[0, 1, 2], [3, 4, 5]], 2)
    gives [[1, 3, 5], [0, 2, 4]], not [[5, 4, 3], [2, 1, 0]]. minikeras follows NumPy (tested
    in tests/test_ops_more.py); the other k are compared with Keras here."""
    assert_parity(lambda t: mk.rot90(t, k, axes), lambda t: keras.ops.rot90(t, k, axes), X)
    assert_parity(mk.fliplr, keras.ops.fliplr, X)
    assert_parity(mk.flipud, keras.ops.flipud, X)


@pytest.mark.parametrize("name, sections", [("array_split", 3), ("array_split", 2),
                                            ("hsplit", 2), ("vsplit", 2)], ids=str)
def test_other_splits_parity(name, sections):
    x = _f32(4, 6, 3) if name != "array_split" else _f32(5, 4)

    def weighted(lib):
        return lambda t: lib.concatenate(
            [lib.ravel(p) * (k + 1.0) for k, p in enumerate(getattr(lib, name)(t, sections))])

    assert_parity(weighted(mk), weighted(keras.ops), x)


def test_dstack_and_sign_predicates_parity():
    for shape in [(3,), (2, 3), (2, 3, 2)]:
        assert_parity(lambda s, t: mk.dstack([s, t]), lambda s, t: keras.ops.dstack([s, t]),
                      _f32(*shape), _f32(*shape))
    x = np.array([np.inf, -np.inf, -0.0, 0.0, -1.0, np.nan], "float32")
    for name in ["signbit", "isposinf", "isneginf"]:
        _same(getattr(mk, name)(x), getattr(keras.ops, name)(x))


# --- names, arguments and defaults ---------------------------------------------------------------
def test_every_shared_op_has_keras_arguments_and_defaults():
    """Every op both namespaces have takes Keras's parameters, in order, with Keras's defaults.

    Known older differences, left as they are: amax/amin also take max/min's ``initial``,
    stop_gradient names its argument ``x`` (Keras: ``variable``), stack ``xs`` (Keras: ``x``),
    and one_hot has no ``sparse``."""
    import inspect

    older = {"amax", "amin", "stop_gradient", "stack", "one_hot"}
    shared = sorted(n for n in set(dir(keras.ops)) & set(dir(mk)) - older
                    if not n.startswith("_")
                    and callable(getattr(mk, n)) and callable(getattr(keras.ops, n)))
    different = []
    for name in shared:
        try:
            ours = inspect.signature(getattr(mk, name)).parameters
            theirs = inspect.signature(getattr(keras.ops, name)).parameters
        except (TypeError, ValueError):
            continue
        ours = [(p.name, p.default) for p in ours.values()]
        theirs = [(p.name, p.default) for p in theirs.values()]
        if ours != theirs:
            different.append((name, ours, theirs))
    assert not different, different


# --- NaN-ignoring reductions and in_top_k --------------------------------------------------------
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, True), (1, False), (-1, True)],
                         ids=str)
@pytest.mark.parametrize("name", ["nansum", "nanmean", "nanmax", "nanmin"])
def test_nan_reductions_parity(name, axis, keepdims):
    x = _f32(3, 4)
    x[0, 1] = x[2, 3] = np.nan
    x[1] = np.nan  # a row of NaNs
    ours = getattr(mk, name)(x, axis=axis, keepdims=keepdims)
    _same(ours, getattr(keras.ops, name)(x, axis=axis, keepdims=keepdims))
    clean = _f32(3, 4)
    clean[0, 1] = np.nan
    if axis in (None, 1, -1) or name in ("nansum",):  # a column of NaNs only when axis=0
        assert_parity(lambda t: getattr(mk, name)(t, axis=axis, keepdims=keepdims),
                      lambda t: getattr(keras.ops, name)(t, axis=axis, keepdims=keepdims),
                      clean, grad_atol=1e-6)
    for dtype in ["int32", "bool"]:
        ints = np.array([[1, 0, 3], [2, 2, 0]]).astype(dtype)
        _same(getattr(mk, name)(ints, axis=axis, keepdims=keepdims),
              getattr(keras.ops, name)(ints, axis=axis, keepdims=keepdims))


def test_in_top_k_parity():
    predictions = np.array([[0.1, 0.5, 0.5, 0.2], [0.9, 0.3, 0.3, 0.3], [np.nan, 0.1, 0.2, 0.3],
                            [np.inf, 0.1, 0.2, 0.3], [0.4, 0.3, 0.2, 0.1]], "float32")
    for targets in [[1, 2, 1, 0, 3], [2, 3, 0, 3, 0], [0, 1, 3, 1, 2]]:
        targets = np.array(targets, "int32")
        for k in [1, 2, 3]:
            _same(mk.in_top_k(targets, predictions, k),
                  keras.ops.in_top_k(targets, predictions, k))
