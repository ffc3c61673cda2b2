"""Every minikeras op and activation against keras.ops / keras.activations (TensorFlow backend).

Both libraries get the same float32 inputs. Forward values must agree to rtol 1e-5, atol 1e-6;
gradients of ``sum(f(x) * r)`` (``r`` a fixed random array, so every output element counts) must
agree with ``tf.GradientTape`` to the same tolerance.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras
from minikeras import activations as mk_activations
from minikeras import ops as mk

RTOL, ATOL = 1e-5, 1e-6
RNG = np.random.default_rng(7)


def _f32(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape).astype("float32")


def _run_minikeras(fn, args, wrt, r):
    args = [minikeras.Tensor(a) if i in wrt else a for i, a in enumerate(args)]
    with minikeras.GradientTape() as tape:
        tape.watch([args[i] for i in wrt])
        out = fn(*args)
        loss = mk.sum(mk.multiply(out, r))
    return np.asarray(out), [np.asarray(g) for g in tape.gradient(loss, [args[i] for i in wrt])]


def _run_keras(fn, args, wrt, r):
    args = [tf.constant(a) if i in wrt else a for i, a in enumerate(args)]
    with tf.GradientTape() as tape:
        for i in wrt:
            tape.watch(args[i])
        out = fn(*args)
        loss = tf.reduce_sum(tf.cast(out, "float32") * r)
    grads = tape.gradient(loss, [args[i] for i in wrt])  # gather gives IndexedSlices
    return np.asarray(out), [np.zeros(np.shape(args[i])) if g is None
                             else np.asarray(tf.convert_to_tensor(g))
                             for i, g in zip(wrt, grads, strict=True)]


def assert_parity(mk_fn, k_fn, *args, wrt=None, rtol=RTOL, atol=ATOL, grad_atol=ATOL):
    """Same forward values and same gradients w.r.t. ``args[i]`` for i in ``wrt``."""
    if wrt is None:
        wrt = [i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]
    expected = np.asarray(k_fn(*args))
    r = np.random.default_rng(0).standard_normal(expected.shape).astype("float32")
    out, grads = _run_minikeras(mk_fn, args, wrt, r)
    k_out, k_grads = _run_keras(k_fn, args, wrt, r)
    assert out.shape == k_out.shape, (out.shape, k_out.shape)
    assert out.dtype == k_out.dtype, (out.dtype, k_out.dtype)
    np.testing.assert_allclose(out, k_out, rtol=rtol, atol=atol, err_msg="forward")
    for i, g, k_g in zip(wrt, grads, k_grads, strict=True):
        assert g.dtype == np.asarray(args[i]).dtype
        np.testing.assert_allclose(g, k_g, rtol=rtol, atol=grad_atol,
                                   err_msg=f"gradient w.r.t. argument {i}")


# --- activations ---------------------------------------------------------------------------------
# Keras 3.15's sparsemax takes its threshold from the wrong cumulative sum, so its outputs do
# not sum to 1 ([0.5, 1, 2, 1.8] gives all zeros): minikeras implements the published definition
# and tests it against that in tests/test_ops.py, not against Keras.
ACTIVATION_NAMES = sorted((set(mk_activations._ACTIVATIONS) | set(mk_activations._ALIASES))
                          - {"sparsemax"})
X = _f32(4, 6, low=-5.0, high=5.0)
EXTREME = np.array([[-1e4, -88.0, -20.0, -17.0, -16.7, -3.0, -1.0, -0.5, 0.0, 0.5],
                    [1.0, 3.0, 6.0, 16.5, 16.7, 17.0, 20.0, 40.0, 88.0, 1e4]], dtype="float32")


def _keras_activation(name):
    if name == "threshold":
        return lambda x: keras.activations.threshold(x, 0.5, -1.0)
    return keras.activations.get(name)


def _minikeras_activation(name):
    if name == "threshold":
        return lambda x: mk_activations.threshold(x, 0.5, -1.0)
    return mk_activations.get(name)


def test_every_keras_activation_exists_in_minikeras():
    keras_names = {n for n in dir(keras.activations) if not n.startswith("_")} - {
        "get", "serialize", "deserialize", "sparsemax"}
    assert keras_names <= set(ACTIVATION_NAMES) | {"relu"}


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_parity(name):
    assert_parity(_minikeras_activation(name), _keras_activation(name), X)


@pytest.mark.parametrize("name", sorted(set(ACTIVATION_NAMES) - {"exponential", "glu"}))
def test_activation_parity_at_extreme_inputs(name):
    """±1e4, ±88, the float32 sigmoid edge (16.6) and the kinks of the piecewise functions."""
    assert_parity(_minikeras_activation(name), _keras_activation(name), EXTREME)


@pytest.mark.parametrize("kwargs", [dict(negative_slope=0.1), dict(max_value=6.0),
                                    dict(max_value=2.5, threshold=0.5),
                                    dict(negative_slope=0.2, threshold=-1.0),
                                    dict(negative_slope=0.3, max_value=4.0, threshold=1.0)])
def test_relu_options_parity(kwargs):
    assert_parity(lambda x: mk_activations.relu(x, **kwargs),
                  lambda x: keras.activations.relu(x, **kwargs), X)


@pytest.mark.parametrize("name, kwargs", [("elu", dict(alpha=0.5)), ("celu", dict(alpha=2.0)),
                                          ("leaky_relu", dict(negative_slope=0.3)),
                                          ("softmax", dict(axis=0)), ("log_softmax", dict(axis=0)),
                                          ("gelu", dict(approximate=True)),
                                          ("glu", dict(axis=0)), ("squareplus", dict(b=1)),
                                          ("hard_shrink", dict(threshold=1.0)),
                                          ("soft_shrink", dict(threshold=1.0))])
def test_activation_keyword_options_parity(name, kwargs):
    x = np.clip(X, -4.0, 4.0) if name == "gelu" else X  # see the gelu tail test below
    assert_parity(lambda t: getattr(mk_activations, name)(t, **kwargs),
                  lambda t: getattr(keras.activations, name)(t, **kwargs), x)


def test_sigmoid_is_closer_to_the_float64_truth_than_tensorflow():
    """TF's float32 sigmoid is up to 6 ulps off (and returns exactly 1.0 from x = 16.6356 on).
    That is below the forward atol, so the parity tests above pass; here minikeras is held to
    the float64 truth instead of to TF."""
    x = np.linspace(-87.0, 40.0, 100001).astype("float32")
    truth = 1 / (1 + np.exp(-x.astype("float64")))
    ours = np.asarray(mk.sigmoid(x))
    assert np.max(np.abs(ours - truth) / truth) < 2.5e-7  # TF: 5e-7
    np.testing.assert_allclose(ours, keras.ops.sigmoid(x), rtol=RTOL, atol=ATOL)


def test_gelu_approximate_tail_against_float64_truth():
    """Below x = -4 the tanh form of gelu loses float32 precision in 1 - tanh²: TF's gradient is
    1.5e-6 off around x = -5 (and 0 from there down). Here minikeras is held to the
    float64 truth instead of TF (the TF parity above uses |x| <= 4)."""
    x = np.linspace(-6.0, -4.0, 41).astype("float32")
    v = minikeras.Variable(x)
    with minikeras.GradientTape() as tape:
        loss = mk.sum(mk.gelu(v, approximate=True))
    x64 = x.astype("float64")
    c = np.sqrt(2 / np.pi)
    t = np.tanh(c * (x64 + 0.044715 * x64**3))
    truth = 0.5 * (1 + t) + 0.5 * x64 * (1 - t * t) * c * (1 + 3 * 0.044715 * x64**2)
    np.testing.assert_allclose(tape.gradient(loss, v), truth, atol=1e-6)


# --- elementwise ops -----------------------------------------------------------------------------
UNARY = {  # name -> (low, high) of the inputs
    "negative": (-2, 2), "square": (-2, 2), "sqrt": (0.1, 3), "exp": (-3, 3), "log": (0.1, 3),
    "log1p": (-0.9, 3), "abs": (-2, 2), "absolute": (-2, 2), "sigmoid": (-8, 8),
    "tanh": (-3, 3), "relu": (-2, 2), "relu6": (-2, 8), "leaky_relu": (-2, 2), "elu": (-3, 3),
    "selu": (-3, 3), "softplus": (-8, 8), "softsign": (-3, 3), "silu": (-6, 6),
    "swish": (-6, 6), "gelu": (-4, 4), "hard_sigmoid": (-5, 5), "hard_silu": (-5, 5),
    "hard_swish": (-5, 5), "log_sigmoid": (-8, 8), "softmax": (-4, 4), "log_softmax": (-4, 4),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_parity(name):
    low, high = UNARY[name]
    assert_parity(getattr(mk, name), getattr(keras.ops, name), _f32(3, 5, low=low, high=high))


def test_ops_at_zero_follow_tensorflows_gradient_rules():
    """Kinks: relu'(0) = 0, |x|'(0) = 0, leaky_relu'(0) = slope, elu'(0) = 1, selu'(0) = scale."""
    x = np.array([[0.0, -0.0, 1.0, -1.0]], dtype="float32")
    for name in ["relu", "relu6", "abs", "leaky_relu", "elu", "selu", "hard_sigmoid", "softsign",
                 "silu", "gelu", "softplus", "hard_silu"]:
        assert_parity(getattr(mk, name), getattr(keras.ops, name), x)


def test_exponential_and_mish_via_activations():
    x = _f32(3, 4)
    assert_parity(mk.exponential, keras.activations.exponential, x)
    assert_parity(mk.mish, keras.activations.mish, x)


BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum"]
SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((2, 3), ()), ((1, 3), (2, 1))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_op_parity(name, shapes):
    a = _f32(*shapes[0])
    b = _f32(*shapes[1], low=0.5, high=2.0) * np.where(_f32(*shapes[1]) > 0, 1, -1).astype(
        "float32")
    assert_parity(getattr(mk, name), getattr(keras.ops, name), a, b)


def test_maximum_minimum_ties():
    a = np.array([1.0, 2.0, 3.0], dtype="float32")
    b = np.array([1.0, 0.0, 3.0], dtype="float32")
    assert_parity(mk.maximum, keras.ops.maximum, a, b)
    assert_parity(mk.minimum, keras.ops.minimum, a, b)


def test_power_parity():
    base, exponent = _f32(2, 3, low=0.5, high=2.0), _f32(3, low=-2.0, high=2.0)
    assert_parity(mk.power, keras.ops.power, base, exponent)
    negative = _f32(2, 3, low=-2.0, high=-0.5)
    assert_parity(lambda x: mk.power(x, 3.0), lambda x: keras.ops.power(x, 3.0), negative)


@pytest.mark.parametrize("bounds", [(-1.0, 1.0), (0.0, 0.5)])
def test_clip_parity(bounds):
    x = np.concatenate([_f32(10), np.array(bounds, dtype="float32")])  # includes the bounds
    assert_parity(lambda t: mk.clip(t, *bounds), lambda t: keras.ops.clip(t, *bounds), x)


def test_where_parity():
    condition = _f32(3, 4) > 0
    assert_parity(lambda a, b: mk.where(condition, a, b),
                  lambda a, b: keras.ops.where(condition, a, b), _f32(3, 4), _f32(4))
    ours, theirs = mk.where(condition), keras.ops.where(condition)
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == keras.backend.standardize_dtype(b.dtype)


def test_comparisons_and_sign_parity():
    a, b = _f32(3, 4), _f32(4)
    b[0] = a[0, 0]
    for name in ["equal", "not_equal", "greater", "greater_equal", "less", "less_equal"]:
        np.testing.assert_array_equal(getattr(mk, name)(a, b), getattr(keras.ops, name)(a, b))
    np.testing.assert_array_equal(mk.sign(a), keras.ops.sign(a))
    for name in ["argmax", "argmin"]:
        for axis in [None, 0, -1]:
            np.testing.assert_array_equal(getattr(mk, name)(a, axis=axis),
                                          getattr(keras.ops, name)(a, axis=axis))


# --- reductions ----------------------------------------------------------------------------------
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "amax", "amin", "logsumexp"])
def test_reduction_parity(name, axis, keepdims):
    assert_parity(lambda x: getattr(mk, name)(x, axis=axis, keepdims=keepdims),
                  lambda x: getattr(keras.ops, name)(x, axis=axis, keepdims=keepdims),
                  _f32(2, 3, 4))


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_ties_and_initial_parity(name):
    x = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0]], dtype="float32")
    x = x if name == "max" else -x
    assert_parity(lambda t: getattr(mk, name)(t, axis=1),
                  lambda t: getattr(keras.ops, name)(t, axis=1), x)
    assert_parity(lambda t: getattr(mk, name)(t), lambda t: getattr(keras.ops, name)(t), x)
    initial = 2.5 if name == "max" else -2.5
    assert_parity(lambda t: getattr(mk, name)(t, axis=1, initial=initial),
                  lambda t: getattr(keras.ops, name)(t, axis=1, initial=initial), x)


# --- matmul, shapes, indexing --------------------------------------------------------------------
MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((2, 3), (5, 3, 4)),
                 ((5, 2, 3), (3,)), ((3,), (5, 3, 4))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_parity(shapes):
    assert_parity(mk.matmul, keras.ops.matmul, _f32(*shapes[0]), _f32(*shapes[1]))


def test_dot_parity():
    assert_parity(mk.dot, keras.ops.dot, _f32(2, 3), _f32(3, 4))


@pytest.mark.parametrize("name, args", [
    ("reshape", ((4, 6),)), ("reshape", ((-1,),)), ("transpose", ()), ("transpose", ((1, 0, 2),)),
    ("expand_dims", (1,)), ("expand_dims", (-1,)), ("squeeze", ()),
], ids=str)
def test_shape_op_parity(name, args):
    x = _f32(2, 3, 4) if name != "squeeze" else _f32(2, 1, 4)
    assert_parity(lambda t: getattr(mk, name)(t, *args),
                  lambda t: getattr(keras.ops, name)(t, *args), x)


def test_cast_parity():
    x = _f32(2, 3)
    assert_parity(lambda t: mk.cast(mk.cast(t, "float64"), "float32"),
                  lambda t: keras.ops.cast(keras.ops.cast(t, "float64"), "float32"), x)
    np.testing.assert_array_equal(mk.cast(x * 3, "int32"), keras.ops.cast(x * 3, "int32"))


@pytest.mark.parametrize("key", [1, -1, slice(1, None), (slice(None), 2), (0, slice(1, 3), -1),
                                 (Ellipsis, 1), (None, 1)], ids=repr)
def test_getitem_parity(key):
    """keras.ops has no getitem: Keras tensors use TF's own ``x[key]``."""
    assert_parity(lambda t: t[key], lambda t: t[key], _f32(2, 3, 4))


@pytest.mark.parametrize("axis, indices", [(None, [5, 0, 5, 11]), (0, [1, 1, 0]),
                                           (1, [[2, 0], [-1, 2]]), (-1, [3, 0, 3])], ids=str)
def test_take_parity(axis, indices):
    indices = np.array(indices)
    assert_parity(lambda t: mk.take(t, indices, axis=axis),
                  lambda t: keras.ops.take(t, indices, axis=axis), _f32(2, 3, 4))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack_parity(axis):
    args = (_f32(2, 3), _f32(2, 3), _f32(2, 3))
    assert_parity(lambda *xs: mk.concatenate(list(xs), axis=axis),
                  lambda *xs: keras.ops.concatenate(list(xs), axis=axis), *args)
    assert_parity(lambda *xs: mk.stack(list(xs), axis=axis),
                  lambda *xs: keras.ops.stack(list(xs), axis=axis), *args)


def test_constructors_parity():
    x = _f32(2, 3)
    for name in ["ones_like", "zeros_like"]:
        ours, theirs = getattr(mk, name)(x), getattr(keras.ops, name)(x)
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == keras.backend.standardize_dtype(theirs.dtype)
    labels = np.array([2, 0, 1])
    ours, theirs = mk.one_hot(labels, 4), keras.ops.one_hot(labels, 4)
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == keras.backend.standardize_dtype(theirs.dtype)
    np.testing.assert_array_equal(mk.one_hot(labels, 4, axis=0), keras.ops.one_hot(labels, 4,
                                                                                   axis=0))
    for value in [[1.0, 2.0], [1, 2], 1.5, np.arange(3.0)]:
        assert (mk.convert_to_tensor(value).dtype
                == keras.backend.standardize_dtype(keras.ops.convert_to_tensor(value).dtype))


def test_stop_gradient_parity():
    assert_parity(lambda t: t * mk.stop_gradient(t), lambda t: t * keras.ops.stop_gradient(t),
                  _f32(3))


# --- cross-entropies -----------------------------------------------------------------------------
Y = _f32(4, 3, low=0.0, high=1.0)
P = _f32(4, 3, low=0.05, high=0.95)
Z = _f32(4, 3, low=-4.0, high=4.0)
P_EDGE = np.array([[0.0, 1e-9, 0.5], [1.0, 1.0 - 1e-8, 0.3]], dtype="float32")


def test_binary_crossentropy_parity():
    assert_parity(mk.binary_crossentropy, keras.ops.binary_crossentropy, Y, P)
    assert_parity(lambda y, z: mk.binary_crossentropy(y, z, from_logits=True),
                  lambda y, z: keras.ops.binary_crossentropy(y, z, from_logits=True), Y, Z)
    y_edge = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype="float32")
    assert_parity(mk.binary_crossentropy, keras.ops.binary_crossentropy, y_edge, P_EDGE)
    extreme = np.array([[-1e4, -88.0, 0.0], [17.0, 88.0, 1e4]], dtype="float32")
    assert_parity(lambda y, z: mk.binary_crossentropy(y, z, from_logits=True),
                  lambda y, z: keras.ops.binary_crossentropy(y, z, from_logits=True),
                  y_edge, extreme)


def test_categorical_crossentropy_parity():
    # TF's softmax_cross_entropy_with_logits gives d/dlogits = softmax - y, which assumes the
    # targets sum to 1 (minikeras returns softmax * Σy - y, exact for any targets): targets are
    # distributions here.
    y = Y / Y.sum(-1, keepdims=True)
    assert_parity(mk.categorical_crossentropy, keras.ops.categorical_crossentropy, y, P)
    assert_parity(mk.categorical_crossentropy, keras.ops.categorical_crossentropy, Y, P)
    assert_parity(lambda t, z: mk.categorical_crossentropy(t, z, from_logits=True),
                  lambda t, z: keras.ops.categorical_crossentropy(t, z, from_logits=True), y, Z)
    one_hot = np.eye(3, dtype="float32")[[0, 2]]
    assert_parity(mk.categorical_crossentropy, keras.ops.categorical_crossentropy, one_hot,
                  P_EDGE)
    assert_parity(lambda t, z: mk.categorical_crossentropy(t, z, from_logits=True, axis=0),
                  lambda t, z: keras.ops.categorical_crossentropy(t, z, from_logits=True,
                                                                  axis=0),
                  y.T / y.T.sum(0), Z.T)


@pytest.mark.parametrize("label_shape", [(4,), (4, 1)])
def test_sparse_categorical_crossentropy_parity(label_shape):
    labels = np.array([0, 2, 1, 2]).reshape(label_shape)
    assert_parity(mk.sparse_categorical_crossentropy, keras.ops.sparse_categorical_crossentropy,
                  labels, P, wrt=[1])
    assert_parity(lambda t, z: mk.sparse_categorical_crossentropy(t, z, from_logits=True),
                  lambda t, z: keras.ops.sparse_categorical_crossentropy(t, z, from_logits=True),
                  labels, Z, wrt=[1])
    edge = np.concatenate([P_EDGE, P_EDGE])
    assert_parity(mk.sparse_categorical_crossentropy, keras.ops.sparse_categorical_crossentropy,
                  labels, edge, wrt=[1])


def test_gelu_exact_uses_erf():
    """math.erf is the float64 truth; both libraries round it to float32 identically enough."""
    x = _f32(50, low=-6, high=6)
    truth = 0.5 * x.astype("float64") * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))
    np.testing.assert_allclose(mk.gelu(x, approximate=False), truth, rtol=1e-6, atol=1e-7)
