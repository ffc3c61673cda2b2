"""Colour image layers against tf.keras: RandomGrayscale, RandomInvert, Solarization,
RandomPosterization, AutoContrast, Equalization.

Random draws cannot match TensorFlow's streams, so outputs are compared at deterministic
settings (``factor`` 0 or 1, a one-point ``(3, 3)`` bit count, Solarization's default 0
factors, the layers that are not random) and through ``transform_images(x, transformation)``
given Keras's own draws. The random statistics are tested in tests/test_image_color_layers.py.
Images are whole 0-255 values (or those over 255), as pixels are: RandomPosterization casts to
``uint8``, and TensorFlow's cast of out-of-range floats depends on the array's size (wraps or
saturates), so only in-range images are compared.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_image_preprocessing_parity import assert_same_call, both, config_without_name
from test_saving_parity import assert_files_move_both_ways
from test_saving_parity import assert_same_config as assert_same_json_config

import minikeras as mk

FORMATS = ("channels_last", "channels_first")


def pixels(rng, shape=(3, 7, 9, 3), data_format="channels_last", dtype="float32"):
    x = rng.integers(0, 256, size=shape).astype(dtype)
    if data_format == "channels_first":
        x = np.ascontiguousarray(np.moveaxis(x, -1, -3))
    return x


def each_input(rng, data_format="channels_last"):
    """float 0-255, the same in [0, 1], uint8, and a single image."""
    x = pixels(rng, data_format=data_format)
    return {"float": x, "unit": x / np.float32(255), "uint8": x.astype("uint8"), "single": x[0]}


# --- deterministic settings ----------------------------------------------------------------------
DETERMINISTIC = {  # id: (name, args, kwargs); value_range (0, 1) cases get the "unit" input
    "grayscale_all": ("RandomGrayscale", (1.0,), {}),
    "grayscale_none": ("RandomGrayscale", (0.0,), {}),
    "invert_all": ("RandomInvert", ((1.0, 1.0),), {}),
    "invert_none": ("RandomInvert", (0.0,), {}),
    "invert_unit": ("RandomInvert", ((1.0, 1.0),), {"value_range": (0, 1)}),
    "solarization": ("Solarization", (), {}),
    "solarization_unit": ("Solarization", (), {"value_range": (0, 1)}),
    "posterization_1": ("RandomPosterization", ((1, 1),), {}),
    "posterization_3": ("RandomPosterization", ((3, 3),), {}),
    "posterization_number": ("RandomPosterization", (1,), {}),  # 1 means (1, 1): one bit
    "posterization_unit": ("RandomPosterization", ((5, 5),), {"value_range": (0, 1)}),
    "auto_contrast": ("AutoContrast", (), {}),
    "auto_contrast_unit": ("AutoContrast", (), {"value_range": (0, 1)}),
    "equalization": ("Equalization", (), {}),
    "equalization_bins": ("Equalization", (), {"bins": 32}),
    "equalization_unit": ("Equalization", (), {"value_range": (0, 1), "bins": 100}),
}
HAS_DATA_FORMAT = ("RandomGrayscale", "RandomInvert", "RandomPosterization", "Equalization",
                   "AutoContrast", "Solarization")


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("case", sorted(DETERMINISTIC))
def test_deterministic_outputs_equal_keras(rng, case, data_format):
    name, args, kwargs = DETERMINISTIC[case]
    kwargs = dict(kwargs, data_format=data_format)
    inputs = each_input(rng, data_format)
    unit = kwargs.get("value_range") == (0, 1)
    for kind, x in inputs.items():
        if unit != (kind == "unit"):
            continue
        for training in (True, False):
            # 0-255 outputs: float32 rounding of values near 255 is 1.5e-5, so atol 255 · 1e-6
            k, m = assert_same_call(name, args, kwargs, x, training=training, rtol=1e-5,
                                    atol=1e-6 if unit else 255e-6)
    assert config_without_name(m) == config_without_name(k)


def test_auto_contrast_constant_channels_equal_keras(rng):
    x = pixels(rng)
    x[0, ..., 1] = 17.0  # a constant channel: Keras keeps its values (NaN from 0/0)
    x[1] = 0.0  # an all-zero image
    assert_same_call("AutoContrast", (), {}, x, atol=255e-6)
    assert_same_call("AutoContrast", (), {}, x.astype("uint8"), atol=255e-6)


def test_equalization_of_narrow_and_one_level_channels_equals_keras(rng):
    x = pixels(rng) // 8 + 100  # 32 levels out of 256
    x[..., 2] = 42.0  # one level in the whole batch: kept
    for bins in (256, 16, 7):
        assert_same_call("Equalization", (), {"bins": bins}, x)
    assert_same_call("Equalization", (), {"value_range": (-1, 1)}, x / 127.5 - 1, atol=1e-5)


# --- Keras's own draws ---------------------------------------------------------------------------
DRAWN = {
    "RandomGrayscale": ((0.5,), {}), "RandomInvert": ((), {}),
    "Solarization": ((0.3, (0.2, 0.8)), {}), "RandomPosterization": ((7,), {}),
}


def _to_numpy(transformation):
    if isinstance(transformation, dict):
        return {key: np.asarray(value) for key, value in transformation.items()}
    return np.asarray(transformation)


@pytest.mark.parametrize("name", sorted(DRAWN))
def test_keras_draws_applied_by_minikeras_equal_keras(rng, name):
    args, kwargs = DRAWN[name]
    x = pixels(rng, shape=(8, 5, 6, 3))
    k, m = both(name, *args, **kwargs)
    for _ in range(3):
        transformation = k.get_random_transformation(x, training=True)
        theirs = np.asarray(k.transform_images(x, transformation, training=True))
        ours = m.transform_images(mk.ops.convert_to_tensor(x), _to_numpy(transformation),
                                  training=True)
        np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-5, atol=255e-6)


# --- gradients w.r.t. the images ----------------------------------------------------------------
GRADIENT_CASES = {
    "grayscale": ("RandomGrayscale", (1.0,), {}),
    "invert": ("RandomInvert", ((1.0, 1.0),), {"value_range": (0, 1)}),
    "solarization": ("Solarization", (), {"value_range": (0, 1)}),
    "auto_contrast": ("AutoContrast", (), {"value_range": (0, 1)}),
}


@pytest.mark.parametrize("case", sorted(GRADIENT_CASES))
def test_input_gradients_equal_tensorflow(rng, case):
    """d sum(layer(x) * r) / dx at the deterministic settings."""
    name, args, kwargs = GRADIENT_CASES[case]
    x = rng.uniform(0, 1, (2, 5, 6, 3)).astype("float32")
    r = rng.normal(size=x.shape).astype("float32")
    k, m = both(name, *args, **kwargs)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(k(xt, training=True) * r)
    theirs = tape.gradient(loss, xt).numpy()
    xm = mk.ops.convert_to_tensor(x)
    with mk.GradientTape() as mtape:
        mtape.watch(xm)
        mloss = mk.ops.sum(mk.ops.multiply(m(xm, training=True), r))
    np.testing.assert_allclose(np.asarray(mtape.gradient(mloss, xm)), theirs, rtol=1e-5,
                               atol=1e-6)


# --- errors, configs -----------------------------------------------------------------------------
BAD_ARGUMENTS = [
    ("RandomGrayscale", (1.5,), {}), ("RandomGrayscale", (-0.1,), {}),
    ("RandomGrayscale", ("a",), {}),
    ("RandomInvert", (1.5,), {}), ("RandomInvert", (-0.5,), {}),
    ("RandomInvert", ((0.1, 0.2, 0.3),), {}),
    ("Solarization", (1.5,), {}), ("Solarization", (0.1, (0.1, 0.2, 0.3)), {}),
    ("Solarization", (0.1,), {"value_range": 7}), ("Solarization", ("a",), {}),
    ("RandomPosterization", (0,), {}), ("RandomPosterization", (9,), {}),
    ("RandomPosterization", (4,), {"value_range": (0, 1, 2)}),
    ("AutoContrast", (), {"value_range": (1, 2, 3)}), ("AutoContrast", (), {"value_range": 1}),
    # Equalization's bad value_range is left out: Keras 3.15 raises AttributeError (a missing
    # message constant); minikeras raises the ValueError the other layers raise
]


@pytest.mark.parametrize("name, args, kwargs", BAD_ARGUMENTS,
                         ids=[f"{n}-{a}-{k}" for n, a, k in BAD_ARGUMENTS])
def test_bad_arguments_raise_like_keras(name, args, kwargs):
    with pytest.raises(Exception) as theirs:
        getattr(keras.layers, name)(*args, **kwargs)
    with pytest.raises(type(theirs.value)):
        getattr(mk.layers, name)(*args, **kwargs)


def test_grayscale_channel_count_error_like_keras(rng):
    x = pixels(rng, shape=(2, 4, 5, 4))
    with pytest.raises(ValueError, match="channel size"):
        keras.layers.RandomGrayscale(1.0)(x)
    with pytest.raises(ValueError, match="channel size"):
        mk.layers.RandomGrayscale(1.0)(x)


CONFIGS = {
    "RandomGrayscale": ((0.3,), {"seed": 4, "data_format": "channels_first"}),
    "RandomInvert": (((0.2, 0.7),), {"value_range": [-1, 1], "seed": 4}),
    "Solarization": ((0.2, (0.7, 0.1)), {"value_range": (1, 0), "seed": 4}),
    "RandomPosterization": ((6,), {"value_range": (0, 1), "seed": 4}),
    "AutoContrast": ((), {"value_range": (0, 1)}),
    "Equalization": ((), {"value_range": (0, 1), "bins": 64}),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_configs_equal_keras(name):
    args, kwargs = CONFIGS[name]
    k, m = both(name, *args, **kwargs)
    assert config_without_name(m) == config_without_name(k)
    for lib, layer in ((keras, m), (mk, k)):  # each library rebuilds the other's config
        again = getattr(lib.layers, name).from_config(layer.get_config())
        assert config_without_name(again) == config_without_name(layer)
    k, m = both(name, *([4] if name == "RandomPosterization" else []))  # the defaults
    assert config_without_name(m) == config_without_name(k)


# --- in a model: .keras files --------------------------------------------------------------------
def color_model(lib):
    """The colour layers at deterministic settings before a Dense layer. Not Equalization:
    Keras 3.15's ``Equalization.compute_output_spec`` returns its input KerasTensor, so a Keras
    Sequential or functional model holding it fails ("is part of a cycle")."""
    return lib.Sequential([
        lib.Input((5, 6, 3)),
        lib.layers.AutoContrast(value_range=(0, 1)),
        lib.layers.RandomGrayscale(0.0),
        lib.layers.Solarization(value_range=(0, 1)),
        lib.layers.RandomPosterization((4, 4), value_range=(0, 1)),
        lib.layers.RandomInvert(0.0, value_range=(0, 1)),
        lib.layers.Flatten(),
        lib.layers.Dense(2, activation="softmax"),
    ])


def test_color_model_moves_both_ways_in_keras_files(rng, tmp_path):
    x = pixels(rng, shape=(4, 5, 6, 3)) / np.float32(255)
    assert_files_move_both_ways(color_model, x, tmp_path, ".keras", rng,
                                lambda theirs: [w * 0.5 for w in theirs])


def test_color_model_json_equals_keras():
    assert_same_json_config(json.loads(color_model(mk).to_json()),
                            json.loads(color_model(keras).to_json()))


def test_color_model_called_in_training_equals_keras(rng):
    x = pixels(rng, shape=(4, 5, 6, 3)) / np.float32(255)
    k, m = color_model(keras), color_model(mk)
    m.set_weights(k.get_weights())
    np.testing.assert_allclose(m(x, training=True).numpy(), np.asarray(k(x, training=True)),
                               rtol=1e-5, atol=1e-6)
