"""Parity with Keras 3 of ZeroPadding3D, Cropping3D, UpSampling3D, SpatialDropout3D and
RMSNormalization: with the same weights and inputs, the same outputs and gradients w.r.t. the
input and the weights (TensorFlow's GradientTape); the same configs, weight paths, output shapes
(with None dims) and error messages; the same summary text, and .keras / .weights.h5 files that
each library reads from the other."""

import json

import keras
import numpy as np
import pytest
from test_layers_extra_parity import (
    assert_same_config,
    assert_same_run,
    assert_same_weights,
    make_pair,
    randomize,
)
from test_layers_more_parity import _same_layer_run, _sets_sorted, _without_dropout
from test_saving_parity import assert_files_move_both_ways, assert_same_predictions
from test_saving_parity import assert_same_config as assert_same_json_config
from test_summary_parity import _assert_same, _summaries
from test_training_parity import assert_trains_like_keras

import minikeras as mk

CF = {"data_format": "channels_first"}


# --- ZeroPadding3D, Cropping3D, UpSampling3D -----------------------------------------------------

RESHAPING_3D_CASES = [
    ("ZeroPadding3D", (), {}, (2, 2, 3, 2, 2)),
    ("ZeroPadding3D", (2,), {}, (1, 1, 2, 1, 3)),
    ("ZeroPadding3D", ((1, 0, 2),), {}, (2, 2, 3, 2, 2)),
    ("ZeroPadding3D", (((1, 0), (0, 2), (2, 1)),), CF, (2, 3, 2, 3, 2)),
    ("Cropping3D", (), {}, (2, 3, 4, 5, 2)),
    ("Cropping3D", (((1, 0), (0, 2), (2, 1)),), {}, (2, 3, 4, 5, 2)),
    ("Cropping3D", (((0, 0), (0, 0), (0, 0)),), {}, (1, 2, 2, 2, 1)),
    ("Cropping3D", (((1, 0), (0, 0), (0, 1)),), CF, (2, 2, 3, 4, 5)),
    ("Cropping3D", ((0, 1, 2),), CF, (1, 2, 3, 4, 5)),
    ("UpSampling3D", (), {}, (2, 1, 2, 2, 3)),
    ("UpSampling3D", ((1, 3, 2),), {}, (2, 2, 2, 3, 2)),
    ("UpSampling3D", (2,), CF, (1, 2, 2, 1, 3)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", RESHAPING_3D_CASES, ids=str)
def test_reshaping_3d_outputs_gradients_config_and_shapes(name, args, kwargs, shape, rng):
    _same_layer_run(name, args, kwargs, shape, rng)
    k_layer, m_layer = make_pair(name, *args, **kwargs)
    for symbolic in [(None, *shape[1:]), (None,) * len(shape), (shape[0], None, *shape[2:]),
                     (None, *shape[1:4], None)]:
        assert m_layer.compute_output_shape(symbolic) == k_layer.compute_output_shape(symbolic)
    k_out = make_pair(name, *args, **kwargs)[0](keras.Input(shape[1:]))
    m_out = make_pair(name, *args, **kwargs)[1](mk.Input(shape[1:]))
    assert tuple(m_out.shape) == tuple(k_out.shape)
    clone = getattr(mk.layers, name).from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()


# --- RMSNormalization ----------------------------------------------------------------------------

RMS_CASES = [
    ({}, (4, 5)),
    ({"epsilon": 1e-2}, (2, 3, 4)),
    ({"axis": [1, 2]}, (2, 3, 4)),
    ({"axis": (-1, -2)}, (2, 3, 4, 5)),
    ({"axis": -1, "epsilon": 0.5}, (3, 2, 2, 6)),
    ({"dtype": "float64"}, (4, 5)),
]


@pytest.mark.parametrize("kwargs,shape", RMS_CASES, ids=str)
def test_rms_normalization_outputs_gradients_config_and_shapes(kwargs, shape, rng):
    k_layer, m_layer = make_pair("RMSNormalization", **kwargs)
    assert_same_config(k_layer, m_layer)  # before build: axis as given
    _same_layer_run("RMSNormalization", (), kwargs, shape, rng)  # weights, config, run, shapes
    k_layer.build(shape)
    m_layer.build(shape)
    assert_same_config(k_layer, m_layer)  # after build: a sorted list
    assert m_layer.axis == list(k_layer.axis)
    randomize(k_layer, m_layer, rng)
    x = (rng.normal(size=shape) * 3 + 1).astype("float32")  # larger values, a non-zero mean
    assert_same_run(k_layer, m_layer, x)
    clone = mk.layers.RMSNormalization.from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()


def test_rms_normalization_defaults_and_weights_as_keras():
    k_layer, m_layer = make_pair("RMSNormalization")
    k_layer.build((None, 7))
    m_layer.build((None, 7))
    assert_same_weights(k_layer, m_layer)  # "rms_normalization/scale", ones, trainable
    x = np.random.default_rng(3).random((1, 7)).astype("float32")
    np.testing.assert_allclose(m_layer(x).numpy(), k_layer(x).numpy(), rtol=1e-5, atol=1e-6)
    assert m_layer.name == k_layer.name == "rms_normalization"


def test_rms_normalization_of_zeros_and_overflowing_values():
    """mean(x²) = 0 gives 0 (r = rsqrt(epsilon) stays finite); x² = inf gives 0, as in Keras."""
    for value in (0.0, 1e20, -3e19):
        x = np.full((2, 3), value, "float32")
        k_layer, m_layer = make_pair("RMSNormalization")
        assert_same_run(k_layer, m_layer, x)


def test_rms_normalization_float16():
    """A float16 layer computes in float32 (300² would overflow float16) and rounds back.
    (minikeras has no mixed precision: "mixed_float16" is refused by its dtype policies.)"""
    k_layer, m_layer = make_pair("RMSNormalization", dtype="float16")
    x = np.random.default_rng(4).normal(size=(3, 4)).astype("float32") * 300
    k_y, m_y = k_layer(x), m_layer(x)
    assert m_y.dtype == k_y.dtype.name == "float16"
    assert m_layer.scale.dtype == k_layer.scale.dtype == "float16"
    np.testing.assert_array_equal(m_y.numpy(), k_y.numpy())  # float32 math, rounded alike


def test_rms_normalization_non_trailing_axis_fails_in_both():
    """Keras 3.15 multiplies by ``scale`` with plain broadcasting, so an axis other than the
    trailing ones cannot be called (TensorFlow: Incompatible shapes); minikeras agrees."""
    x = np.ones((2, 3, 4), "float32")
    with pytest.raises(Exception, match="Incompatible shapes"):
        keras.layers.RMSNormalization(axis=1)(x)
    with pytest.raises(ValueError, match="could not be broadcast"):
        mk.layers.RMSNormalization(axis=1)(x)


@pytest.mark.parametrize("axis,shape", [(3, (2, 3)), ([0, 3], (2, 3)), (-3, (None, 4))],
                         ids=str)
def test_rms_normalization_bad_axes_raise_the_same_errors(axis, shape):
    messages = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            lib.layers.RMSNormalization(axis=axis).compute_output_shape(shape)
        messages.append(str(error.value))
        with pytest.raises(IndexError):
            lib.layers.RMSNormalization(axis=axis).build(shape)
    assert messages[1] == messages[0]


# --- SpatialDropout3D --------------------------------------------------------------------------

@pytest.mark.parametrize("args,kwargs,shape", [
    ((0.3,), {"seed": 1}, (2, 3, 2, 4, 5)),
    ((0.5,), {"data_format": "channels_first", "seed": 2}, (2, 3, 4, 2, 2)),
    ((0.0,), {"dtype": "float64"}, (1, 2, 2, 2, 3)),
], ids=str)
def test_spatial_dropout_3d_inference_is_identity_and_config(args, kwargs, shape, rng):
    k_layer, m_layer = make_pair("SpatialDropout3D", *args, **kwargs)
    assert_same_config(k_layer, m_layer)
    x = rng.normal(size=shape).astype("float32")
    y = assert_same_run(k_layer, m_layer, x)  # outputs and gradients (the identity's)
    np.testing.assert_array_equal(y, x)
    assert_same_run(k_layer, m_layer, x, training=False)
    clone = mk.layers.SpatialDropout3D.from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()
    assert m_layer.compute_output_shape(shape) == k_layer.compute_output_shape(shape)


@pytest.mark.parametrize("data_format,shape,shared", [
    ("channels_last", (32, 2, 3, 2, 8), (1, 2, 3)),
    ("channels_first", (32, 8, 2, 3, 2), (2, 3, 4)),
])
def test_spatial_dropout_3d_training_drops_whole_channels_in_both(data_format, shape, shared):
    """Random draws differ between libraries; what must agree is the pattern (one draw per
    sample and channel, shared by every voxel) and the scale 1 / (1 - rate)."""
    x = np.ones(shape, "float32")
    for lib in (keras, mk):
        y = np.asarray(lib.layers.SpatialDropout3D(0.5, data_format=data_format,
                                                   seed=4)(x, training=True))
        assert set(np.unique(y)) == {0.0, 2.0}
        np.testing.assert_array_equal(y, np.broadcast_to(y.max(axis=shared, keepdims=True),
                                                         shape))


# --- the same errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("name,args,kwargs", [
    ("ZeroPadding3D", ((1, 2),), {}),
    ("ZeroPadding3D", (1.5,), {}),
    ("ZeroPadding3D", ((1, (1, 2, 3), 1),), {}),
    ("ZeroPadding3D", (((1, 2), (3, -1), 0),), {}),
    ("ZeroPadding3D", (), {"data_format": "channels_middle"}),
    ("Cropping3D", (-1,), {}),
    ("Cropping3D", (((1, 1), (1, 1)),), {}),
    ("Cropping3D", (1.5,), {}),
    ("Cropping3D", ((1, 1, (1, -1)),), {}),
    ("UpSampling3D", ((2, 0, 1),), {}),
    ("UpSampling3D", ((2, 2),), {}),
    ("SpatialDropout3D", (1.5,), {}),
    ("SpatialDropout3D", (0.5,), {"data_format": "nhwc"}),
], ids=str)
def test_bad_arguments_raise_the_same_errors(name, args, kwargs):
    with pytest.raises((ValueError, TypeError)) as keras_error:
        getattr(keras.layers, name)(*args, **kwargs)
    with pytest.raises(keras_error.type) as our_error:
        getattr(mk.layers, name)(*args, **kwargs)
    assert _sets_sorted(str(our_error.value)) == _sets_sorted(str(keras_error.value))


@pytest.mark.parametrize("args,kwargs,shape", [
    ((((2, 2), (0, 0), (0, 0)),), {}, (None, 4, 5, 5, 1)),
    ((1,), {}, (None, 3, 2, 3, 1)),
    (((0, 0, (3, 2)),), CF, (None, 1, 3, 3, 5)),
], ids=str)
def test_cropping_3d_too_much_raises_the_same_errors(args, kwargs, shape):
    """The same message; at call time Keras wraps it in "Exception encountered when calling
    Cropping3D.call()" and the call's arguments, which minikeras does not add."""
    for method, arg in [("compute_output_shape", shape),
                        ("__call__", np.zeros((1, *shape[1:]), "float32"))]:
        messages = []
        for lib in (keras, mk):
            layer = lib.layers.Cropping3D(*args, **kwargs)
            with pytest.raises(ValueError) as error:
                getattr(layer, method)(arg)
            messages.append(str(error.value))
        if method == "compute_output_shape":
            assert messages[1] == messages[0]
        else:
            assert f"\x1b[1m{messages[1]}\x1b[0m" in messages[0]


@pytest.mark.parametrize("make", [
    lambda lib: lib.layers.ZeroPadding3D((1, (0, 2), 3), data_format="channels_first"),
    lambda lib: lib.layers.Cropping3D(((1, 0), 2, 0)),
    lambda lib: lib.layers.UpSampling3D((1, 2, 3)),
    lambda lib: lib.layers.SpatialDropout3D(0.25, data_format="channels_first", seed=3),
    lambda lib: lib.layers.RMSNormalization(axis=[1, 2], epsilon=1e-4),
], ids=["zero_padding3d", "cropping3d", "up_sampling3d", "spatial_dropout3d", "rms"])
def test_layers_serialize_and_deserialize_both_ways(make):
    ours, theirs = make(mk), make(keras)
    assert mk.layers.serialize(ours) == keras.layers.serialize(theirs)
    from_keras = mk.layers.deserialize(keras.layers.serialize(theirs))
    from_ours = keras.layers.deserialize(mk.layers.serialize(ours))
    assert type(from_keras).__name__ == type(from_ours).__name__ == type(theirs).__name__
    assert from_keras.get_config() == from_ours.get_config()


# --- models with all of them: summary, predictions, files both ways, training -----------------

def volume_model(lib):
    return lib.Sequential([
        lib.Input((3, 4, 4, 2)),
        lib.layers.ZeroPadding3D(((1, 0), 1, (0, 1))),
        lib.layers.Conv3D(3, 2, activation="tanh"),
        lib.layers.UpSampling3D((1, 2, 1)),
        lib.layers.Cropping3D(((0, 1), (2, 2), 1)),
        lib.layers.SpatialDropout3D(0.2),
        lib.layers.RMSNormalization(),
        lib.layers.Flatten(),
        lib.layers.Dense(2),
    ])


def channels_first_model(lib):
    """No convolution (TensorFlow's CPU Conv3D has no channels_first kernel)."""
    return lib.Sequential([
        lib.Input((2, 3, 3, 4)),
        lib.layers.ZeroPadding3D((1, 0, 2), data_format="channels_first"),
        lib.layers.UpSampling3D((2, 1, 1), data_format="channels_first"),
        lib.layers.Cropping3D(((1, 2), (0, 1), (1, 0)), data_format="channels_first"),
        lib.layers.SpatialDropout3D(0.3, data_format="channels_first"),
        lib.layers.RMSNormalization(axis=[-2, -1]),
        lib.layers.Flatten(),
        lib.layers.Dense(2),
    ])


MODELS = {"volume": (volume_model, (3, 4, 4, 2)),
          "channels_first": (channels_first_model, (2, 3, 3, 4))}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_summary_text(model, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    _assert_same(*_summaries(MODELS[model][0], capsys))


@pytest.mark.parametrize("model", sorted(MODELS))
def test_predictions_and_to_json_equal_keras(model, rng):
    make, shape = MODELS[model]
    k, m = make(keras), make(mk)
    m.set_weights(k.get_weights())
    x = rng.normal(size=(5, *shape)).astype("float32")
    assert_same_predictions(k, m, x)
    assert_same_json_config(json.loads(m.to_json()), json.loads(k.to_json()))


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
@pytest.mark.parametrize("model", sorted(MODELS))
def test_files_both_ways(model, suffix, tmp_path, rng):
    """Ours saved -> Keras loads, Keras's saved -> ours loads, the same predictions."""
    make, shape = MODELS[model]
    x = rng.normal(size=(4, *shape)).astype("float32")
    assert_files_move_both_ways(make, x, tmp_path, suffix, rng,
                                lambda theirs: [w * 0.5 + 0.1 for w in theirs])


@pytest.mark.parametrize("model", sorted(MODELS))
def test_training_like_keras(model, rng):
    """2 epochs of SGD from Keras's initial weights: the same losses and weights (RMS scale
    included)."""
    make, shape = MODELS[model]
    make = _without_dropout(make, shape)
    x = rng.normal(size=(32, *shape)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    assert_trains_like_keras(make, x, y, "mse", 0.05, batch_size=8)
