"""minikeras.ops and minikeras.activations: values against NumPy formulas, derivatives against
float64 finite differences, no RuntimeWarnings at extreme inputs, float32 kept float32."""

import math
import warnings

import numpy as np
import pytest
from gradcheck import gradient_check, tape_grads

import minikeras
from minikeras import activations, ops

RNG = np.random.default_rng(0)
# Values away from every kink used below (0, ±0.5, ±1, ±3, 6), so finite differences are exact.
X = np.array([[-4.7, -2.2, -1.3, -0.8, -0.3, 0.2], [0.7, 1.6, 2.4, 3.9, 5.1, 6.5]])
P = RNG.uniform(0.05, 0.95, size=(4, 3))  # probabilities, away from the clip bounds
Y = RNG.uniform(0.0, 1.0, size=(4, 3))  # soft targets


def _u(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _erf(x):
    return np.vectorize(math.erf)(x)


# --- reference formulas (float64 NumPy, written independently of minikeras) ----------------------
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
ACTIVATION_FORMULAS = {
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "relu6": lambda x: np.minimum(np.maximum(x, 0), 6),
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
    "celu": lambda x: np.maximum(x, 0) + np.minimum(0, np.expm1(x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "softplus": lambda x: np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "soft_shrink": lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0),
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "silu": lambda x: x * _sigmoid(x),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),
    "glu": lambda x: x[..., :3] * _sigmoid(x[..., 3:]),
    "tanh": np.tanh,
    "tanh_shrink": lambda x: x - np.tanh(x),
    "sigmoid": _sigmoid,
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
    "exponential": np.exp,
    "hard_sigmoid": lambda x: np.minimum(np.maximum(x + 3, 0), 6) / 6,
    "hard_silu": lambda x: x * np.minimum(np.maximum(x + 3, 0), 6) / 6,
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "linear": lambda x: x,
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "log_softmax": lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
    "swish": lambda x: x * _sigmoid(x),
    "hard_swish": lambda x: x * np.minimum(np.maximum(x + 3, 0), 6) / 6,
}
ACTIVATION_NAMES = sorted(ACTIVATION_FORMULAS) + ["threshold", "sparsemax"]  # tested below


def _activation(name):
    if name == "threshold":
        return lambda x: activations.threshold(x, 0.5, -1.0)
    return activations.get(name)


def test_every_activation_is_covered():
    names = set(activations._ACTIVATIONS) | set(activations._ALIASES)
    assert names == set(ACTIVATION_NAMES)


@pytest.mark.parametrize("name", sorted(ACTIVATION_FORMULAS))
def test_activation_values(name):
    out = _activation(name)(X)
    np.testing.assert_allclose(np.asarray(out), ACTIVATION_FORMULAS[name](X), rtol=1e-12,
                               atol=1e-12)


def test_threshold_and_relu_options_values():
    np.testing.assert_array_equal(activations.threshold(X, 0.5, -1.0), np.where(X > 0.5, X, -1.0))
    # Keras: x if x > threshold else 0, clipped to max_value, minus slope * relu(threshold - x).
    for slope, max_value, thr in [(0.1, None, 0.0), (0.0, 6.0, 0.0), (0.1, 2.0, 1.0),
                                  (0.0, None, 1.0), (0.3, 4.0, 0.0)]:
        expected = np.where(X > thr, X, 0)
        if max_value is not None:
            expected = np.clip(expected, 0, max_value)
        expected = expected - slope * np.maximum(thr - X, 0)
        out = activations.relu(X, negative_slope=slope, max_value=max_value, threshold=thr)
        np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert float(activations.relu(0.5, negative_slope=0.1, threshold=1.0)) == pytest.approx(-0.05)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_gradients(name):
    gradient_check(_activation(name), X)


@pytest.mark.parametrize("kwargs", [dict(negative_slope=0.1), dict(max_value=4.0),
                                    dict(threshold=1.3, negative_slope=0.2, max_value=5.0)])
def test_relu_options_gradients(kwargs):
    gradient_check(lambda x: activations.relu(x, **kwargs), X)


def test_gradients_at_kinks_follow_tensorflow():
    """Where a derivative jumps, minikeras picks TensorFlow's side (checked in compat_tests)."""
    x = np.array([0.0, -1.0, 1.0, -3.0, 3.0, 6.0])
    cases = {"relu": [0, 0, 1, 0, 1, 1], "relu6": [0, 0, 1, 0, 1, 0],
             "leaky_relu": [0.2, 0.2, 1, 0.2, 1, 1], "elu": [1, np.exp(-1), 1, np.exp(-3), 1, 1],
             "selu": SELU_SCALE * np.array([1, SELU_ALPHA * np.exp(-1), 1,
                                            SELU_ALPHA * np.exp(-3), 1, 1]),
             "celu": [2, np.exp(-1), 1, np.exp(-3), 1, 1],
             "sparse_sigmoid": [0.5, 0, 0, 0, 0, 0], "hard_sigmoid": [1 / 6, 1 / 6, 1 / 6, 0, 0, 0],
             "hard_tanh": [1, 1, 1, 0, 0, 0], "abs": [0, -1, 1, -1, 1, 1]}
    for name, expected in cases.items():
        fn = getattr(ops, name) if name in ("abs",) else activations.get(name)
        grad = tape_grads(fn, [x], [0], np.ones(6))[0]
        np.testing.assert_allclose(grad, expected, rtol=1e-12, err_msg=name)


def test_activation_keyword_options():
    np.testing.assert_allclose(activations.elu(X, alpha=0.5), np.where(X > 0, X, 0.5 * np.expm1(X)))
    np.testing.assert_allclose(activations.celu(X, alpha=2.0),
                               np.maximum(X, 0) + np.minimum(0, 2 * np.expm1(X / 2)), atol=1e-12)
    np.testing.assert_allclose(activations.leaky_relu(X, negative_slope=0.3),
                               np.where(X > 0, X, 0.3 * X))
    np.testing.assert_allclose(activations.softmax(X, axis=0), np.exp(X) / np.exp(X).sum(0))
    np.testing.assert_allclose(activations.log_softmax(X, axis=0),
                               X - np.log(np.exp(X).sum(0)))
    approx = 0.5 * X * (1 + np.tanh(np.sqrt(2 / np.pi) * (X + 0.044715 * X**3)))
    # 1 + tanh(u) cancels near x = -4.7 (the reference loses ~1e-10 there, not minikeras).
    np.testing.assert_allclose(activations.gelu(X, approximate=True), approx, rtol=1e-9)
    np.testing.assert_allclose(ops.gelu(X), approx, rtol=1e-9)  # keras.ops.gelu: approximate
    np.testing.assert_allclose(activations.squareplus(X, b=1), (X + np.sqrt(X * X + 1)) / 2)
    gradient_check(lambda x: activations.elu(x, alpha=0.5), X)
    gradient_check(lambda x: activations.celu(x, alpha=2.0), X)
    gradient_check(lambda x: activations.softmax(x, axis=0), X)
    gradient_check(lambda x: activations.log_softmax(x, axis=0), X)
    gradient_check(lambda x: ops.gelu(x, approximate=True), X)
    gradient_check(lambda x: activations.glu(x, axis=0), X)


def test_activation_get_errors_and_serialization():
    with pytest.raises(ValueError, match="relu") as info:
        activations.get("relux")
    assert "'relux'" in str(info.value) and "sigmoid" in str(info.value)
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert activations.serialize(activations.get("swish")) == "silu"
    assert activations.serialize(activations.get("hard_swish")) == "hard_silu"


# --- elementwise and binary ops ------------------------------------------------------------------
BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((2, 3), ()),
                 ((1, 3), (2, 1))]
BINARY_OPS = {
    "add": (ops.add, np.add), "subtract": (ops.subtract, np.subtract),
    "multiply": (ops.multiply, np.multiply), "divide": (ops.divide, np.divide),
    "true_divide": (ops.true_divide, np.divide), "maximum": (ops.maximum, np.maximum),
    "minimum": (ops.minimum, np.minimum),
}


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY_OPS))
def test_binary_ops_broadcast(name, shapes):
    op, reference = BINARY_OPS[name]
    a = _u(*shapes[0])
    b = _u(*shapes[1], low=0.5, high=2.0) * np.where(_u(*shapes[1]) > 0, 1, -1)
    np.testing.assert_allclose(op(a, b), reference(a, b), rtol=1e-15)
    gradient_check(op, a, b)


def test_power_values_and_gradients():
    base, exponent = _u(2, 3, low=0.5, high=2.0), _u(3, low=-2.0, high=2.0)
    np.testing.assert_allclose(ops.power(base, exponent), base**exponent, rtol=1e-14)
    gradient_check(ops.power, base, exponent)
    negative = _u(2, 3, low=-2.0, high=-0.5)
    gradient_check(lambda x: ops.power(x, 3), negative)
    gradient_check(lambda x: x**2 + 2**x, negative)  # Python operators, both sides


UNARY_OPS = {
    "negative": (ops.negative, np.negative, (-2, 2)),
    "square": (ops.square, np.square, (-2, 2)),
    "sqrt": (ops.sqrt, np.sqrt, (0.1, 3)),
    "exp": (ops.exp, np.exp, (-2, 2)),
    "log": (ops.log, np.log, (0.1, 3)),
    "log1p": (ops.log1p, np.log1p, (-0.9, 3)),
    "abs": (ops.abs, np.abs, (-2, 2)),
    "absolute": (ops.absolute, np.abs, (-2, 2)),
    "sigmoid": (ops.sigmoid, _sigmoid, (-6, 6)),
    "tanh": (ops.tanh, np.tanh, (-3, 3)),
    "relu": (ops.relu, lambda x: np.maximum(x, 0), (-2, 2)),
    "relu6": (ops.relu6, lambda x: np.clip(x, 0, 6), (-2, 8)),
    "leaky_relu": (ops.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), (-2, 2)),
    "elu": (ops.elu, lambda x: np.where(x > 0, x, np.expm1(x)), (-3, 3)),
    "selu": (ops.selu, ACTIVATION_FORMULAS["selu"], (-3, 3)),
    "softplus": (ops.softplus, ACTIVATION_FORMULAS["softplus"], (-6, 6)),
    "softsign": (ops.softsign, ACTIVATION_FORMULAS["softsign"], (-3, 3)),
    "silu": (ops.silu, ACTIVATION_FORMULAS["silu"], (-6, 6)),
    "swish": (ops.swish, ACTIVATION_FORMULAS["silu"], (-6, 6)),
    "gelu": (lambda x: ops.gelu(x, approximate=False), ACTIVATION_FORMULAS["gelu"], (-3, 3)),
    "hard_sigmoid": (ops.hard_sigmoid, ACTIVATION_FORMULAS["hard_sigmoid"], (-5, 5)),
    "hard_silu": (ops.hard_silu, ACTIVATION_FORMULAS["hard_silu"], (-5, 5)),
    "hard_swish": (ops.hard_swish, ACTIVATION_FORMULAS["hard_silu"], (-5, 5)),
    "log_sigmoid": (ops.log_sigmoid, ACTIVATION_FORMULAS["log_sigmoid"], (-6, 6)),
    "mish": (ops.mish, ACTIVATION_FORMULAS["mish"], (-3, 3)),
    "exponential": (ops.exponential, np.exp, (-2, 2)),
    "softmax": (ops.softmax, ACTIVATION_FORMULAS["softmax"], (-3, 3)),
    "log_softmax": (ops.log_softmax, ACTIVATION_FORMULAS["log_softmax"], (-3, 3)),
}
KINKS = np.array([0.0, -3.0, 3.0, 6.0])


@pytest.mark.parametrize("name", sorted(UNARY_OPS))
def test_unary_ops(name):
    op, reference, (low, high) = UNARY_OPS[name]
    x = _u(3, 4, low=low, high=high)
    x = np.where(np.abs(x[..., None] - KINKS).min(-1) < 1e-3, x + 0.01, x)
    np.testing.assert_allclose(op(x), reference(x), rtol=1e-12, atol=1e-14)
    gradient_check(op, x)


def test_sign_and_comparisons_are_values_without_gradients():
    x = minikeras.Variable(np.array([-1.5, 0.0, 2.0]))
    with minikeras.GradientTape() as tape:
        outs = [ops.sign(x), ops.argmax(x), ops.argmin(x), ops.equal(x, 0.0),
                ops.not_equal(x, 0.0), ops.greater(x, 0.0), ops.greater_equal(x, 0.0),
                ops.less(x, 0.0), ops.less_equal(x, 0.0), ops.stop_gradient(x)]
    np.testing.assert_array_equal(outs[0], [-1, 0, 1])
    assert int(outs[1]) == 2 and int(outs[2]) == 0
    np.testing.assert_array_equal(outs[3:9], [[0, 1, 0], [1, 0, 1], [0, 0, 1], [0, 1, 1],
                                              [1, 0, 0], [1, 1, 0]])
    assert tape.gradient(ops.sum(outs[9]), x) is None


# --- clip, where, max/min ties -------------------------------------------------------------------
def test_clip():
    x = _u(3, 4, low=-3, high=3)
    x = np.where(np.abs(np.abs(x) - 1) < 1e-3, 0.5, x)
    np.testing.assert_array_equal(ops.clip(x, -1.0, 1.0), np.clip(x, -1, 1))
    gradient_check(lambda t: ops.clip(t, -1.0, 1.0), x)
    # At the bounds the gradient passes (TensorFlow's clip_by_value rule); outside it is 0.
    edge = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    grad = tape_grads(lambda t: ops.clip(t, -1.0, 1.0), [edge], [0], np.ones(5))[0]
    np.testing.assert_array_equal(grad, [0, 1, 1, 1, 0])


def test_where():
    condition = _u(3, 4) > 0
    a, b = _u(3, 4), _u(4)
    np.testing.assert_array_equal(ops.where(condition, a, b), np.where(condition, a, b))
    gradient_check(lambda x1, x2: ops.where(condition, x1, x2), a, b)
    rows, columns = ops.where(condition)  # like np.nonzero, as int32
    np.testing.assert_array_equal(rows, np.nonzero(condition)[0])
    np.testing.assert_array_equal(columns, np.nonzero(condition)[1])
    assert rows.dtype == "int32"


@pytest.mark.parametrize("op, reference", [(ops.max, np.max), (ops.min, np.min),
                                           (ops.amax, np.max), (ops.amin, np.min)])
def test_max_min_ties_share_the_gradient(op, reference):
    x = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0]])
    if op in (ops.min, ops.amin):
        x = -x
    np.testing.assert_array_equal(op(x, axis=1), reference(x, axis=1))
    grad = tape_grads(lambda t: op(t, axis=1), [x], [0], np.array([1.0, 2.0]))[0]
    # TensorFlow's rule: the tied elements share the gradient equally.
    np.testing.assert_allclose(grad, [[0, 0.5, 0.5, 0], [0.5, 0.5, 0.5, 0.5]])
    grad = tape_grads(lambda t: op(t), [x], [0], np.array(1.0))[0]
    np.testing.assert_allclose(grad, (x == reference(x)) / np.sum(x == reference(x)))


# --- reductions ----------------------------------------------------------------------------------
REDUCTIONS = {"sum": (ops.sum, np.sum), "mean": (ops.mean, np.mean), "max": (ops.max, np.max),
              "min": (ops.min, np.min),
              "logsumexp": (ops.logsumexp, lambda x, axis=None, keepdims=False: np.log(
                  np.sum(np.exp(x), axis=axis, keepdims=keepdims)))}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), [1, 2]], ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(name, axis, keepdims):
    op, reference = REDUCTIONS[name]
    x = _u(2, 3, 4)
    numpy_axis = tuple(axis) if isinstance(axis, list) else axis
    np.testing.assert_allclose(op(x, axis=axis, keepdims=keepdims),
                               reference(x, axis=numpy_axis, keepdims=keepdims), rtol=1e-14)
    gradient_check(lambda t: op(t, axis=axis, keepdims=keepdims), x)


def test_sigmoid_float32_is_close_to_the_float64_truth():
    x = np.linspace(-87.0, 40.0, 100001).astype("float32")
    truth = 1 / (1 + np.exp(-x.astype("float64")))
    out = np.asarray(ops.sigmoid(x))
    assert out.dtype == "float32" and np.max(np.abs(out - truth) / truth) < 2.5e-7
    assert float(ops.sigmoid(np.float32(-100.0))) < 1e-38  # no overflow warning on the way


def test_gelu_approximate_tails_are_exact():
    x = np.concatenate([np.linspace(-9.0, -3.0, 61), np.linspace(3.0, 9.0, 61)])
    u = np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)
    truth = x / (1 + np.exp(-2 * u))  # = 0.5x(1 + tanh(u)), without the cancellation at x << 0
    # float32 rounding of u (|2u| up to 60) alone costs ~|2u|·6e-8 relative: 2e-5 is that bound;
    # the 0.5x(1 + tanh(u)) form would return 0 or lose every digit here.
    np.testing.assert_allclose(ops.gelu(x.astype("float32")), truth, rtol=2e-5, atol=1e-37)


def test_logsumexp_is_stable():
    x = np.array([[1e4, 1e4 - 1.0], [-1e4, -1e4]], dtype=np.float32)
    expected = np.array([1e4 + np.log1p(np.exp(-1.0)), -1e4 + np.log(2)])
    np.testing.assert_allclose(ops.logsumexp(x, axis=1), expected, rtol=1e-6)


# --- matmul --------------------------------------------------------------------------------------
MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((2, 3), (5, 3, 4)),
                 ((5, 2, 3), (3,)), ((3,), (5, 3, 4)), ((2, 1, 2, 3), (4, 3, 2))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    a, b = _u(*shapes[0]), _u(*shapes[1])
    np.testing.assert_allclose(ops.matmul(a, b), np.matmul(a, b), rtol=1e-14)
    gradient_check(ops.matmul, a, b)
    gradient_check(lambda x, y: x @ y, a, b)


def test_dot_of_matrices():
    a, b = _u(2, 3), _u(3, 4)
    np.testing.assert_allclose(ops.dot(a, b), a @ b)
    gradient_check(ops.dot, a, b)


# --- shapes, indexing, joining -------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: ops.reshape(x, (4, 6)), lambda x: ops.reshape(x, (-1,)),
    lambda x: ops.reshape(x, (None, 3)), lambda x: ops.transpose(x),
    lambda x: ops.transpose(x, (1, 0, 2)), lambda x: ops.transpose(x, (0, -1, 1)),
    lambda x: x.T, lambda x: ops.expand_dims(x, 1), lambda x: ops.expand_dims(x, -1),
    lambda x: ops.squeeze(ops.expand_dims(x, 0)), lambda x: ops.squeeze(x[:, :1], axis=1),
    lambda x: ops.cast(x, "float64"),
], ids=["reshape", "reshape-1", "reshape-None", "transpose", "transpose-axes",
        "transpose-negative-axes", "T", "expand_dims", "expand_dims-1", "squeeze",
        "squeeze-axis", "cast"])
def test_shape_ops(fn):
    x = _u(2, 3, 4)
    gradient_check(fn, x)


def test_shape_op_values():
    x = _u(2, 3, 4)
    np.testing.assert_array_equal(ops.reshape(x, (None, 3)), x.reshape(-1, 3))
    np.testing.assert_array_equal(ops.transpose(x, (0, -1, 1)), np.transpose(x, (0, 2, 1)))
    np.testing.assert_array_equal(ops.expand_dims(x, -1), x[..., None])
    np.testing.assert_array_equal(ops.squeeze(x[:, :1], axis=1), x[:, 0])
    assert ops.shape(x) == (2, 3, 4) and ops.dtype(x) == "float64"
    # float64 -> float32 -> float64: the gradient flows back through both casts, in float64.
    grad = tape_grads(lambda t: ops.cast(ops.cast(t, "float32"), "float64"), [x], [0],
                      np.full(x.shape, 3.0))[0]
    assert grad.dtype == "float64" and np.all(np.asarray(grad) == 3.0)
    assert ops.cast(x, "int32").dtype == "int32"


GETITEM_KEYS = [1, -1, slice(1, None), slice(None, None, -1), (slice(None), 2),
                (0, slice(1, 3), -1), np.array([0, 1, 0]), (Ellipsis, 1), (None, 1),
                ([1, 0, 1], slice(None), [2, 2, 3])]


@pytest.mark.parametrize("key", GETITEM_KEYS, ids=repr)
def test_getitem(key):
    x = _u(2, 3, 4)
    np.testing.assert_array_equal(ops.getitem(x, key), x[key])
    gradient_check(lambda t: t[key], x)


def test_getitem_boolean_mask_and_tensor_index():
    x = _u(3, 4)
    mask = x > 0
    np.testing.assert_array_equal(minikeras.Tensor(x)[mask], x[mask])
    gradient_check(lambda t: t[mask], x)
    gradient_check(lambda t: t[minikeras.Tensor(np.array([2, 0, 2]))], x)


@pytest.mark.parametrize("axis, indices", [(None, [5, 0, 5, 11]), (0, [1, 1, 0]),
                                           (1, [[2, 0], [-1, 2]]), (-1, [3, 0, 3]),
                                           (1, 2)], ids=str)
def test_take(axis, indices):
    x = _u(2, 3, 4)
    np.testing.assert_array_equal(ops.take(x, indices, axis=axis), np.take(x, indices, axis=axis))
    gradient_check(lambda t: ops.take(t, indices, axis=axis), x)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis):
    a, b, c = _u(2, 3), _u(2, 3), _u(2, 3)
    np.testing.assert_array_equal(ops.concatenate([a, b, c], axis=axis),
                                  np.concatenate([a, b, c], axis=axis))
    np.testing.assert_array_equal(ops.stack([a, b, c], axis=axis), np.stack([a, b, c], axis=axis))
    gradient_check(lambda *xs: ops.concatenate(list(xs), axis=axis), a, b, c)
    gradient_check(lambda *xs: ops.stack(list(xs), axis=axis), a, b, c)
    uneven = _u(2, 5) if axis else _u(4, 3)
    gradient_check(lambda x, y: ops.concatenate([x, y], axis=axis), a, uneven)


def test_conversion_helpers():
    t = ops.convert_to_tensor([[1.0, 2.0]])
    assert isinstance(t, minikeras.Tensor) and t.dtype == "float32"
    assert ops.convert_to_tensor(np.arange(3)).dtype == "int64"  # arrays keep their dtype
    assert ops.convert_to_tensor([1, 2]).dtype == "int32"  # Python ints become int32
    assert ops.convert_to_tensor([1, 2], dtype="float64").dtype == "float64"
    assert ops.is_tensor(t) and not ops.is_tensor(np.ones(2))
    assert isinstance(ops.convert_to_numpy(t), np.ndarray)
    np.testing.assert_array_equal(ops.ones_like(t), [[1, 1]])
    np.testing.assert_array_equal(ops.zeros_like(t), [[0, 0]])
    np.testing.assert_array_equal(ops.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    assert ops.one_hot(np.array([1]), 2).dtype == "float32"
    assert ops.convert_to_tensor(["a", "b"]).numpy().tolist() == ["a", "b"]  # as tf.string
    with pytest.raises(TypeError, match="numeric"):
        ops.convert_to_tensor(np.array([1.0, "a"], dtype=object))
    with pytest.raises(TypeError, match="numeric"):
        ops.add(["a", "b"], 1)


# --- cross-entropies -----------------------------------------------------------------------------
EPS = 1e-7


def _bce_probs(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _cce_probs(y, p):
    q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(y * np.log(q), -1)


def test_binary_crossentropy():
    z = _u(4, 3, low=-4, high=4)
    np.testing.assert_allclose(ops.binary_crossentropy(Y, P), _bce_probs(Y, P), rtol=1e-12)
    np.testing.assert_allclose(ops.binary_crossentropy(Y, z, from_logits=True),
                               _bce_probs(Y, _sigmoid(z)), rtol=1e-12)
    gradient_check(ops.binary_crossentropy, Y, P)
    gradient_check(lambda y, t: ops.binary_crossentropy(y, t, from_logits=True), Y, z)


def test_binary_crossentropy_clip_edges_float32():
    y = np.array([0.0, 1.0, 1.0, 0.0], dtype=np.float32)
    p = np.array([1.0, 0.0, 1.0, 0.0], dtype=np.float32)
    out = ops.binary_crossentropy(y, p)
    hi = np.float32(1 - EPS)  # 1 - 1e-7 rounds to 0.99999988 in float32
    expected = [-np.log(np.float32(1) - hi), -np.log(np.float32(EPS)), -np.log(hi), -np.log(hi)]
    np.testing.assert_allclose(out, np.array(expected, dtype=np.float32), rtol=1e-6)
    assert float(out[0]) == pytest.approx(15.942385, rel=1e-6)
    # Outside the clip range the gradient is 0 (clip_by_value's rule).
    grad = tape_grads(ops.binary_crossentropy, [y, np.array([1.0, 0.0, 0.5, 0.5])], [1],
                      np.ones(4))[0]
    assert grad[0] == 0 and grad[1] == 0


def test_categorical_crossentropy():
    y = Y / Y.sum(-1, keepdims=True)
    z = _u(4, 3, low=-4, high=4)
    np.testing.assert_allclose(ops.categorical_crossentropy(y, P), _cce_probs(y, P), rtol=1e-12)
    log_softmax = z - np.log(np.exp(z).sum(-1, keepdims=True))
    np.testing.assert_allclose(ops.categorical_crossentropy(y, z, from_logits=True),
                               -np.sum(y * log_softmax, -1), rtol=1e-12)
    gradient_check(ops.categorical_crossentropy, Y, P)  # targets not summing to 1 as well
    gradient_check(lambda t, o: ops.categorical_crossentropy(t, o, from_logits=True), Y, z)
    gradient_check(lambda t, o: ops.categorical_crossentropy(t, o, axis=0), Y, P)
    gradient_check(lambda t, o: ops.categorical_crossentropy(t, o, from_logits=True, axis=0),
                   Y, z)


@pytest.mark.parametrize("label_shape", [(4,), (4, 1)])
def test_sparse_categorical_crossentropy(label_shape):
    labels = np.array([0, 2, 1, 2]).reshape(label_shape)
    flat = labels.reshape(-1)
    z = _u(4, 3, low=-4, high=4)
    r = np.clip(P, EPS, 1 - EPS)
    expected = -np.log(r[np.arange(4), flat] / r.sum(-1))
    np.testing.assert_allclose(ops.sparse_categorical_crossentropy(labels, P), expected,
                               rtol=1e-12)
    log_softmax = z - np.log(np.exp(z).sum(-1, keepdims=True))
    np.testing.assert_allclose(ops.sparse_categorical_crossentropy(labels, z, from_logits=True),
                               -log_softmax[np.arange(4), flat], rtol=1e-12)
    gradient_check(ops.sparse_categorical_crossentropy, labels, P, wrt=[1])
    gradient_check(lambda t, o: ops.sparse_categorical_crossentropy(t, o, from_logits=True),
                   labels, z, wrt=[1])


def test_crossentropy_probability_path_edges():
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=np.float32)
    p = np.array([[0.0, 1.0, 0.0], [0.0, 0.5, 0.5]], dtype=np.float32)
    expected = [-np.log(np.float32(1 - EPS)), -np.log(np.float32(EPS))]
    np.testing.assert_allclose(ops.categorical_crossentropy(y, p), expected, rtol=1e-6)
    labels = np.array([1, 0])
    r = np.clip(p, np.float32(EPS), np.float32(1 - EPS))
    np.testing.assert_allclose(ops.sparse_categorical_crossentropy(labels, p),
                               -np.log(r[[0, 1], labels] / r.sum(-1)), rtol=1e-6)


# --- extreme inputs: no RuntimeWarning, finite where Keras is finite, float32 stays float32 -----
EXTREME = np.array([-1e4, -88.0, -20.0, -1.0, 0.0, 1.0, 5.0, 20.0, 88.0, 1e4], dtype=np.float32)
PROBS_EDGE = np.array([0.0, 1e-12, 0.5, 1.0 - 1e-8, 1.0], dtype=np.float32)
FINITE_OPS = {  # name -> f(x) that Keras keeps finite at EXTREME
    **{name: _activation(name) for name in ACTIVATION_NAMES if name != "exponential"},
    **{name: UNARY_OPS[name][0] for name in UNARY_OPS
       if name not in ("sqrt", "log", "log1p", "exp", "exponential", "square")},
    "logsumexp": lambda x: ops.logsumexp(x),
    "bce_logits": lambda x: ops.binary_crossentropy(np.float32(1.0) - (x > 0), x,
                                                    from_logits=True),
    "cce_logits": lambda x: ops.categorical_crossentropy(np.eye(10, dtype="float32")[0], x,
                                                         from_logits=True),
    "scce_logits": lambda x: ops.sparse_categorical_crossentropy(np.array(9), x,
                                                                 from_logits=True),
    "square": lambda x: ops.square(x / 100),
}


@pytest.mark.parametrize("name", sorted(FINITE_OPS))
def test_extreme_inputs_are_finite_and_silent(name):
    fn = FINITE_OPS[name]
    x = minikeras.Variable(EXTREME)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with minikeras.GradientTape() as tape:
            out = fn(x)
            loss = ops.sum(out)
        grad = tape.gradient(loss, x)
    assert out.dtype == "float32" and grad.dtype == "float32"
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("name", ["bce", "cce", "scce"])
def test_crossentropy_probability_edges_are_finite_and_silent(name):
    fns = {
        "bce": lambda p: ops.binary_crossentropy(np.float32(1.0) - (p > 0.5), p),
        "cce": lambda p: ops.categorical_crossentropy(np.eye(5, dtype="float32")[0], p),
        "scce": lambda p: ops.sparse_categorical_crossentropy(np.array(0), p),
    }
    x = minikeras.Variable(PROBS_EDGE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with minikeras.GradientTape() as tape:
            out = fns[name](x)
            loss = ops.sum(out)
        grad = tape.gradient(loss, x)
    assert out.dtype == "float32" and grad.dtype == "float32"
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))


def test_log_ops_at_zero_are_silent():
    """Keras gives -inf/inf for log(0); minikeras returns the same without a RuntimeWarning only
    where Keras is finite, so here we just check the values that are finite in Keras."""
    zero = np.zeros(3, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(ops.log1p(zero), zero)
        np.testing.assert_array_equal(ops.sqrt(zero), zero)
        np.testing.assert_array_equal(ops.log_sigmoid(zero), np.log(np.float32(0.5)) + zero)
        np.testing.assert_array_equal(ops.softplus(zero), np.log(np.float32(2)) + zero)


@pytest.mark.parametrize("name", sorted(set(UNARY_OPS) | set(BINARY_OPS)))
def test_float32_stays_float32(name):
    x = minikeras.Variable(_u(2, 3, low=0.5, high=2.0).astype("float32"))
    with minikeras.GradientTape() as tape:
        out = UNARY_OPS[name][0](x) if name in UNARY_OPS else BINARY_OPS[name][0](x, 2.0)
        loss = ops.sum(out * 1.5)
    assert out.dtype == "float32"
    assert tape.gradient(loss, x).dtype == "float32"


def test_float32_stays_float32_for_reductions_and_losses():
    x = _u(2, 3, low=0.1, high=0.9).astype("float32")
    for out in [ops.mean(x), ops.sum(x, axis=0), ops.max(x), ops.logsumexp(x, axis=1),
                ops.matmul(x, x.T), ops.take(x, [0]), ops.concatenate([x, x]),
                ops.binary_crossentropy(x, x), ops.categorical_crossentropy(x, x),
                ops.sparse_categorical_crossentropy(np.array([0, 1]), x),
                activations.gelu(x), activations.celu(x), activations.glu(x, axis=0),
                ops.convert_to_tensor(1.5), ops.power(x, 2), 2.0 * minikeras.Tensor(x)]:
        assert out.dtype == "float32", out


def test_gradient_check_reports_a_wrong_derivative():
    """The checker itself must fail, with shapes and values, on a wrong backward rule."""
    from minikeras.autodiff import record

    def bad_square(x):
        a = ops.value_of(x)
        return record(a * a, (x,), lambda g: g * a)  # should be 2a

    with pytest.raises(AssertionError, match=r"shape \(2, 3\).*\n.*first at index"):
        gradient_check(bad_square, _u(2, 3))


# --- sparsemax: tested against its definition -------------------------------------------------
# Keras 3.15's sparsemax computes its threshold from the sum of the cumulative sums over the
# support instead of the k-th cumulative sum, so its outputs do not sum to 1 (for
# [0.5, 1, 2, 1.8] it returns all zeros). minikeras implements the published definition
# (Martins & Astudillo, 2016); there is no parity test for it.


def test_sparsemax_is_the_projection_onto_the_simplex():
    p = np.asarray(minikeras.ops.sparsemax(np.array([[0.5, 1.0, 2.0, 1.8]], "float32")))
    np.testing.assert_allclose(p, [[0.0, 0.0, 0.6, 0.4]], atol=1e-6)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 7)).astype("float32") * 3
    for axis in (-1, 0):
        p = np.asarray(minikeras.activations.sparsemax(x, axis=axis))
        np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-5)
        assert (p >= 0).all() and (p == 0).any()


def test_sparsemax_gradient():
    x = np.random.default_rng(1).normal(size=(4, 5)) * 2
    gradient_check(lambda t: minikeras.ops.sparsemax(t, axis=-1), x)
    gradient_check(lambda t: minikeras.ops.sparsemax(t, axis=0), x)
