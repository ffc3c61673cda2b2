"""``minikeras.ops.nn``, ``ops.numpy`` and ``ops.image`` as Keras's sub-namespaces, and the ops
new with them: shapes, errors, values against plain NumPy definitions and float64 gradient
checks. NumPy only; the Keras parity tests are in compat_tests/test_ops_namespaces_parity.py."""

import sys
import warnings

import numpy as np
import pytest
from gradcheck import gradient_check

import minikeras
from minikeras import ops

RNG = np.random.default_rng(12)


def _x(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, size=shape).astype("float32")


# --- the namespaces -------------------------------------------------------------------------------
def test_namespaces_hold_the_quiet_ops_and_internals_keep_the_raw_ones():
    assert ops.nn.relu is ops.relu and ops.numpy.log is ops.log and ops.nn.ctc_loss is ops.ctc_loss
    assert sys.modules["minikeras.ops.nn"] is ops.nn
    from minikeras.ops import attention, nn

    assert nn is ops.nn
    assert not getattr(attention.softmax, "is_quiet", False)  # bound before the namespace
    assert not getattr(ops.nn.np_ops.multiply, "is_quiet", False)  # nn.py's own numpy module


def test_namespaces_reach_the_implementations_helpers():
    assert ops.nn._pair(3, "strides") == (3, 3)
    assert "np" not in dir(ops.numpy) and ops.numpy.np is np
    with pytest.raises(AttributeError, match="no_such_op"):
        ops.image.no_such_op  # noqa: B018


def test_keras_names_filed_in_other_namespaces_are_left_out():
    assert "tanh" not in dir(ops.nn) and "tanh" in dir(ops.numpy)
    assert "getitem" not in dir(ops.numpy) and "get_item" in dir(ops.numpy)
    assert "resize_nhwc" not in dir(ops.image)


# --- unfold, fold, polar --------------------------------------------------------------------------
def _unfold_reference(x, k, d, p, s):
    """im2col by loops: column (y, x) holds channel-major, then kernel row, then kernel column."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c * k[0] * k[1], oh * ow), x.dtype)
    for y in range(oh):
        for xx in range(ow):
            for ch in range(c):
                for i in range(k[0]):
                    for j in range(k[1]):
                        out[:, (ch * k[0] + i) * k[1] + j, y * ow + xx] = padded[
                            :, ch, y * s[0] + i * d[0], xx * s[1] + j * d[1]]
    return out


@pytest.mark.parametrize("k, d, p, s", [((2, 2), (1, 1), (0, 0), (1, 1)),
                                        ((3, 2), (2, 1), (1, 2), (2, 1))])
def test_unfold_is_im2col(k, d, p, s):
    x = _x(2, 3, 7, 6)
    np.testing.assert_array_equal(ops.nn.unfold(x, k, d, p, s), _unfold_reference(x, k, d, p, s))


def test_fold_adds_back_and_both_have_gradients():
    x = _x(1, 2, 5, 6)
    counts = ops.nn.fold(ops.nn.unfold(np.ones_like(x), 3, padding=1), (5, 6), 3, padding=1)
    np.testing.assert_allclose(ops.nn.fold(ops.nn.unfold(x, 3, padding=1), (5, 6), 3, padding=1),
                               x * np.asarray(counts), rtol=1e-6)
    gradient_check(lambda a: ops.nn.unfold(a, (2, 3), dilation=(1, 2), padding=1, stride=2), x)
    columns = np.asarray(ops.nn.unfold(x, 2, stride=(1, 2)))
    gradient_check(lambda a: ops.nn.fold(a, (5, 6), 2, stride=(1, 2)), columns)


def test_fold_and_unfold_errors():
    with pytest.raises(ValueError, match="4D"):
        ops.nn.unfold(_x(2, 3, 4), 2)
    with pytest.raises(ValueError, match="3D"):
        ops.nn.fold(_x(1, 4, 4, 1), (4, 4), 2)
    with pytest.raises(ValueError, match="divisible"):
        ops.nn.fold(_x(1, 6, 4), (4, 4), 2)
    with pytest.raises(ValueError, match="blocks"):
        ops.nn.fold(_x(1, 8, 5), (4, 4), 2, stride=2)


def test_polar():
    r, t = _x(3, low=0.0), _x(3, low=-3.0, high=3.0)
    z = np.asarray(ops.nn.polar(r, t))
    assert z.dtype == np.complex64
    np.testing.assert_allclose(z, r * np.exp(1j * t), rtol=1e-6)
    gradient_check(lambda a, b: ops.real(ops.nn.polar(a, b)), r, t)


# --- numpy: windows, view, vectorize --------------------------------------------------------------
@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
def test_windows_are_numpys(name):
    for length in (0, 1, 6, 9):
        out = np.asarray(getattr(ops.numpy, name)(length))
        assert out.dtype == np.float32 and out.shape == (length,)
        np.testing.assert_allclose(out, getattr(np, name)(length), atol=1e-7)
    np.testing.assert_allclose(ops.numpy.kaiser(7, 3.0), np.kaiser(7, 3.0), rtol=1e-6)


def test_view():
    x = np.arange(4, dtype="int32").reshape(2, 2)
    np.testing.assert_array_equal(ops.numpy.view(x, "int16"), x.view("int16"))
    assert np.asarray(ops.numpy.view(x, "int16")).shape == (2, 4)
    with pytest.raises(ValueError, match="not divisible"):
        ops.numpy.view(np.arange(3, dtype="int16"), "int32")
    with pytest.raises(ValueError, match="not divisible"):
        ops.numpy.view(np.int32(3), "int16")


def test_vectorize():
    square_plus = ops.numpy.vectorize(lambda a, b: a * a + b)
    np.testing.assert_array_equal(square_plus([1, 2, 3], 1), [2, 5, 10])
    gradient_check(square_plus, _x(2, 3), _x(3))
    matvec = ops.numpy.vectorize(lambda m, v: ops.matmul(m, v), signature="(m,n),(n)->(m)")
    m, v = _x(4, 2, 3), _x(3)
    np.testing.assert_allclose(matvec(m, v), m @ v, rtol=1e-6)
    gradient_check(matvec, m, v)
    halves = ops.numpy.vectorize(lambda a: (a, 2 * a))(np.arange(3.0))
    np.testing.assert_array_equal(halves[1], [0.0, 2.0, 4.0])
    scaled = ops.numpy.vectorize(lambda a, factor: a * factor, excluded={1})
    np.testing.assert_array_equal(scaled(np.arange(3), 10), [0, 10, 20])
    with pytest.raises(TypeError, match="positional arguments"):
        matvec(m)


# --- image ----------------------------------------------------------------------------------------
METHODS = ["bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area"]


@pytest.mark.parametrize("interpolation", METHODS)
@pytest.mark.parametrize("antialias", [False, True])
def test_resize_shapes_and_adjoint_gradient(interpolation, antialias):
    """Resizing is linear: the gradient of sum(resize(x) · r) is the transpose map Wᵀ r, so
    <x, gradient> equals sum(resize(x) · r)."""
    x = _x(2, 6, 7, 3)
    out = ops.image.resize(x, (4, 9), interpolation=interpolation, antialias=antialias)
    assert np.asarray(out).shape == (2, 4, 9, 3)
    r = _x(2, 4, 9, 3)
    t = minikeras.Tensor(x)
    with minikeras.GradientTape() as tape:
        tape.watch(t)
        loss = ops.sum(ops.image.resize(t, (4, 9), interpolation=interpolation,
                                        antialias=antialias) * r)
    grad = np.asarray(tape.gradient(loss, t), np.float64)
    np.testing.assert_allclose(np.sum(grad * x), float(loss), rtol=1e-4, atol=1e-5)


def test_resize_keeps_a_constant_image_constant():
    for interpolation in METHODS:
        out = ops.image.resize(np.full((5, 8, 2), 0.75, "float32"), (3, 11),
                               interpolation=interpolation, antialias=True)
        np.testing.assert_allclose(out, 0.75, rtol=1e-6)


def test_resize_errors():
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.resize(_x(4, 4, 1), (2, 2), interpolation="cubic")
    with pytest.raises(ValueError, match="Only one"):
        ops.image.resize(_x(4, 4, 1), (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="rank"):
        ops.image.resize(_x(4, 4), (2, 2))


def test_image_ops_shapes_both_formats():
    last, first = _x(2, 8, 9, 3, low=0.0), None
    first = np.transpose(last, (0, 3, 1, 2))
    cases = [
        (lambda x, f: ops.image.gaussian_blur(x, (3, 5), (1.0, 2.0), data_format=f), (8, 9, 3)),
        (lambda x, f: ops.image.sobel_edges(x, data_format=f), (8, 9, 3)),
        (lambda x, f: ops.image.rgb_to_grayscale(x, data_format=f), (8, 9, 1)),
        (lambda x, f: ops.image.extract_patches(x, 2, data_format=f), (4, 4, 12)),
        (lambda x, f: ops.image.crop_images(x, 1, 2, target_height=4, target_width=5,
                                            data_format=f), (4, 5, 3)),
        (lambda x, f: ops.image.pad_images(x, 1, 2, target_height=12, target_width=13,
                                           data_format=f), (12, 13, 3)),
    ]
    for fn, (h, w, c) in cases:
        out_last = np.asarray(fn(last, "channels_last"))
        out_first = np.asarray(fn(first, "channels_first"))
        if out_last.ndim == 5:  # sobel: (N, H, W, C, 2) and (N, C, H, W, 2)
            assert out_last.shape == (2, h, w, c, 2)
            np.testing.assert_allclose(np.moveaxis(out_first, 1, 3), out_last, rtol=1e-6)
        else:
            assert out_last.shape == (2, h, w, c)
            np.testing.assert_allclose(np.moveaxis(out_first, 1, 3), out_last, rtol=1e-6,
                                       atol=1e-7)


def test_hsv_round_trip_and_ssim_of_equal_images():
    x = _x(2, 5, 6, 3, low=0.0)
    np.testing.assert_allclose(ops.image.hsv_to_rgb(ops.image.rgb_to_hsv(x)), x, atol=1e-6)
    np.testing.assert_allclose(ops.image.ssim(x, x, filter_size=3), np.ones(2), rtol=1e-6)


def test_image_gradients():
    x = _x(1, 6, 7, 2)
    gradient_check(lambda a: ops.image.gaussian_blur(a, (3, 3), (0.8, 0.8)), x)
    gradient_check(lambda a: ops.image.sobel_edges(a), x)
    gradient_check(lambda a, b: ops.image.ssim(a, b, filter_size=3), x, _x(1, 6, 7, 2),
                   rtol=1e-4, atol=1e-6)
    gradient_check(lambda a: ops.image.extract_patches(a, (2, 3), strides=1), x)
    gradient_check(lambda a: ops.image.scale_and_translate(
        a, (1, 9, 5, 2), np.array([1.5, 0.7], "float32"), np.zeros(2, "float32"), (1, 2),
        "lanczos3"), x)
    coordinates = np.stack([RNG.uniform(-1, 6, (3, 4)), RNG.uniform(-1, 7, (3, 4))])
    gradient_check(lambda a, c: ops.image.map_coordinates(a, c, 1, fill_mode="constant"),
                   x[0, ..., 0], coordinates)


def test_map_coordinates_reads_pixels_at_integer_points():
    image = np.arange(12.0).reshape(3, 4)
    for order in (0, 1):
        out = ops.image.map_coordinates(image, [[0, 2, 1], [3, 0, 1]], order)
        np.testing.assert_array_equal(out, [3.0, 8.0, 5.0])
    with pytest.raises(NotImplementedError, match="order"):
        ops.image.map_coordinates(image, [[0.5], [0.5]], 3)


def test_crop_and_pad_errors():
    x = _x(5, 6, 1)
    with pytest.raises(ValueError, match="exactly two"):
        ops.image.crop_images(x, top_cropping=1, bottom_cropping=1, target_height=3,
                              left_cropping=0, target_width=2)
    with pytest.raises(ValueError, match="must be >= 0"):
        ops.image.pad_images(x, top_padding=0, target_height=4, left_padding=0, target_width=6)


def test_elastic_transform_is_seeded():
    x = _x(1, 8, 8, 1, low=0.0)
    a = ops.image.elastic_transform(x, alpha=5.0, sigma=1.0, seed=3)
    b = ops.image.elastic_transform(x, alpha=5.0, sigma=1.0, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, x)


def test_sub_namespace_ops_do_not_warn_on_extreme_images():
    image = np.array([[[0.0], [np.inf]], [[-np.inf], [np.nan]]], "float32")[None]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ops.image.resize(image, (3, 3), interpolation="lanczos3")
        ops.image.rgb_to_hsv(np.repeat(image, 3, axis=-1))
        ops.image.gaussian_blur(image)
        ops.numpy.log(np.float32(0))
