"""``keras.ops.nn``, ``keras.ops.numpy`` and ``keras.ops.image`` against minikeras's (Keras 3.15,
TensorFlow backend): the same public names, and the ops new with them (fold, unfold, polar, the
window functions, view, vectorize and the image ops) give the same values and gradients.

Forward values agree to rtol 1e-5, atol 1e-6, and gradients of ``sum(f(x) * r)`` (``r`` a fixed
random array) agree with ``tf.GradientTape``'s to the same tolerance, unless a comment says why
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
RNG = np.random.default_rng(2027)


def _f32(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape).astype("float32")


def _public(module):
    return {name for name in dir(module) if not name.startswith("_")}


# --- the namespaces ------------------------------------------------------------------------------
@pytest.mark.parametrize("namespace", ["nn", "numpy", "image"])
def test_sub_namespace_names_equal_keras(namespace):
    ours, theirs = _public(getattr(mk, namespace)), _public(getattr(keras.ops, namespace))
    assert ours == theirs, (f"only in minikeras.ops.{namespace}: {sorted(ours - theirs)}; "
                            f"only in keras.ops.{namespace}: {sorted(theirs - ours)}")


@pytest.mark.parametrize("namespace", ["nn", "numpy"])
def test_sub_namespace_ops_are_the_top_level_ops(namespace):
    """As in Keras, ``ops.nn.relu is ops.relu``: one quiet function under both names."""
    module = getattr(mk, namespace)
    for name in _public(module):
        assert getattr(module, name) is getattr(mk, name), name


def test_keras_top_level_names_added_here_exist():
    new = {"fold", "unfold", "polar", "bartlett", "blackman", "hamming", "hanning", "kaiser",
           "vectorize", "view"}
    assert new <= _public(keras.ops) and new <= _public(mk)


def test_the_ways_to_reach_a_namespace_agree():
    import minikeras.ops.numpy as by_import
    from minikeras.ops.nn import ctc_loss

    assert by_import is mk.numpy and ctc_loss is mk.nn.ctc_loss is mk.ctc_loss


# --- unfold and fold -----------------------------------------------------------------------------
FOLDS = [  # (input shape (N, C, H, W), kernel_size, dilation, padding, stride)
    ((2, 3, 6, 7), 2, 1, 0, 1),
    ((1, 2, 6, 6), 2, 1, 0, 2),
    ((2, 2, 7, 5), (3, 2), (2, 1), (1, 2), (2, 1)),
    ((1, 1, 5, 5), 3, 1, 1, 1),
    ((2, 4, 8, 6), (1, 3), 1, (0, 1), (3, 2)),
]


@pytest.mark.parametrize("shape, kernel, dilation, padding, stride", FOLDS)
def test_unfold(shape, kernel, dilation, padding, stride):
    def fn(ops):
        return lambda x: ops.nn.unfold(x, kernel, dilation=dilation, padding=padding,
                                       stride=stride)

    assert_parity(fn(mk), fn(keras.ops), _f32(*shape))


@pytest.mark.parametrize("shape, kernel, dilation, padding, stride", FOLDS)
def test_fold(shape, kernel, dilation, padding, stride):
    columns = np.asarray(keras.ops.unfold(_f32(*shape), kernel, dilation, padding, stride))

    def fn(ops):
        return lambda x: ops.nn.fold(x, shape[2:], kernel, dilation=dilation, padding=padding,
                                     stride=stride)

    assert_parity(fn(mk), fn(keras.ops), RNG.normal(size=columns.shape).astype("float32"))


def test_unfold_of_integers():
    x = np.arange(2 * 3 * 4 * 4, dtype="int32").reshape(2, 3, 4, 4)
    ours, theirs = mk.nn.unfold(x, 2, stride=2), keras.ops.nn.unfold(x, 2, stride=2)
    np.testing.assert_array_equal(ours, theirs)
    assert np.asarray(ours).dtype == np.asarray(theirs).dtype


# --- polar ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3), (3,)), ((), (5,))])
def test_polar(shapes):
    magnitude, angle = _f32(*shapes[0], low=0.0, high=3.0), _f32(*shapes[1], low=-4.0, high=4.0)
    ours, theirs = mk.nn.polar(magnitude, angle), np.asarray(keras.ops.nn.polar(magnitude, angle))
    assert np.asarray(ours).dtype == theirs.dtype == np.complex64
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    # gradients for a complex output gradient r1 + i r2 (TensorFlow's convention: the
    # gradient of a real loss L is dL/dRe + i dL/dIm)
    upstream = (RNG.normal(size=theirs.shape) + 1j * RNG.normal(size=theirs.shape))
    upstream = upstream.astype("complex64")
    a, t = minikeras.Tensor(magnitude), minikeras.Tensor(angle)
    with minikeras.GradientTape() as tape:
        tape.watch([a, t])
        z = mk.nn.polar(a, t)
    ours = tape.gradient(z, [a, t], output_gradients=upstream)
    a, t = tf.constant(magnitude), tf.constant(angle)
    with tf.GradientTape() as tape:
        tape.watch([a, t])
        z = keras.ops.nn.polar(a, t)
    for g, k_g in zip(ours, tape.gradient(z, [a, t], output_gradients=upstream), strict=True):
        np.testing.assert_allclose(g, k_g, rtol=RTOL, atol=ATOL)


# --- window functions ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
@pytest.mark.parametrize("length", [1, 2, 5, 8, 33])
def test_windows(name, length):
    ours = np.asarray(getattr(mk.numpy, name)(length))
    theirs = np.asarray(getattr(keras.ops.numpy, name)(length))
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("length, beta", [(1, 5.0), (5, 14.0), (12, 0.0), (31, 8.6)])
def test_kaiser(length, beta):
    ours, theirs = mk.numpy.kaiser(length, beta), keras.ops.numpy.kaiser(length, beta)
    assert np.asarray(ours).dtype == np.asarray(theirs).dtype
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def test_window_length_from_a_tensor():
    np.testing.assert_allclose(mk.numpy.hanning(mk.convert_to_tensor(6)),
                               keras.ops.numpy.hanning(keras.ops.convert_to_tensor(6)),
                               rtol=RTOL, atol=ATOL)


# --- view ----------------------------------------------------------------------------------------
VIEWS = [(np.arange(6, dtype="int32").reshape(2, 3), "float32"),
         (np.arange(8, dtype="int32").reshape(2, 4), "int16"),
         (np.arange(8, dtype="int16").reshape(2, 4), "int32"),
         (np.linspace(-1, 1, 12).astype("float32").reshape(3, 4), "uint8"),
         (np.linspace(-1, 1, 6).astype("float64"), "float32"),
         (np.array([1.5, -2.0], "float32"), None)]


@pytest.mark.parametrize("x, dtype", VIEWS, ids=lambda v: str(getattr(v, "dtype", v)))
def test_view(x, dtype):
    ours, theirs = np.asarray(mk.numpy.view(x, dtype)), np.asarray(keras.ops.numpy.view(x, dtype))
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.view("uint8"), theirs.view("uint8"))


def test_view_refuses_what_keras_refuses():
    x = np.arange(3, dtype="int16")
    with pytest.raises(ValueError):
        keras.ops.numpy.view(x, "int32")
    with pytest.raises(ValueError, match="not divisible"):
        mk.numpy.view(x, "int32")


# --- vectorize -----------------------------------------------------------------------------------
# Keras 3.15's TensorFlow backend refuses every call that vectorizes over an axis: its
# ``_vmap_fn`` accepts only ``in_axes == 0`` but is always given a tuple. minikeras vectorizes
# as ``numpy.vectorize`` and JAX do, so its values are checked against NumPy and its gradients
# against TensorFlow's for the same computation written without vectorize.
def test_keras_tensorflow_vectorize_refuses_to_vectorize():
    with pytest.raises(ValueError, match="Not supported"):
        keras.ops.numpy.vectorize(lambda a: a + 1)(np.arange(3.0))


def test_vectorize_elementwise():
    vectorized = mk.numpy.vectorize(lambda a: mk.square(a) + mk.sin(a))
    assert_parity(vectorized, lambda a: keras.ops.square(a) + keras.ops.sin(a), _f32(3, 4))


def test_vectorize_with_a_signature():
    vectorized = mk.numpy.vectorize(lambda m, v: mk.matmul(m, v), signature="(m,n),(n)->(m)")
    assert_parity(vectorized, lambda m, v: tf.einsum("bmn,bn->bm", m, v),
                  _f32(2, 3, 4), _f32(2, 4))


def test_vectorize_broadcasts_as_numpy():
    ours = mk.numpy.vectorize(lambda a, b: a * 10 + b)(np.arange(3), np.arange(2)[:, None])
    np.testing.assert_array_equal(ours, np.vectorize(lambda a, b: a * 10 + b)(
        np.arange(3), np.arange(2)[:, None]))


# --- names Keras also files here -----------------------------------------------------------------
def test_slogdet_get_item_and_tanh_in_numpy():
    x = _f32(3, 3) + 3 * np.eye(3, dtype="float32")
    for ours, theirs in zip(mk.numpy.slogdet(x), keras.ops.numpy.slogdet(x), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(mk.numpy.get_item(x, 1), keras.ops.numpy.get_item(x, 1))
    np.testing.assert_allclose(mk.numpy.tanh(x), keras.ops.numpy.tanh(x), rtol=RTOL, atol=ATOL)


# --- image: resize -------------------------------------------------------------------------------
def _images(data_format, batch=2, height=7, width=9, channels=3, low=0.0, high=1.0):
    shape = (batch, height, width, channels) if data_format == "channels_last" else (
        batch, channels, height, width)
    return _f32(*shape, low=low, high=high)


FORMATS = ["channels_last", "channels_first"]
SIZES = [(4, 5), (11, 13), (7, 3), (1, 1)]


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic", "lanczos3",
                                           "lanczos5", "area"])
@pytest.mark.parametrize("antialias", [False, True])
def test_resize(interpolation, size, data_format, antialias):
    def fn(ops):
        return lambda x: ops.image.resize(x, size, interpolation=interpolation,
                                          antialias=antialias, data_format=data_format)

    # TensorFlow registers no gradient for ResizeArea: only the values are compared there
    wrt = [] if interpolation == "area" else None
    assert_parity(fn(mk), fn(keras.ops), _images(data_format), wrt=wrt)


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("aspect", ["crop_to_aspect_ratio", "pad_to_aspect_ratio"])
@pytest.mark.parametrize("size", [(4, 8), (8, 4), (5, 5)])
def test_resize_to_aspect_ratio(aspect, size, data_format):
    def fn(ops):
        return lambda x: ops.image.resize(x, size, **{aspect: True}, fill_value=0.5,
                                          data_format=data_format)

    assert_parity(fn(mk), fn(keras.ops), _images(data_format))


def test_resize_single_image_and_integers():
    image = RNG.integers(0, 255, size=(6, 5, 3)).astype("uint8")
    for interpolation in ("nearest", "bilinear", "area"):
        ours = np.asarray(mk.image.resize(image, (4, 7), interpolation=interpolation))
        theirs = np.asarray(keras.ops.image.resize(image, (4, 7), interpolation=interpolation))
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_allclose(ours.astype("float32"), theirs.astype("float32"), rtol=RTOL,
                                   atol=1e-4)  # uint8 inputs up to 255: float32 rounding


# --- image: affine, perspective, map_coordinates, elastic ---------------------------------------
TRANSFORMS = np.array([[1.2, 0.1, -1.0, -0.1, 0.9, 0.5, 0.0, 0.0],
                       [0.8, -0.3, 2.0, 0.2, 1.1, -1.5, 0.01, -0.02]], "float32")


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "reflect"])
def test_affine_transform(interpolation, fill_mode, data_format):
    def fn(ops):
        return lambda x: ops.image.affine_transform(x, TRANSFORMS, interpolation=interpolation,
                                                    fill_mode=fill_mode, fill_value=0.25,
                                                    data_format=data_format)

    # the gradient warps back by the inverse transforms: TensorFlow inverts the 3 x 3 matrices
    # with its own float32 LU, which differs from LAPACK's in the last bits (seen: 3e-6 on 0.19)
    assert_parity(fn(mk), fn(keras.ops), _images(data_format), grad_atol=1e-5)


def test_affine_transform_single_image_single_transform():
    image = _f32(6, 8, 2)
    np.testing.assert_allclose(mk.image.affine_transform(image, TRANSFORMS[0]),
                               keras.ops.image.affine_transform(image, TRANSFORMS[0]),
                               rtol=RTOL, atol=ATOL)


START = np.array([[0, 0], [8, 0], [0, 6], [8, 6]], "float32")
# end points off the half pixels: nearest-neighbour reads at exact ties (x.5) would round by
# the last bit of the two libraries' slightly different homographies
ENDS = [np.array([[1, 0.3], [7.6, 0], [0, 5.2], [8, 6.3]], "float32"),
        np.array([[[0.4, 1.1], [7.2, 0], [1.3, 6], [8, 5.1]], [[0, 0], [8, 1.2], [0, 6],
                                                                [7.3, 6]]], "float32")]


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("end", [0, 1])
def test_perspective_transform(interpolation, end, data_format):
    start = START if ENDS[end].ndim == 2 else np.stack([START, START])

    def fn(ops):
        return lambda x: ops.image.perspective_transform(
            x, start, ENDS[end], interpolation=interpolation, fill_value=0.5,
            data_format=data_format)

    # the 8 x 8 homography system is solved in float32 by LAPACK here and by TensorFlow's own
    # LU there; the coefficients differ in the last bits, which moves interpolated values by
    # up to ~1e-5 (and could flip a nearest-neighbour read exactly at a half pixel)
    assert_parity(fn(mk), fn(keras.ops), _images(data_format, height=7, width=9),
                  rtol=1e-4, atol=1e-5, grad_atol=1e-5)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
def test_map_coordinates(order, fill_mode):
    image = _f32(5, 6)
    # inside and outside points; Keras's "mirror" reads past the edge (TensorFlow raises) for
    # indices of size or more and below -size, so mirror stays within (-1, size - 1)
    mirror = fill_mode == "mirror"
    low, high = (-0.9, (3.9, 4.9)) if mirror else (-3.0, (6.4, 7.4))
    coordinates = np.stack([RNG.uniform(low, high[0], (3, 4)), RNG.uniform(low, high[1], (3, 4))])
    coordinates = coordinates.astype("float32")

    def fn(ops):
        return lambda x, c: ops.image.map_coordinates(x, c, order, fill_mode=fill_mode,
                                                      fill_value=0.5)

    assert_parity(fn(mk), fn(keras.ops), image, coordinates)


def test_elastic_transform_without_displacement_is_the_identity_read():
    """The random field differs (minikeras draws its noise with NumPy): with alpha = 0 both
    libraries read every pixel in place."""
    images = _images("channels_last")
    for interpolation in ("bilinear", "nearest"):
        ours = mk.image.elastic_transform(images, alpha=0.0, interpolation=interpolation,
                                          seed=1)
        theirs = keras.ops.image.elastic_transform(images, alpha=0.0,
                                                   interpolation=interpolation, seed=1)
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    moved = mk.image.elastic_transform(images, alpha=20.0, sigma=2.0, seed=1)
    assert np.asarray(moved).shape == images.shape and not np.allclose(moved, images)


# --- image: colour, blur, edges, similarity ------------------------------------------------------
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("name", ["rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb"])
def test_colour_conversions(name, data_format):
    images = _images(data_format)
    if name == "rgb_to_hsv":  # exact ties between channels pick the hue's branch
        images[..., 0, 0] = 0.5
    ours = getattr(mk.image, name)(images, data_format=data_format)
    theirs = getattr(keras.ops.image, name)(images, data_format=data_format)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    if name == "rgb_to_grayscale":
        assert_parity(lambda x: mk.image.rgb_to_grayscale(x, data_format=data_format),
                      lambda x: keras.ops.image.rgb_to_grayscale(x, data_format=data_format),
                      images)


def test_grayscale_of_integers_and_of_one_channel():
    images = RNG.integers(0, 255, size=(2, 4, 5, 3)).astype("uint8")
    np.testing.assert_array_equal(mk.image.rgb_to_grayscale(images),
                                  keras.ops.image.rgb_to_grayscale(images))
    gray = _f32(4, 5, 1)
    np.testing.assert_array_equal(mk.image.rgb_to_grayscale(gray), gray)


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("kernel_size, sigma", [((3, 3), (1.0, 1.0)), ((5, 3), (1.5, 0.7)),
                                                ((1, 7), (0.5, 2.0))])
def test_gaussian_blur(kernel_size, sigma, data_format):
    def fn(ops):
        return lambda x: ops.image.gaussian_blur(x, kernel_size, sigma, data_format=data_format)

    assert_parity(fn(mk), fn(keras.ops), _images(data_format))


@pytest.mark.parametrize("data_format", FORMATS)
def test_sobel_edges(data_format):
    def fn(ops):
        return lambda x: ops.image.sobel_edges(x, data_format=data_format)

    assert_parity(fn(mk), fn(keras.ops), _images(data_format))


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("kwargs", [{}, {"max_val": 2.0, "filter_size": 5, "filter_sigma": 1.0},
                                    {"k1": 0.05, "k2": 0.1, "filter_size": 3}])
def test_ssim(kwargs, data_format):
    a = _images(data_format, height=12, width=13)
    b = np.clip(a + _f32(*a.shape, low=-0.2, high=0.2), 0, 1)

    def fn(ops):
        return lambda x, y: ops.image.ssim(x, y, data_format=data_format, **kwargs)

    assert_parity(fn(mk), fn(keras.ops), a, b)


def test_ssim_of_one_image():
    a, b = _f32(12, 12, 3, low=0.0), _f32(12, 12, 3, low=0.0)
    np.testing.assert_allclose(mk.image.ssim(a, b), keras.ops.image.ssim(a, b), rtol=RTOL,
                               atol=ATOL)


# --- image: crop, pad, patches, scale_and_translate ---------------------------------------------
CROPS = [{"top_cropping": 1, "left_cropping": 2, "target_height": 4, "target_width": 5},
         {"bottom_cropping": 2, "right_cropping": 1, "target_height": 3, "target_width": 6},
         {"top_cropping": 1, "bottom_cropping": 2, "left_cropping": 0, "right_cropping": 3}]


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("kwargs", CROPS)
def test_crop_images(kwargs, data_format):
    def fn(ops):
        return lambda x: ops.image.crop_images(x, **kwargs, data_format=data_format)

    assert_parity(fn(mk), fn(keras.ops), _images(data_format))
    single = _images(data_format)[0]
    np.testing.assert_array_equal(fn(mk)(single), fn(keras.ops)(single))


PADS = [{"top_padding": 1, "left_padding": 2, "target_height": 10, "target_width": 12},
        {"bottom_padding": 2, "right_padding": 1, "target_height": 9, "target_width": 10},
        {"top_padding": 0, "bottom_padding": 2, "left_padding": 3, "right_padding": 1}]


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("kwargs", PADS)
def test_pad_images(kwargs, data_format):
    def fn(ops):
        return lambda x: ops.image.pad_images(x, **kwargs, data_format=data_format)

    assert_parity(fn(mk), fn(keras.ops), _images(data_format))
    single = _images(data_format)[0]
    np.testing.assert_array_equal(fn(mk)(single), fn(keras.ops)(single))


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("size, strides, dilation, padding", [
    (2, None, 1, "valid"), ((3, 2), (1, 2), 1, "same"), (3, 1, 2, "valid"), ((2, 3), 2, 1, "same")])
def test_extract_patches(size, strides, dilation, padding, data_format):
    def fn(ops):
        return lambda x: ops.image.extract_patches(x, size, strides, dilation, padding,
                                                   data_format=data_format)

    assert_parity(fn(mk), fn(keras.ops), _images(data_format))


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("size, strides", [(2, None), ((2, 3, 2), (1, 2, 2))])
def test_extract_patches_3d(size, strides, data_format):
    shape = (2, 4, 5, 6, 2) if data_format == "channels_last" else (2, 2, 4, 5, 6)

    def fn(ops):
        return lambda x: ops.image.extract_patches_3d(x, size, strides, data_format=data_format)

    assert_parity(fn(mk), fn(keras.ops), _f32(*shape))
    assert_parity(lambda x: mk.image.extract_patches(x, (2, 2, 2), data_format=data_format),
                  lambda x: keras.ops.image.extract_patches(x, (2, 2, 2),
                                                            data_format=data_format),
                  _f32(*shape))


@pytest.mark.parametrize("method", ["linear", "bilinear", "cubic", "lanczos3", "lanczos5"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("scale, translation", [((2.0, 1.5), (-0.5, 0.25)),
                                                ((0.5, 0.7), (0.0, 1.0))])
def test_scale_and_translate(method, antialias, scale, translation):
    images = _f32(2, 6, 7, 3)
    output_shape = (2, int(6 * scale[0]), int(7 * scale[1]) + 1, 3)

    def fn(ops):
        return lambda x: ops.image.scale_and_translate(
            x, output_shape, np.asarray(scale, "float32"), np.asarray(translation, "float32"),
            (1, 2), method, antialias)

    assert_parity(fn(mk), fn(keras.ops), images)
