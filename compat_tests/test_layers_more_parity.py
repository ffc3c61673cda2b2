"""Parity with Keras 3 of Conv1D, MaxPooling1D, AveragePooling1D, Dot, the reshaping layers
(RepeatVector, Permute, ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D), SpatialDropout1D/2D,
AlphaDropout, UnitNormalization, GroupNormalization and Masking: with the same weights and
inputs, the same outputs and gradients (TensorFlow's GradientTape); the same configs, weight
paths, output shapes (with None dims) and error messages; the same summary text, and .keras /
.weights.h5 files that each library reads from the other."""

import json
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_layers_extra_parity import (
    assert_same_config,
    assert_same_run,
    assert_same_weights,
    close,
    cotangent,
    make_pair,
    randomize,
)
from test_saving_parity import (
    _archive,
    assert_files_move_both_ways,
    assert_same_predictions,
)
from test_saving_parity import assert_same_config as assert_same_json_config
from test_summary_parity import _assert_same, _summaries
from test_training_parity import (
    assert_trains_like_keras,
)

import minikeras as mk


def _same_layer_run(name, args, kwargs, shape, rng, positive=()):
    """Build the pair, give them Keras's random weights, compare weights, config, the run
    (outputs and gradients w.r.t. input and weights) and the output shapes."""
    k_layer, m_layer = make_pair(name, *args, **kwargs)
    k_layer.build(shape)
    m_layer.build(shape)
    randomize(k_layer, m_layer, rng, positive)
    assert_same_weights(k_layer, m_layer)  # paths, shapes, dtypes, trainable flags
    assert_same_config(k_layer, m_layer)
    x = rng.normal(size=shape).astype("float32")
    y = assert_same_run(k_layer, m_layer, x)
    assert tuple(y.shape) == tuple(k_layer.compute_output_shape(shape))
    assert m_layer.compute_output_shape(shape) == k_layer.compute_output_shape(shape)
    return k_layer, m_layer


# --- Conv1D and the 1-D poolings -----------------------------------------------------------------

CONV1D_CASES = [
    (dict(filters=4, kernel_size=3), (2, 9, 3)),
    (dict(filters=3, kernel_size=4, strides=2, padding="same"), (2, 9, 2)),
    (dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2, activation="relu"),
     (2, 10, 2)),
    (dict(filters=2, kernel_size=2, padding="causal", strides=3), (2, 8, 3)),
    (dict(filters=5, kernel_size=1, use_bias=False), (3, 4, 3)),
    (dict(filters=4, kernel_size=3, padding="same", data_format="channels_first",
          activation="tanh"), (2, 3, 8)),
    (dict(filters=2, kernel_size=2, padding="causal", data_format="channels_first"),
     (2, 3, 6)),
]


@pytest.mark.parametrize("kwargs,shape", CONV1D_CASES, ids=str)
def test_conv1d_outputs_gradients_config_and_shapes(kwargs, shape, rng):
    _same_layer_run("Conv1D", (), kwargs, shape, rng)


POOL1D_CASES = [
    (dict(pool_size=2), (2, 8, 3)),
    (dict(pool_size=3, strides=2, padding="same"), (2, 9, 3)),
    (dict(pool_size=3, strides=1), (1, 7, 2)),
    (dict(pool_size=2, padding="same", data_format="channels_first"), (2, 3, 7)),
]


@pytest.mark.parametrize("name", ["MaxPooling1D", "AveragePooling1D"])
@pytest.mark.parametrize("kwargs,shape", POOL1D_CASES, ids=str)
def test_pooling1d_outputs_gradients_config_and_shapes(name, kwargs, shape, rng):
    _same_layer_run(name, (), kwargs, shape, rng)


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("Conv1D", (4, 3), {}, (None, None, 2)),
    ("Conv1D", (4, 3), {"strides": 2, "padding": "same"}, (None, 9, 2)),
    ("Conv1D", (4, 3), {"padding": "causal", "dilation_rate": 2}, (None, 9, 2)),
    ("Conv1D", (4, 2), {"data_format": "channels_first"}, (None, 3, None)),
    ("MaxPooling1D", (), {}, (None, None, 3)),
    ("MaxPooling1D", (3, 2, "same"), {}, (None, 10, 3)),
    ("AveragePooling1D", (3,), {"data_format": "channels_first"}, (None, 2, 10)),
    ("UnitNormalization", (), {}, (None, None, 3)),
    ("GroupNormalization", (2,), {}, (None, None, 4)),
    ("Masking", (), {}, (None, None, 4)),
    ("SpatialDropout1D", (0.2,), {}, (None, None, 4)),
    ("AlphaDropout", (0.2,), {}, (None, 4)),
], ids=str)
def test_symbolic_output_shapes(name, args, kwargs, shape):
    k_layer, m_layer = make_pair(name, *args, **kwargs)
    k_out = k_layer(keras.Input(batch_shape=shape))
    m_out = m_layer(mk.Input(batch_shape=shape))
    assert tuple(m_out.shape) == tuple(k_out.shape)
    assert m_layer.compute_output_shape(shape) == k_layer.compute_output_shape(shape)


# --- Dot -----------------------------------------------------------------------------------------

def _run_two_inputs(lib, layer, a, b):
    tape_cls, convert = ((tf.GradientTape, tf.constant) if lib is keras
                         else (mk.GradientTape, mk.ops.convert_to_tensor))
    tensors = [convert(a), convert(b)]
    with tape_cls() as tape:
        tape.watch(tensors)
        y = layer(tensors)
        loss = lib.ops.sum(lib.ops.multiply(y, cotangent(tuple(y.shape))))
    return np.asarray(y), [np.asarray(g) for g in tape.gradient(loss, tensors)]


DOT_CASES = [
    (1, (3, 5), (3, 5)),
    (-1, (2, 3, 4), (2, 5, 4)),
    ((2, 1), (2, 3, 4), (2, 4, 6)),
    ((1, 2), (2, 3, 4, 5), (2, 6, 3)),
    ((2, 1), (2, 3, 4), (2, 4)),
    ([-1, -2], (2, 3, 4), (2, 4, 2)),
    (2, (2, 3, 4, 5), (2, 3, 4, 2)),
]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("axes,shape_a,shape_b", DOT_CASES, ids=str)
def test_dot_outputs_gradients_config_and_shapes(axes, shape_a, shape_b, normalize, rng):
    a = rng.normal(size=shape_a).astype("float32")
    b = rng.normal(size=shape_b).astype("float32")
    k_layer, m_layer = make_pair("Dot", axes, normalize=normalize)
    (k_y, k_grads), (m_y, m_grads) = (_run_two_inputs(keras, k_layer, a, b),
                                      _run_two_inputs(mk, m_layer, a, b))
    close(m_y, k_y)
    for m_g, k_g in zip(m_grads, k_grads, strict=True):
        close(m_g, k_g, rtol=1e-5, atol=1e-6)
    assert_same_config(k_layer, m_layer)
    symbolic = [(None, *shape_a[1:]), (None, *shape_b[1:])]
    assert m_layer.compute_output_shape(symbolic) == k_layer.compute_output_shape(symbolic)
    k_out = keras.layers.Dot(axes)([keras.Input(shape_a[1:]), keras.Input(shape_b[1:])])
    m_out = mk.layers.Dot(axes)([mk.Input(shape_a[1:]), mk.Input(shape_b[1:])])
    assert tuple(m_out.shape) == tuple(k_out.shape)


def test_dot_functional_alias(rng):
    a, b = rng.normal(size=(4, 6)).astype("float32"), rng.normal(size=(4, 6)).astype("float32")
    close(mk.layers.dot([a, b], axes=1, normalize=True),
          keras.layers.dot([a, b], axes=1, normalize=True))


# --- reshaping -----------------------------------------------------------------------------------

RESHAPING_CASES = [
    ("RepeatVector", (3,), {}, (2, 4)),
    ("Permute", ((2, 1),), {}, (2, 3, 4)),
    ("Permute", ((3, 1, 2),), {}, (2, 3, 4, 5)),
    ("ZeroPadding1D", (), {}, (2, 3, 4)),
    ("ZeroPadding1D", ((1, 3),), {"data_format": "channels_first"}, (2, 3, 4)),
    ("ZeroPadding2D", (), {}, (2, 3, 4, 2)),
    ("ZeroPadding2D", (((1, 2), (0, 3)),), {}, (2, 3, 4, 2)),
    ("ZeroPadding2D", ((2, 1),), {"data_format": "channels_first"}, (2, 3, 4, 2)),
    ("Cropping1D", (), {}, (2, 5, 3)),
    ("Cropping1D", ((2, 0),), {}, (2, 5, 3)),
    ("Cropping2D", (), {}, (2, 4, 5, 3)),
    ("Cropping2D", (((1, 0), (2, 1)),), {}, (2, 5, 6, 3)),
    ("Cropping2D", ((0, 2),), {}, (2, 5, 6, 3)),
    ("Cropping2D", (1,), {"data_format": "channels_first"}, (2, 3, 5, 6)),
    ("UpSampling1D", (), {}, (2, 3, 4)),
    ("UpSampling1D", (3,), {}, (2, 3, 4)),
    ("UpSampling2D", ((2, 3),), {}, (2, 3, 4, 2)),
    ("UpSampling2D", (2,), {"data_format": "channels_first"}, (2, 3, 4, 2)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", RESHAPING_CASES, ids=str)
def test_reshaping_outputs_gradients_config_and_shapes(name, args, kwargs, shape, rng):
    _same_layer_run(name, args, kwargs, shape, rng)
    k_layer, m_layer = make_pair(name, *args, **kwargs)
    for symbolic in [(None, *shape[1:]), (None,) * len(shape), (shape[0], None, *shape[2:])]:
        assert m_layer.compute_output_shape(symbolic) == k_layer.compute_output_shape(symbolic)
    k_out = make_pair(name, *args, **kwargs)[0](keras.Input(shape[1:]))
    m_out = make_pair(name, *args, **kwargs)[1](mk.Input(shape[1:]))
    assert tuple(m_out.shape) == tuple(k_out.shape)


# --- dropout variants: the identity at inference, Keras's configs ---------------------------------

@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("SpatialDropout1D", (0.3,), {"seed": 1}, (2, 5, 4)),
    ("SpatialDropout2D", (0.4,), {}, (2, 3, 4, 5)),
    ("SpatialDropout2D", (0.5,), {"data_format": "channels_first", "seed": 2}, (2, 3, 4, 5)),
    ("AlphaDropout", (0.2,), {}, (4, 6)),
    ("AlphaDropout", (0.1,), {"noise_shape": (None, 1), "seed": 3}, (4, 6)),
], ids=str)
def test_dropout_variants_inference_and_config(name, args, kwargs, shape, rng):
    k_layer, m_layer = make_pair(name, *args, **kwargs)
    assert_same_config(k_layer, m_layer)
    x = rng.normal(size=shape).astype("float32")
    assert_same_run(k_layer, m_layer, x)
    assert_same_run(k_layer, m_layer, x, training=False)
    clone = getattr(mk.layers, name).from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()


@pytest.mark.parametrize("name,shape,shared", [("SpatialDropout1D", (64, 4, 8), (1,)),
                                               ("SpatialDropout2D", (64, 3, 3, 8), (1, 2))])
def test_spatial_dropout_training_has_keras_structure(name, shape, shared):
    """Random draws differ between libraries; what must agree is the structure (one draw per
    sample and channel) and the scale 1 / (1 - rate)."""
    x = np.ones(shape, "float32")
    for lib in (keras, mk):
        y = np.asarray(getattr(lib.layers, name)(0.5, seed=4)(x, training=True))
        assert set(np.unique(y)) <= {0.0, 2.0}
        np.testing.assert_array_equal(y, np.broadcast_to(y.max(axis=shared, keepdims=True),
                                                         shape))


def test_alpha_dropout_training_statistics_match_keras():
    x = np.random.default_rng(5).normal(size=(400, 100)).astype("float32")
    stats = []
    for lib in (keras, mk):
        y = np.asarray(lib.layers.AlphaDropout(0.3, seed=6)(x, training=True))
        values, counts = np.unique(y.round(5), return_counts=True)
        stats.append((y.mean(), y.var(), values[np.argmax(counts)]))  # the dropped value
    (k_mean, k_var, k_dropped), (m_mean, m_var, m_dropped) = stats
    assert m_dropped == k_dropped
    assert abs(m_mean - k_mean) < 0.03 and abs(m_var - k_var) < 0.05


# --- normalization and masking -------------------------------------------------------------------

@pytest.mark.parametrize("axis,shape", [(-1, (3, 5)), (1, (2, 3, 4)), ([1, 2], (2, 3, 4)),
                                        ((1, 3), (2, 3, 2, 4))], ids=str)
def test_unit_normalization(axis, shape, rng):
    _same_layer_run("UnitNormalization", (axis,), {}, shape, rng)


def test_unit_normalization_of_a_zero_vector(rng):
    x = rng.normal(size=(3, 4)).astype("float32")
    x[1] = 0.0
    assert_same_run(*make_pair("UnitNormalization"), x)


GROUP_NORM_CASES = [
    (dict(groups=2), (3, 6)),
    (dict(groups=3), (2, 5, 6)),
    (dict(groups=-1), (2, 4, 3)),
    (dict(groups=1, epsilon=1e-5), (2, 3, 3, 4)),
    (dict(groups=2, axis=1), (2, 4, 5)),
    (dict(groups=2, axis=-2, center=False), (2, 3, 4, 5)),
    (dict(groups=4, scale=False), (2, 3, 3, 8)),
]


@pytest.mark.parametrize("kwargs,shape", GROUP_NORM_CASES, ids=str)
def test_group_normalization(kwargs, shape, rng):
    _same_layer_run("GroupNormalization", (), kwargs, shape, rng)


def test_group_normalization_config_with_regularizers_and_constraints():
    kwargs = dict(groups=4, axis=1, epsilon=1e-4, name="gn")
    k_layer = keras.layers.GroupNormalization(
        **kwargs, beta_initializer="ones", gamma_initializer=keras.initializers.Constant(2.0),
        beta_regularizer=keras.regularizers.L2(0.1), gamma_regularizer="l1",
        beta_constraint="non_neg", gamma_constraint=keras.constraints.MaxNorm(3.0))
    m_layer = mk.layers.GroupNormalization(
        **kwargs, beta_initializer="ones", gamma_initializer=mk.initializers.Constant(2.0),
        beta_regularizer=mk.regularizers.L2(0.1), gamma_regularizer="l1",
        beta_constraint="non_neg", gamma_constraint=mk.constraints.MaxNorm(3.0))
    assert_same_config(k_layer, m_layer)
    assert mk.layers.GroupNormalization.from_config(k_layer.get_config()).get_config() == (
        k_layer.get_config())


@pytest.mark.parametrize("mask_value", [0.0, -1.0])
def test_masking_outputs_gradients_and_mask(mask_value, rng):
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    x[0, 1] = mask_value
    x[2, 4] = mask_value
    x[1, 2, 0] = mask_value  # one feature alone does not mask a timestep
    k_layer, m_layer = make_pair("Masking", mask_value=mask_value)
    assert_same_config(k_layer, m_layer)
    assert_same_run(k_layer, m_layer, x)
    np.testing.assert_array_equal(m_layer.compute_mask(x).numpy(),
                                  np.asarray(k_layer.compute_mask(x)))
    assert m_layer.compute_output_shape((None, None, 4)) == k_layer.compute_output_shape(
        (None, None, 4))


# --- the same errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("name,args,kwargs", [
    ("Conv1D", (0, 3), {}),
    ("Conv1D", (2, (3, 3)), {}),
    ("Conv1D", (2, 3), {"padding": "full"}),
    ("Conv1D", (2, 3), {"strides": 2, "dilation_rate": 2}),
    ("Conv1D", (2, 3), {"data_format": "nwc"}),
    ("MaxPooling1D", ((2, 2),), {}),
    ("Dot", ((1, 2, 3),), {}),
    ("Dot", ((1, 2.0),), {}),
    ("RepeatVector", (0,), {}),
    ("Permute", ((1, 3),), {}),
    ("ZeroPadding1D", ((1, 2, 3),), {}),
    ("ZeroPadding2D", ((1, 2, 3),), {}),
    ("ZeroPadding2D", (((1, 2), (3, -1)),), {}),
    ("Cropping1D", (-1,), {}),
    ("Cropping2D", (-1,), {}),
    ("Cropping2D", (((1, 2, 3), 1),), {}),
    ("UpSampling1D", (0,), {}),
    ("UpSampling2D", ((2, 0),), {}),
    ("SpatialDropout1D", (1.5,), {}),
    ("AlphaDropout", (-0.5,), {}),
    ("GroupNormalization", (0,), {}),
], ids=str)
def test_bad_arguments_raise_the_same_errors(name, args, kwargs):
    with pytest.raises((ValueError, TypeError)) as keras_error:
        getattr(keras.layers, name)(*args, **kwargs)
    with pytest.raises(keras_error.type) as our_error:
        getattr(mk.layers, name)(*args, **kwargs)
    assert _sets_sorted(str(our_error.value)) == _sets_sorted(str(keras_error.value))


def _sets_sorted(message):
    """The message with each printed set of strings in sorted order. Keras prints the set
    {"valid", "same", "causal"}, whose order varies from process to process: a set literal of
    constants is stored in the .pyc as a frozenset, in the order of the process that compiled
    it, and string hashes differ per process, so Keras's and minikeras's copies (compiled at
    different times) can list the same three strings in different orders."""
    return re.sub(r"\{('[^{}]*')\}",
                  lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


@pytest.mark.parametrize("name,args,shape", [
    ("Conv1D", (2, 5), (None, 4, 1)),
    ("GroupNormalization", (4,), (None, 3)),
    ("GroupNormalization", (4,), (None, 6)),
    ("GroupNormalization", (2,), (None, None)),
    ("Cropping1D", ((2, 3),), (None, 5, 2)),
    ("Cropping2D", (((2, 2), (0, 0)),), (None, 4, 5, 1)),
], ids=str)
def test_bad_shapes_raise_the_same_errors(name, args, shape):
    messages = []
    for lib in (keras, mk):
        layer = getattr(lib.layers, name)(*args)
        with pytest.raises(ValueError) as error:
            if name.startswith("Cropping"):
                layer.compute_output_shape(shape)
            else:
                layer.build(shape)
        messages.append(str(error.value))
    assert messages[1] == messages[0]


def test_dot_incompatible_shapes_raise_the_same_error():
    messages = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            lib.layers.Dot(1).build([(None, 3), (None, 4)])
        messages.append(str(error.value))
    assert messages[1] == messages[0]


def test_upsampling2d_bilinear_is_refused_clearly():
    assert keras.layers.UpSampling2D(interpolation="bilinear").interpolation == "bilinear"
    with pytest.raises(NotImplementedError, match="interpolation='bilinear'"):
        mk.layers.UpSampling2D(interpolation="bilinear")


# --- one model with many of them: summary, files both ways ---------------------------------------

def sequence_model(lib):
    return lib.Sequential([
        lib.Input((12, 3)),
        lib.layers.Masking(),
        lib.layers.ZeroPadding1D(1),
        lib.layers.Conv1D(4, 3, padding="causal", activation="relu"),
        lib.layers.MaxPooling1D(2),
        lib.layers.GroupNormalization(2),
        lib.layers.UpSampling1D(2),
        lib.layers.Cropping1D((1, 1)),
        lib.layers.SpatialDropout1D(0.1),
        lib.layers.Conv1D(4, 3, strides=2),
        lib.layers.AveragePooling1D(2, padding="same"),
        lib.layers.Permute((2, 1)),
        lib.layers.Flatten(),
        lib.layers.RepeatVector(2),
        lib.layers.Flatten(),
        lib.layers.UnitNormalization(),
        lib.layers.AlphaDropout(0.1),
        lib.layers.Dense(2, activation="softmax"),
    ])


def image_model(lib):
    return lib.Sequential([
        lib.Input((6, 6, 2)),
        lib.layers.ZeroPadding2D(((1, 0), (0, 1))),
        lib.layers.Conv2D(3, 3),
        lib.layers.UpSampling2D((2, 1)),
        lib.layers.Cropping2D(((1, 1), (0, 1))),
        lib.layers.SpatialDropout2D(0.2),
        lib.layers.GroupNormalization(-1),
        lib.layers.Flatten(),
        lib.layers.Dense(2),
    ])


def dot_model(lib):
    """Functional, two inputs: cosine similarity of two encoded sequences (Dot), repeated."""
    a, b = lib.Input((5, 3)), lib.Input((5, 3))
    encode = lib.layers.Conv1D(4, 2, padding="causal", activation="tanh")
    pooled_a = lib.layers.AveragePooling1D(5)(encode(a))
    pooled_b = lib.layers.MaxPooling1D(5)(encode(b))
    flat_a = lib.layers.Flatten()(pooled_a)
    flat_b = lib.layers.Flatten()(pooled_b)
    similarity = lib.layers.Dot(axes=1, normalize=True)([flat_a, flat_b])
    scores = lib.layers.Dot(axes=(2, 2))([encode(a), encode(b)])
    out = lib.layers.Concatenate()([lib.layers.Flatten()(scores), similarity])
    return lib.Model([a, b], lib.layers.Dense(1)(lib.layers.RepeatVector(2)(out)))


MODELS = {"sequence": (sequence_model, (12, 3)), "image": (image_model, (6, 6, 2))}


@pytest.mark.parametrize("columns", ["80", "200"])
@pytest.mark.parametrize("model", sorted(MODELS))
def test_summary_text(model, columns, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    _assert_same(*_summaries(MODELS[model][0], capsys))


@pytest.mark.parametrize("model", sorted(MODELS))
def test_predictions_and_to_json_equal_keras(model, rng):
    make, shape = MODELS[model]
    k, m = make(keras), make(mk)
    m.set_weights(k.get_weights())
    x = rng.normal(size=(5, *shape)).astype("float32")
    x[0, 3] = 0.0  # a masked timestep (for the sequence model)
    assert_same_predictions(k, m, x)
    assert_same_json_config(json.loads(m.to_json()), json.loads(k.to_json()))


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
@pytest.mark.parametrize("model", sorted(MODELS))
def test_files_both_ways(model, suffix, tmp_path, rng):
    make, shape = MODELS[model]
    x = rng.normal(size=(4, *shape)).astype("float32")
    assert_files_move_both_ways(make, x, tmp_path, suffix, rng,
                                lambda theirs: [w * 0.5 + 0.1 for w in theirs])


def test_dot_model_summary_predictions_and_files(tmp_path, rng, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    _assert_same(*_summaries(dot_model, capsys))
    keras.backend.clear_session()
    mk.backend.clear_session()
    k, m = dot_model(keras), dot_model(mk)
    m.set_weights(k.get_weights())
    x = [rng.normal(size=(4, 5, 3)).astype("float32") for _ in range(2)]
    assert_same_predictions(k, m, x)
    m.save(str(tmp_path / "m.keras"))
    k.save(str(tmp_path / "k.keras"))
    assert_same_predictions(m, keras.models.load_model(str(tmp_path / "m.keras")), x)
    assert_same_predictions(k, mk.saving.load_model(str(tmp_path / "k.keras")), x)
    assert_same_json_config(_archive(str(tmp_path / "m.keras"))[1],
                            _archive(str(tmp_path / "k.keras"))[1])


def _without_dropout(make, shape):
    """The model with its random layers (SpatialDropout, AlphaDropout) left out: their draws
    differ between the libraries, so a training run could not be compared."""
    def build(lib):
        kept = [layer for layer in make(lib).layers if "dropout" not in layer.name]
        return lib.Sequential([lib.Input(shape), *kept])
    return build


@pytest.mark.parametrize("model", sorted(MODELS))
def test_training_like_keras(model, rng):
    """2 epochs of SGD from Keras's initial weights: the same losses and weights."""
    make, shape = MODELS[model]
    make = _without_dropout(make, shape)
    x = rng.normal(size=(32, *shape)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    assert_trains_like_keras(make, x, y, "mse", 0.05, batch_size=8)
