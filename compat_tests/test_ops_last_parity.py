"""ops.cdist, ops.rearrange, ops.view_as_complex and ops.view_as_real against Keras 3.15 on
TensorFlow: the same values, dtypes and errors, and gradients of ``sum(f(x) * r)`` equal to
``tf.GradientTape``'s.

Forward values agree to rtol 1e-5, atol 1e-6 and gradients to the same, unless a comment says why
not.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_ops_parity import assert_parity

import minikeras
from minikeras import ops as mk

RTOL, ATOL = 1e-5, 1e-6
RNG = np.random.default_rng(2031)


def _f32(*shape):
    return RNG.uniform(-2.0, 2.0, size=shape).astype("float32")


def _public(module):
    return {name for name in dir(module) if not name.startswith("_")}


NAMES = ["cdist", "rearrange", "view_as_complex", "view_as_real"]


def test_the_names_are_where_keras_has_them():
    assert set(NAMES) <= _public(keras.ops) and set(NAMES) <= _public(mk)
    for namespace in ["nn", "numpy", "image", "linalg"]:
        theirs, ours = _public(getattr(keras.ops, namespace)), _public(getattr(mk, namespace))
        assert {n for n in NAMES if n in theirs} == {n for n in NAMES if n in ours}, namespace


# --- cdist ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("xs, ys", [((3, 4), (5, 4)), ((1, 1), (1, 1)), ((2, 3, 4), (2, 5, 4)),
                                    ((2, 3, 4), (1, 5, 4)), ((3, 4), (6, 5, 4)),
                                    ((2, 1, 3, 2), (4, 6, 2))])
def test_cdist(xs, ys):
    assert_parity(mk.cdist, keras.ops.cdist, _f32(*xs), _f32(*ys))


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_cdist_dtypes(dtype):
    x, y = _f32(3, 4).astype(dtype), _f32(5, 4).astype(dtype)
    out, expected = mk.cdist(x, y), keras.ops.cdist(x, y)
    assert out.dtype == expected.dtype.name
    # float16: the two libraries round the sum of squares differently (a few float16 ulps)
    tol = dict(rtol=2e-3, atol=2e-3) if dtype == "float16" else dict(rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(np.asarray(out), np.asarray(expected), **tol)


def _grads(lib, x, y, r):
    if lib is keras:
        xs, ys = tf.constant(x), tf.constant(y)
        with tf.GradientTape() as tape:
            tape.watch([xs, ys])
            loss = tf.reduce_sum(keras.ops.cdist(xs, ys) * r)
    else:
        xs, ys = minikeras.Tensor(x), minikeras.Tensor(y)
        with minikeras.GradientTape() as tape:
            tape.watch([xs, ys])
            loss = mk.sum(mk.multiply(mk.cdist(xs, ys), r))
    return [np.asarray(g) for g in tape.gradient(loss, [xs, ys])]


def test_cdist_gradient_at_zero_distance_is_tensorflows_nan():
    """Rows x[0] = y[0] and x[2] = y[1]: sqrt's gradient 0.5 g / 0 = inf, times diff 0 = NaN,
    which spreads over both rows' gradients; the other rows stay finite and equal."""
    x = _f32(4, 3)
    y = np.stack([x[0], x[2], _f32(3)]).astype("float32")
    r = RNG.standard_normal((4, 3)).astype("float32")
    ours, theirs = _grads(minikeras, x, y, r), _grads(keras, x, y, r)
    for g, k_g in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(k_g))
        np.testing.assert_allclose(g, k_g, rtol=RTOL, atol=ATOL)  # NaNs compare equal
    assert np.isnan(ours[0][[0, 2]]).all() and not np.isnan(ours[0][[1, 3]]).any()


@pytest.mark.parametrize("xs, ys", [((3,), (2, 3)), ((2, 3), (2, 4))])
def test_cdist_errors(xs, ys):
    with pytest.raises(ValueError) as theirs:
        keras.ops.cdist(np.ones(xs, "float32"), np.ones(ys, "float32"))
    with pytest.raises(ValueError, match=str(theirs.value).rstrip(".")):
        mk.cdist(np.ones(xs, "float32"), np.ones(ys, "float32"))


def test_cdist_batch_axes_that_do_not_broadcast():
    with pytest.raises(tf.errors.InvalidArgumentError):  # TensorFlow's error from Sub
        keras.ops.cdist(np.ones((4, 2, 3), "float32"), np.ones((3, 5, 3), "float32"))
    with pytest.raises(ValueError, match="broadcastable"):  # Keras's symbolic message
        mk.cdist(np.ones((4, 2, 3), "float32"), np.ones((3, 5, 3), "float32"))


# --- rearrange -----------------------------------------------------------------------------------
PATTERNS = [
    ((2, 6, 4, 3), "b h w c -> b c h w", {}),
    ((2, 6, 4, 3), "b h w c -> (b h) w c", {}),
    ((2, 6, 4, 3), "b h w c->b (c h w)", {}),
    ((2, 6, 4, 3), "b h w c -> h (b w) c", {}),
    ((2, 6, 4, 3), "b h w c -> (b h w c)", {}),
    ((2, 6, 4, 3), "b h w c -> c w h b", {"b": 2, "z": 5}),
    ((2, 6, 4, 3), "b (h1 h) (w1 w) c -> (b h1 w1) h w c", {"h1": 2, "w1": 2}),
    ((2, 6, 4, 3), "b (h h1) (w w1) c -> b h w (c h1 w1)", {"h1": 2, "w1": 2}),
    ((2, 6, 4, 3), "b (h h1) w c -> b h w c h1", {"h": 3}),
    ((2, 6, 4, 3), "b (h h1 h2) w c -> b h h1 h2 w c", {"h1": 2, "h2": 3}),
    ((2, 6, 4, 3), "b (h h1) w c -> (h1 b) (w h) c", {"h1": 3}),
    ((2, 6, 4, 3), "(b) h w c -> b h w c", {}),
    ((2, 6, 4, 3), "b h w c -> b h w c", {}),
    ((6, 4), "(a b) c -> c a b", {"b": 3}),
    ((6, 4), "(a b) c -> (c b) a", {"a": 3}),
    ((6, 4), "x y -> y x", {}),
    ((24,), "(a b c) -> c b a", {"a": 2, "b": 3}),
    ((2, 3, 4, 5, 6), "a b c d e -> (e a) (d b c)", {}),
    ((4, 6), "i (j k) -> (k i) j", {"k": 2}),
    ((4, 7), "i (j k) -> i j k", {"k": 2}),  # floor division: 7 // 2 = 3 ... refused below
]


def _keras_or_error(x, pattern, lengths):
    try:
        return np.asarray(keras.ops.rearrange(x, pattern, **lengths)), None
    except Exception as exc:  # noqa: BLE001 - the error is what the test compares
        return None, exc


@pytest.mark.parametrize("shape, pattern, lengths", PATTERNS)
def test_rearrange(shape, pattern, lengths):
    x = _f32(*shape)
    expected, error = _keras_or_error(x, pattern, dict(lengths))
    if error is not None:  # TensorFlow's InvalidArgumentError is minikeras's ValueError
        assert isinstance(error, tf.errors.InvalidArgumentError), error
        with pytest.raises(ValueError, match="Input to reshape is a tensor with"):
            mk.rearrange(x, pattern, **lengths)
        return
    np.testing.assert_array_equal(np.asarray(mk.rearrange(x, pattern, **lengths)), expected)
    assert_parity(lambda t: mk.rearrange(t, pattern, **lengths),
                  lambda t: keras.ops.rearrange(t, pattern, **lengths), x)


def test_rearrange_keeps_integer_dtypes():
    x = np.arange(24, dtype="int32").reshape(2, 3, 4)
    out, expected = mk.rearrange(x, "a b c -> c (a b)"), keras.ops.rearrange(x, "a b c -> c (a b)")
    assert out.dtype == expected.dtype.name
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))


ERRORS = [
    "b h w c",
    "b h w c -> b h w c -> b",
    "b h w c -> b h w d",
    "b h w c -> b h w c 1",
    "b h w c -> b h w c ()",
    "b h w -> b h w",
    "b h w c d -> b h w c d",
    "b h w c -> b b w c",
    ("b (h h1) w c -> b h h1 w c", {"h1": 4}),
    "b (h h1) w c -> b h h1 w c",
    ("b (h h1 h2) w c -> b h h1 h2 w c", {"h1": 2}),
    "b h w c -> b h w",
    "b ... c -> b c ...",
]


@pytest.mark.parametrize("case", ERRORS, ids=str)
def test_rearrange_errors(case):
    """Keras's Python errors exactly (type and message); TensorFlow's InvalidArgumentError from
    reshape or transpose as a ValueError saying the same first words."""
    pattern, lengths = case if isinstance(case, tuple) else (case, {})
    x = _f32(2, 6, 4, 3)
    _, theirs = _keras_or_error(x, pattern, dict(lengths))
    assert theirs is not None
    if isinstance(theirs, tf.errors.InvalidArgumentError):
        first_words = theirs.message.split("} ")[-1][:30]
        with pytest.raises(ValueError) as ours:
            mk.rearrange(x, pattern, **lengths)
        assert str(ours.value).startswith(first_words), (str(ours.value), theirs.message)
    else:
        with pytest.raises(type(theirs)) as ours:
            mk.rearrange(x, pattern, **lengths)
        assert str(ours.value) == str(theirs)


# --- view_as_complex / view_as_real --------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32"])
def test_view_as_complex(dtype):
    x = (_f32(3, 4, 2) * 10).astype(dtype)
    out, expected = mk.view_as_complex(x), keras.ops.view_as_complex(x)
    assert out.dtype == expected.dtype.name == "complex64"
    np.testing.assert_allclose(np.asarray(out), np.asarray(expected), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("shape", [(3, 3), (), (4, 1)])
def test_view_as_complex_errors(shape):
    with pytest.raises(ValueError) as theirs:
        keras.ops.view_as_complex(np.ones(shape, "float32"))
    with pytest.raises(ValueError) as ours:
        mk.view_as_complex(np.ones(shape, "float32"))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("value", [np.array([1 + 2j, 3 - 4j], "complex64"),
                                   np.array([[1 + 2j], [0.5 - 4j]], "complex128"),
                                   np.array([1.5, -2.0], "float32"), np.array([1, 2], "int32"),
                                   np.array([1.5, -2.0], "float64"), 1 + 2j, 2.5])
def test_view_as_real(value):
    out, expected = mk.view_as_real(value), keras.ops.view_as_real(value)
    assert out.dtype == expected.dtype.name and out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))


def test_view_as_real_of_view_as_complex_gradient():
    """Real in, real out, complex in the middle: both tapes carry the cotangent through."""
    assert_parity(lambda t: mk.view_as_real(mk.view_as_complex(t)),
                  lambda t: keras.ops.view_as_real(keras.ops.view_as_complex(t)), _f32(3, 4, 2))


def test_view_as_real_gradient_of_a_real_input():
    assert_parity(mk.view_as_real, keras.ops.view_as_real, _f32(3, 4))


def test_view_as_real_gradient_of_a_complex_input():
    """d sum(view_as_real(z) * r) / dz = r[..., 0] + i r[..., 1], as TensorFlow's tape says."""
    z = (_f32(3, 2) + 1j * _f32(3, 2)).astype("complex64")
    r = RNG.standard_normal((3, 2, 2)).astype("float32")
    zt = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(zt)
        loss = tf.reduce_sum(keras.ops.view_as_real(zt) * r)
    expected = np.asarray(tape.gradient(loss, zt))
    zm = minikeras.Tensor(z)
    with minikeras.GradientTape() as tape:
        tape.watch(zm)
        loss = mk.sum(mk.multiply(mk.view_as_real(zm), r))
    got = np.asarray(tape.gradient(loss, zm))
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_view_as_complex_gradient_of_a_complex_cotangent():
    """d sum(view_as_complex(x) * w) / dx for a complex w, with TensorFlow's conjugating
    convention: minikeras's multiply does not conjugate, so w is given conjugated to it."""
    x, w = _f32(3, 2), (_f32(3) + 1j * _f32(3)).astype("complex64")
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(keras.ops.view_as_complex(xt) * w)
    expected = np.asarray(tape.gradient(loss, xt))
    xm = minikeras.Tensor(x)
    with minikeras.GradientTape() as tape:
        tape.watch(xm)
        loss = mk.sum(mk.multiply(mk.view_as_complex(xm), np.conj(w)))
    got = np.asarray(tape.gradient(loss, xm))
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
