"""ops.cdist, ops.rearrange, ops.view_as_complex and ops.view_as_real, NumPy only: values against
NumPy formulas, shapes, errors, and float64 central-difference gradient checks."""

import numpy as np
import pytest
from gradcheck import gradient_check

import minikeras
from minikeras import ops

RNG = np.random.default_rng(31)


def _f(*shape):
    return RNG.standard_normal(shape).astype("float32")


# --- cdist ---------------------------------------------------------------------------------------
def _cdist_reference(x, y):
    return np.sqrt(((x[..., :, None, :] - y[..., None, :, :]) ** 2).sum(-1))


@pytest.mark.parametrize("xs, ys, out", [((3, 4), (5, 4), (3, 5)),
                                          ((2, 3, 4), (2, 5, 4), (2, 3, 5)),
                                          ((2, 3, 4), (1, 5, 4), (2, 3, 5)),
                                          ((3, 4), (6, 5, 4), (6, 3, 5)),
                                          ((3, 1), (2, 1), (3, 2))])
def test_cdist_values_and_shapes(xs, ys, out):
    x, y = _f(*xs), _f(*ys)
    result = ops.cdist(x, y)
    assert result.shape == out and result.dtype == "float32"
    np.testing.assert_allclose(np.asarray(result), _cdist_reference(x, y), rtol=1e-6, atol=1e-6)


def test_cdist_example_from_the_keras_docstring():
    # Keras's docstring prints sqrt(2) for the last entry, but |(1, 1) - (0, 1)| = 1 (and Keras
    # computes 1): every distance here is 1
    out = ops.cdist([[0.0, 0.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(np.asarray(out), np.ones((2, 2)), rtol=1e-6)


def test_cdist_dtypes():
    assert ops.cdist(np.ones((2, 3)), np.ones((2, 3))).dtype == "float64"
    assert ops.cdist(np.ones((2, 3), "float16"), np.ones((2, 3), "float16")).dtype == "float16"
    assert ops.cdist(np.ones((2, 3), "int32"), np.ones((2, 3), "int32")).dtype == "float32"


@pytest.mark.parametrize("xs, ys, message", [((3,), (2, 3), "rank >= 2"),
                                              ((2, 3), (2, 4), "Last dimension"),
                                              ((4, 2, 3), (3, 5, 3), "broadcastable")])
def test_cdist_errors(xs, ys, message):
    with pytest.raises(ValueError, match=message):
        ops.cdist(np.ones(xs), np.ones(ys))


@pytest.mark.parametrize("xs, ys", [((3, 4), (5, 4)), ((2, 3, 4), (1, 5, 4)), ((3, 2), (4, 3, 2))])
def test_cdist_gradients(xs, ys):
    gradient_check(ops.cdist, _f(*xs), _f(*ys))


def test_cdist_gradient_is_nan_at_zero_distance_as_tensorflow():
    x = minikeras.Tensor(np.array([[0.0, 0.0], [1.0, 1.0]], "float32"))
    y = minikeras.Tensor(np.array([[0.0, 0.0], [1.0, 0.0]], "float32"))
    with minikeras.GradientTape() as tape:
        tape.watch([x, y])
        loss = ops.sum(ops.cdist(x, y))
    gx, gy = (np.asarray(g) for g in tape.gradient(loss, [x, y]))
    assert np.isnan(gx[0]).all() and np.isnan(gy[0]).all()  # x[0] == y[0]
    np.testing.assert_allclose(gx[1], [0.5 ** 0.5, 1 + 0.5 ** 0.5], rtol=1e-6)
    np.testing.assert_allclose(gy[1], [1, -1], rtol=1e-6)


# --- rearrange -----------------------------------------------------------------------------------
X = np.arange(2 * 6 * 4 * 3, dtype="float32").reshape(2, 6, 4, 3)
PATTERNS = [  # pattern, axes_lengths, the same computed with NumPy
    ("b h w c -> b c h w", {}, lambda a: a.transpose(0, 3, 1, 2)),
    ("b h w c -> (b h) w c", {}, lambda a: a.reshape(12, 4, 3)),
    ("b h w c->b (c h w)", {}, lambda a: a.transpose(0, 3, 1, 2).reshape(2, 72)),
    ("b h w c -> h (b w) c", {}, lambda a: a.transpose(1, 0, 2, 3).reshape(6, 8, 3)),
    ("b (h1 h) (w1 w) c -> (b h1 w1) h w c", dict(h1=2, w1=2),
     lambda a: a.reshape(2, 2, 3, 2, 2, 3).transpose(0, 1, 3, 2, 4, 5).reshape(8, 3, 2, 3)),
    ("b (h h1) (w w1) c -> b h w (c h1 w1)", dict(h1=2, w1=2),
     lambda a: a.reshape(2, 3, 2, 2, 2, 3).transpose(0, 1, 3, 5, 2, 4).reshape(2, 3, 2, 12)),
    ("b (h h1) w c -> b h w c h1", dict(h=3),
     lambda a: a.reshape(2, 3, 2, 4, 3).transpose(0, 1, 3, 4, 2)),
    ("b h w c -> (b h w c)", {}, lambda a: a.ravel()),
    ("(b) h w c -> b h w c", {}, lambda a: a),
    ("b h w c -> c w h b", dict(z=5), lambda a: a.transpose(3, 2, 1, 0)),
]


@pytest.mark.parametrize("pattern, lengths, reference", PATTERNS)
def test_rearrange_values(pattern, lengths, reference):
    out = ops.rearrange(X, pattern, **lengths)
    np.testing.assert_array_equal(np.asarray(out), reference(X))


@pytest.mark.parametrize("pattern, lengths, reference", PATTERNS[:7])
def test_rearrange_gradients(pattern, lengths, reference):
    gradient_check(lambda t: ops.rearrange(t, pattern, **lengths), _f(2, 6, 4, 3))


ERRORS = [  # Keras's own errors (TensorFlow's InvalidArgumentError becomes ValueError)
    ("b h w c", {}, ValueError, "not enough values to unpack"),
    ("b h w c -> b h w c -> b", {}, ValueError, "too many values to unpack"),
    ("b h w c -> b h w d", {}, ValueError, "'d' is not in list"),
    ("b h w c -> b h w c 1", {}, ValueError, "'1' is not in list"),
    ("b h w -> b h w", {}, ValueError, "Input to reshape is a tensor with 144 values"),
    ("b h w c d -> b h w c d", {}, KeyError, "d"),
    ("b h w c -> b b w c", {}, ValueError, "valid permutation"),
    ("b (h h1) w c -> b h h1 w c", dict(h1=4), ValueError, "144 values"),
    ("b (h h1) w c -> b h h1 w c", {}, KeyError, "h1"),
    ("b h w c -> b h w", {}, ValueError, "transpose expects a vector of size 4"),
]


@pytest.mark.parametrize("pattern, lengths, error, message", ERRORS)
def test_rearrange_errors(pattern, lengths, error, message):
    with pytest.raises(error, match=message):
        ops.rearrange(X, pattern, **lengths)


def test_rearrange_does_not_change_the_callers_axes_lengths():
    lengths = dict(h1=2)
    ops.rearrange(X, "b (h h1) w c -> b h h1 w c", **lengths)
    assert lengths == dict(h1=2)


# --- view_as_complex / view_as_real --------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32"])
def test_view_as_complex_is_always_complex64(dtype):
    x = np.arange(6).reshape(3, 2).astype(dtype)
    out = ops.view_as_complex(x)
    assert out.dtype == "complex64" and out.shape == (3,)
    np.testing.assert_array_equal(np.asarray(out), [1j, 2 + 3j, 4 + 5j])


@pytest.mark.parametrize("shape", [(3, 3), (), (2, 1)])
def test_view_as_complex_needs_a_last_axis_of_two(shape):
    with pytest.raises(ValueError, match=r"Last dimension of input must be size 2.*"
                                         + __import__("re").escape(str(shape))):
        ops.view_as_complex(np.ones(shape))


@pytest.mark.parametrize("dtype, out_dtype", [("complex64", "float32"), ("complex128", "float64"),
                                              ("float32", "float32"), ("int32", "int32")])
def test_view_as_real_dtypes(dtype, out_dtype):
    x = np.array([1 + 2j, 3 - 4j]).astype(dtype) if dtype[0] == "c" else np.ones(2, dtype)
    out = ops.view_as_real(x)
    assert out.dtype == out_dtype and out.shape == (2, 2)
    expected = [[1, 2], [3, -4]] if dtype[0] == "c" else [[1, 0], [1, 0]]
    np.testing.assert_array_equal(np.asarray(out), expected)


def test_view_as_real_of_a_python_complex_is_float64():
    out = ops.view_as_real(1 + 2j)
    assert out.dtype == "float64" and out.shape == (2,)


def test_view_as_real_undoes_view_as_complex_with_the_identity_gradient():
    # the middle is complex64 (float32 parts), so central differences need a large step; the
    # function is linear, so a large step is exact
    gradient_check(lambda t: ops.view_as_real(ops.view_as_complex(t)), _f(3, 4, 2), eps=0.25)


def test_view_as_real_gradient_of_a_real_input_is_the_real_slot():
    gradient_check(ops.view_as_real, _f(3, 4))


def test_the_four_names_are_top_level_ops_only():
    for name in ["cdist", "rearrange", "view_as_complex", "view_as_real"]:
        assert callable(getattr(ops, name)) and name in ops.__all__
        for namespace in ["nn", "numpy", "image", "linalg"]:
            assert name not in dir(getattr(ops, namespace))
