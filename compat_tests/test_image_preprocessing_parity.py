"""Image preprocessing layers against tf.keras: Resizing, CenterCrop, RandomCrop, RandomFlip,
RandomRotation, RandomZoom, RandomTranslation, RandomContrast, RandomBrightness.

Random draws cannot match TensorFlow's Philox streams, so every comparison is of a
deterministic case: the layers that are not random (Resizing, CenterCrop), inference (the
identity), factors whose range is one point (``RandomRotation(factor=(0.25, 0.25))`` always
turns by 90 degrees, ``RandomContrast((-0.5, 0.5))`` always scales by 1.5), RandomCrop where
Keras takes no draw, and the layers' own ``transform_images(images, transformation)`` given the
same transformation. The random statistics are tested in tests/test_image_preprocessing.py.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_saving_parity import assert_files_move_both_ways
from test_saving_parity import assert_same_config as assert_same_json_config
from test_training_parity import assert_trains_like_keras

import minikeras as mk

RTOL, ATOL = 1e-5, 1e-6
FORMATS = ("channels_last", "channels_first")


def images(rng, shape=(2, 7, 9, 3), data_format="channels_last", low=0.0, high=255.0):
    x = rng.uniform(low, high, size=shape).astype("float32")
    return x if data_format == "channels_last" else np.ascontiguousarray(
        np.transpose(x, (0, 3, 1, 2)) if x.ndim == 4 else np.transpose(x, (2, 0, 1)))


def both(name, *args, **kwargs):
    return getattr(keras.layers, name)(*args, **kwargs), getattr(mk.layers, name)(*args, **kwargs)


def assert_same_call(name, args, kwargs, x, training=True, rtol=RTOL, atol=ATOL):
    k, m = both(name, *args, **kwargs)
    theirs = np.asarray(k(x, training=training))
    ours = m(x, training=training).numpy()
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
    return k, m


def config_without_name(layer):
    config = dict(layer.get_config())
    config.pop("name")
    return json.loads(json.dumps(config))


# --- Resizing ------------------------------------------------------------------------------------
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic", "area",
                                           "lanczos3", "lanczos5"])
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("size", [(3, 5), (14, 18), (7, 9), (5, 13), (1, 1), (20, 4), (10, 3)])
def test_resizing_equals_keras(rng, interpolation, data_format, size):
    x = images(rng, data_format=data_format)
    # lanczos's negative lobes make an output near 0 the difference of pixels near 255: its
    # float32 rounding is then that of 255 (6e-6), so the absolute tolerance is 255 · 1e-6
    atol = ATOL * 255 if interpolation.startswith("lanczos") else ATOL
    k, m = assert_same_call("Resizing", size, dict(interpolation=interpolation,
                                                   data_format=data_format), x, atol=atol)
    assert m.compute_output_shape(x.shape) == k.compute_output_shape(x.shape)
    assert config_without_name(m) == config_without_name(k)


@pytest.mark.parametrize("mode", ["crop_to_aspect_ratio", "pad_to_aspect_ratio"])
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("size", [(4, 4), (3, 8), (8, 3), (12, 5)])
def test_resizing_to_aspect_ratio_equals_keras(rng, mode, data_format, size):
    x = images(rng, shape=(2, 7, 10, 3), data_format=data_format)
    kwargs = {mode: True, "data_format": data_format, "fill_value": 7.5}
    assert_same_call("Resizing", size, kwargs, x)
    assert_same_call("Resizing", size, {**kwargs, "interpolation": "nearest"}, x[0])


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "lanczos3", "area"])
@pytest.mark.parametrize("size", [(3, 5), (14, 18), (2, 2)])
def test_resizing_with_antialias_equals_keras(rng, interpolation, size):
    x = images(rng)
    k, m = assert_same_call("Resizing", size, dict(interpolation=interpolation, antialias=True),
                            x, atol=ATOL * 255)  # the antialiasing kernels cancel like lanczos
    assert config_without_name(m) == config_without_name(k)


def test_resizing_single_image_and_uint8_equal_keras(rng):
    x = images(rng)[0]
    assert_same_call("Resizing", (5, 4), {}, x)
    pixels = rng.integers(0, 256, size=(2, 6, 9, 3)).astype("uint8")
    for interpolation in ("bilinear", "nearest", "bicubic"):  # rounded, saturated to uint8
        assert_same_call("Resizing", (4, 13), dict(interpolation=interpolation), pixels)


def test_resizing_gradient_equals_tensorflow(rng):
    x = images(rng, shape=(2, 5, 7, 2), high=1.0)
    weights = rng.normal(size=(2, 8, 3, 2)).astype("float32")
    for interpolation in ("bilinear", "nearest", "bicubic"):
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            loss = tf.reduce_sum(keras.layers.Resizing(8, 3, interpolation=interpolation)(xt)
                                 * weights)
        theirs = tape.gradient(loss, xt).numpy()
        xm = mk.ops.convert_to_tensor(x)
        with mk.GradientTape() as mtape:
            mtape.watch(xm)
            out = mk.layers.Resizing(8, 3, interpolation=interpolation)(xm)
            mloss = mk.ops.sum(mk.ops.multiply(out, weights))
        ours = np.asarray(mtape.gradient(mloss, xm))
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def test_resizing_symbolic_shape_equals_keras():
    for lib in (keras, mk):
        out = lib.layers.Resizing(5, 6)(lib.Input((None, None, 3)))
        assert tuple(out.shape) == (None, 5, 6, 3)


# --- CenterCrop ----------------------------------------------------------------------------------
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("size", [(3, 5), (7, 9), (2, 2), (4, 12), (9, 4), (10, 12)])
def test_center_crop_equals_keras(rng, data_format, size):
    x = images(rng, data_format=data_format)
    for training in (True, False):
        k, m = assert_same_call("CenterCrop", size, dict(data_format=data_format), x, training)
    assert_same_call("CenterCrop", size, dict(data_format=data_format), x[0])
    assert m.compute_output_shape(x.shape) == k.compute_output_shape(x.shape)
    assert config_without_name(m) == config_without_name(k)


# --- RandomCrop ----------------------------------------------------------------------------------
@pytest.mark.parametrize("data_format", FORMATS)
def test_random_crop_at_inference_is_the_identity_as_in_keras(rng, data_format):
    x = images(rng, data_format=data_format)
    k, m = assert_same_call("RandomCrop", (4, 5), dict(seed=3, data_format=data_format), x,
                            training=False)
    pixels = rng.integers(0, 256, size=(2, 7, 9, 3)).astype("uint8")
    assert_same_call("RandomCrop", (4, 5), dict(seed=3), pixels, training=False)
    assert m.compute_output_shape(x.shape) == k.compute_output_shape(x.shape)
    assert config_without_name(m) == config_without_name(k)
    model = {lib: lib.Sequential([lib.Input(x.shape[1:]), lib.layers.RandomCrop(
        4, 5, data_format=data_format)]) for lib in (keras, mk)}
    np.testing.assert_array_equal(model[mk].predict(x, verbose=0), model[keras].predict(
        x, verbose=0))


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("size", [(7, 4), (3, 9), (7, 9), (10, 12), (12, 4)])
def test_random_crop_without_a_draw_equals_keras(rng, data_format, size):
    """Not larger on some side: Keras takes the centred aspect-ratio window (and resizes)."""
    x = images(rng, data_format=data_format)
    assert_same_call("RandomCrop", size, dict(seed=1, data_format=data_format), x)
    assert_same_call("RandomCrop", size, dict(seed=1, data_format=data_format), x[1])


# --- RandomFlip ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
@pytest.mark.parametrize("data_format", FORMATS)
def test_random_flip_given_flips_equals_keras(rng, mode, data_format):
    x = images(rng, shape=(4, 5, 6, 3), data_format=data_format)
    flips = np.array([True, False, True, False]).reshape(4, 1, 1, 1)
    k, m = both("RandomFlip", mode, seed=5, data_format=data_format)
    transformation = {"flips": flips, "input_shape": x.shape}
    theirs = np.asarray(k.transform_images(x, transformation, training=True))
    ours = m.transform_images(mk.ops.convert_to_tensor(x), transformation, training=True)
    np.testing.assert_array_equal(ours.numpy(), theirs)
    assert_same_call("RandomFlip", (mode,), dict(data_format=data_format), x, training=False)
    assert config_without_name(m) == config_without_name(k)


# --- affine layers: RandomRotation, RandomZoom, RandomTranslation --------------------------------
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
def test_affine_transform_core_equals_keras_ops(rng, interpolation, fill_mode):
    """The warp every affine layer uses, for random matrices (shear, perspective included)."""
    from minikeras.layers.preprocessing.image import transform

    x = images(rng, shape=(3, 7, 9, 2))
    for _ in range(10):
        t = np.concatenate([rng.normal(1, 0.7, (3, 2)), rng.normal(0, 6, (3, 1)),
                            rng.normal(0, 0.7, (3, 2)), rng.normal(0, 6, (3, 1)),
                            rng.normal(0, 0.02, (3, 2))], axis=1).astype("float32")
        theirs = np.asarray(keras.ops.image.affine_transform(
            x, t, interpolation=interpolation, fill_mode=fill_mode, fill_value=3.0))
        ours = transform.affine_transform_nhwc(x, t, interpolation, fill_mode, 3.0)
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


AFFINE_CASES = {  # deterministic settings: every range is a single point
    "rotation_90": ("RandomRotation", ((0.25, 0.25),), {}),
    "rotation_-36": ("RandomRotation", ((-0.1, -0.1),), {}),
    "rotation_137": ("RandomRotation", ((0.38, 0.38),), {}),
    "zoom_out": ("RandomZoom", ((0.3, 0.3),), {}),
    "zoom_halves": ("RandomZoom", ((0.5, 0.5),), {}),  # reads at x.5: rounding matters
    "zoom_in_wide": ("RandomZoom", ((-0.4, -0.4),), {"width_factor": (0.2, 0.2)}),
    "translate": ("RandomTranslation", ((0.2, 0.2), (-0.3, -0.3)), {}),
    "translate_far": ("RandomTranslation", ((-0.9, -0.9), (0.7, 0.7)), {}),
}


@pytest.mark.parametrize("case", sorted(AFFINE_CASES))
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
def test_affine_layers_at_fixed_factors_equal_keras(rng, case, interpolation, fill_mode):
    name, args, kwargs = AFFINE_CASES[case]
    kwargs = dict(kwargs, interpolation=interpolation, fill_mode=fill_mode, fill_value=2.0,
                  seed=4)
    x = images(rng)
    k, m = assert_same_call(name, args, kwargs, x, rtol=1e-4, atol=1e-4)
    assert_same_call(name, args, kwargs, x, training=False)
    assert config_without_name(m) == config_without_name(k)


@pytest.mark.parametrize("case", sorted(AFFINE_CASES))
def test_affine_layers_channels_first_and_single_images_equal_keras(rng, case):
    name, args, kwargs = AFFINE_CASES[case]
    x = images(rng, data_format="channels_first")
    assert_same_call(name, args, dict(kwargs, data_format="channels_first"), x, rtol=1e-4,
                     atol=1e-4)
    assert_same_call(name, args, dict(kwargs, data_format="channels_first"), x[0], rtol=1e-4,
                     atol=1e-4)
    assert_same_call(name, args, kwargs, images(rng)[0], rtol=1e-4, atol=1e-4)


DRAWN_CASES = {  # wide random ranges: Keras draws, both apply the same draw
    "RandomFlip": ((), {}), "RandomRotation": ((0.5,), {}), "RandomZoom": ((0.5, 0.3), {}),
    "RandomTranslation": ((0.4, 0.4), {}), "RandomContrast": ((0.8,), {}),
    "RandomBrightness": ((0.4,), {}), "RandomCrop": ((4, 5), {}),
}


def _to_numpy(transformation):
    if isinstance(transformation, dict):
        return {key: np.asarray(value) for key, value in transformation.items()}
    return tuple(int(value) for value in transformation)  # RandomCrop's (top, left)


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("name", sorted(DRAWN_CASES))
def test_keras_draws_applied_by_minikeras_equal_keras(rng, name, data_format):
    """``transform_images(x, transformation)`` with Keras's own random transformation."""
    args, kwargs = DRAWN_CASES[name]
    x = images(rng, shape=(6, 7, 9, 3), data_format=data_format)
    k, m = both(name, *args, data_format=data_format, **kwargs)
    for _ in range(3):
        transformation = k.get_random_transformation(x, training=True)
        theirs = np.asarray(k.transform_images(x, transformation, training=True))
        ours = m.transform_images(mk.ops.convert_to_tensor(x), _to_numpy(transformation),
                                  training=True)
        np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-4, atol=2e-4)


# --- colour layers -------------------------------------------------------------------------------
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("factor", [(-0.5, 0.5), 0.0, (-0.25, 0.25)])
def test_random_contrast_at_fixed_factor_equals_keras(rng, data_format, factor):
    x = images(rng, data_format=data_format)
    for value_range in ((0, 255), (20, 200)):
        kwargs = dict(value_range=value_range, seed=2, data_format=data_format)
        k, m = assert_same_call("RandomContrast", (factor,), kwargs, x, rtol=1e-5, atol=1e-4)
        assert_same_call("RandomContrast", (factor,), kwargs, x[0], rtol=1e-5, atol=1e-4)
        assert_same_call("RandomContrast", (0.7,), kwargs, x, training=False)
        assert config_without_name(m) == config_without_name(k)


@pytest.mark.parametrize("factor", [(0.2, 0.2), (-0.3, -0.3), 0.0])
def test_random_brightness_at_fixed_factor_equals_keras(rng, factor):
    x = images(rng)
    k, m = assert_same_call("RandomBrightness", (factor,), dict(seed=2), x, atol=1e-4)
    assert_same_call("RandomBrightness", (factor,), dict(value_range=(1, 0)), x / 255.0)
    assert_same_call("RandomBrightness", (factor,), {}, x[0], atol=1e-4)
    pixels = rng.integers(0, 256, size=(2, 4, 5, 3)).astype("uint8")
    assert_same_call("RandomBrightness", (factor,), {}, pixels)
    assert_same_call("RandomBrightness", (0.5,), {}, x, training=False)
    assert config_without_name(m) == config_without_name(k)


# --- gradients w.r.t. the images ----------------------------------------------------------------
GRADIENT_CASES = {
    "resize_bilinear": ("Resizing", (5, 11), {}),
    "resize_crop_aspect": ("Resizing", (4, 4), {"crop_to_aspect_ratio": True}),
    "resize_pad_aspect": ("Resizing", (4, 4), {"pad_to_aspect_ratio": True}),
    "center_crop": ("CenterCrop", (3, 4), {}),
    "center_crop_upsampling": ("CenterCrop", (9, 12), {}),
    "random_crop_resizing": ("RandomCrop", (10, 4), {"seed": 1}),
    "contrast": ("RandomContrast", ((-0.5, 0.5),), {"value_range": (0, 1)}),
    "brightness": ("RandomBrightness", ((0.2, 0.2),), {"value_range": (0, 1)}),
    **{f"{case}_{fill}": (name, args, dict(kwargs, fill_mode=fill))
       for case, (name, args, kwargs) in AFFINE_CASES.items() for fill in ("reflect", "constant")},
}


@pytest.mark.parametrize("case", sorted(GRADIENT_CASES))
def test_input_gradients_equal_tensorflow(rng, case):
    """d sum(layer(x) * r) / dx; for the warps this is TensorFlow's rule (the gradient warped
    back by the inverse transform), which minikeras copies."""
    name, args, kwargs = GRADIENT_CASES[case]
    x = images(rng, shape=(2, 7, 9, 2), high=1.0)
    k, m = both(name, *args, **kwargs)
    r = rng.normal(size=np.asarray(k(x)).shape).astype("float32")
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(k(xt, training=True) * r)
    theirs = tape.gradient(loss, xt).numpy()
    xm = mk.ops.convert_to_tensor(x)
    with mk.GradientTape() as mtape:
        mtape.watch(xm)
        mloss = mk.ops.sum(mk.ops.multiply(m(xm, training=True), r))
    ours = np.asarray(mtape.gradient(mloss, xm))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


# --- inference, errors, configs ------------------------------------------------------------------
RANDOM_LAYERS = {
    "RandomFlip": ((), {}), "RandomRotation": ((0.2,), {}), "RandomZoom": ((0.2,), {}),
    "RandomTranslation": ((0.2, 0.1), {}), "RandomContrast": ((0.4,), {}),
    "RandomBrightness": ((0.3,), {}), "RandomCrop": ((4, 5), {}),
}


@pytest.mark.parametrize("name", sorted(RANDOM_LAYERS))
def test_random_layers_are_the_identity_in_predict_as_in_keras(rng, name):
    args, kwargs = RANDOM_LAYERS[name]
    x = images(rng, shape=(5, 7, 9, 3))
    models = {lib: lib.Sequential([lib.Input((7, 9, 3)), getattr(lib.layers, name)(
        *args, seed=1, **kwargs)]) for lib in (keras, mk)}
    ours, theirs = models[mk].predict(x, verbose=0), models[keras].predict(x, verbose=0)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours, x)
    assert models[mk].layers[0].compute_output_shape((None, 7, 9, 3)) == \
        models[keras].layers[0].compute_output_shape((None, 7, 9, 3))


BAD_ARGUMENTS = [
    ("RandomRotation", (1.5,), {}), ("RandomRotation", ((0.1, 0.2, 0.3),), {}),
    ("RandomRotation", ("a",), {}), ("RandomRotation", (0.1,), {"fill_mode": "mirror"}),
    ("RandomRotation", (0.1,), {"interpolation": "bicubic"}),
    ("RandomZoom", (-1.0,), {}), ("RandomZoom", (0.1,), {"width_factor": (0.1, 1.2)}),
    ("RandomZoom", (0.1,), {"fill_mode": "zero"}),
    ("RandomTranslation", (1.1, 0.1), {}), ("RandomTranslation", (0.1, [0.1]), {}),
    ("RandomTranslation", (0.1, 0.1), {"interpolation": "area"}),
    ("RandomContrast", (1.2,), {}), ("RandomContrast", (-0.1,), {}),
    ("RandomContrast", ((0.3, -0.3),), {}),
    ("RandomBrightness", (1.2,), {}), ("RandomBrightness", (0.1,), {"value_range": 255}),
    ("RandomBrightness", (0.1,), {"value_range": (0, 1, 2)}),
    ("Resizing", (4, 4), {"data_format": "nhwc"}),
]


@pytest.mark.parametrize("name, args, kwargs", BAD_ARGUMENTS,
                         ids=[f"{n}-{a}-{k}" for n, a, k in BAD_ARGUMENTS])
def test_bad_arguments_raise_like_keras(name, args, kwargs):
    with pytest.raises(Exception) as theirs:
        getattr(keras.layers, name)(*args, **kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        getattr(mk.layers, name)(*args, **kwargs)
    assert name in str(ours.value) or "data_format" in str(ours.value)


@pytest.mark.parametrize("name", sorted(RANDOM_LAYERS))
def test_rank_2_or_5_inputs_raise_like_keras(name):
    args, kwargs = RANDOM_LAYERS[name]
    for shape in ((7, 9), (1, 2, 7, 9, 3)):
        x = np.zeros(shape, "float32")
        with pytest.raises(Exception):  # noqa: B017 - Keras's type depends on the layer
            getattr(keras.layers, name)(*args, **kwargs)(x)
        with pytest.raises(ValueError, match="rank 3"):
            getattr(mk.layers, name)(*args, **kwargs)(x)


@pytest.mark.parametrize("name", sorted(RANDOM_LAYERS))
def test_random_layer_configs_equal_keras(name):
    args, kwargs = RANDOM_LAYERS[name]
    k, m = both(name, *args, seed=7, **kwargs)
    assert config_without_name(m) == config_without_name(k)
    again = type(m).from_config(m.get_config())
    assert config_without_name(again) == config_without_name(m)


# --- in a model: fit and .keras files ------------------------------------------------------------
def augmented_cnn(lib):
    """Resizing, CenterCrop and random layers at deterministic settings before a Conv2D: the
    images are symmetric under a 180-degree turn, so RandomFlip's draws do not matter."""
    return lib.Sequential([
        lib.Input((12, 10, 2)),
        lib.layers.Resizing(9, 9),
        lib.layers.CenterCrop(7, 7),
        lib.layers.RandomFlip("horizontal_and_vertical", seed=3),
        lib.layers.RandomRotation((0.5, 0.5), fill_mode="nearest"),
        lib.layers.RandomContrast((-0.2, 0.2), value_range=(0, 1)),
        lib.layers.Conv2D(3, 3, activation="relu"),
        lib.layers.Flatten(),
        lib.layers.Dense(2, activation="softmax"),
    ])


def symmetric_images(rng, n=20):
    x = rng.uniform(0, 1, size=(n, 12, 10, 2)).astype("float32")
    return (x + x[:, ::-1, ::-1, :]) / 2


def test_augmented_cnn_trains_like_keras(rng):
    x = symmetric_images(rng)
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, size=len(x))]
    assert_trains_like_keras(augmented_cnn, x, y, "categorical_crossentropy", 0.1,
                             batch_size=8, metrics=["accuracy"])


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_augmented_cnn_moves_both_ways_in_keras_files(rng, tmp_path, suffix):
    assert_files_move_both_ways(augmented_cnn, symmetric_images(rng, 4), tmp_path, suffix, rng,
                                lambda theirs: [w * 0.5 for w in theirs])


def test_augmented_cnn_json_equals_keras():
    assert_same_json_config(json.loads(augmented_cnn(mk).to_json()),
                            json.loads(augmented_cnn(keras).to_json()))
