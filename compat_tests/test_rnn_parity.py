"""Parity of SimpleRNN, LSTM and GRU (and RNN(cell) with their cells) with Keras 3: the same
weights and inputs give the same outputs, final states and gradients w.r.t. the input and every
weight; configs, weight names/shapes/order, the summary of an Embedding -> LSTM -> Dense model,
a short SGD training run, and .keras / .weights.h5 files in both directions agree."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
import test_layers_extra_parity
from test_layers_extra_parity import (
    assert_same_config,
    assert_same_run,
    close,
    make_pair,
    randomize,
)
from test_saving_parity import (
    assert_files_move_both_ways,
)
from test_saving_parity import assert_same_config as assert_same_json_config
from test_summary_parity import _assert_same, _summaries
from test_training_parity import (
    assert_trains_like_keras,
)

import minikeras as mk

CASES = [
    ("LSTM", dict(units=4)),
    ("LSTM", dict(units=3, return_sequences=True)),
    ("LSTM", dict(units=5, go_backwards=True)),
    ("LSTM", dict(units=4, return_sequences=True, go_backwards=True)),
    ("LSTM", dict(units=3, use_bias=False, activation="relu",
                  recurrent_activation="hard_sigmoid")),
    ("LSTM", dict(units=2, unit_forget_bias=False, activation="softsign")),
    ("SimpleRNN", dict(units=4)),
    ("SimpleRNN", dict(units=3, return_sequences=True, go_backwards=True)),
    ("SimpleRNN", dict(units=5, activation="relu", use_bias=False)),
    ("GRU", dict(units=4)),
    ("GRU", dict(units=3, return_sequences=True)),
    ("GRU", dict(units=4, go_backwards=True, return_sequences=True)),
    ("GRU", dict(units=3, reset_after=False)),
    ("GRU", dict(units=3, reset_after=False, use_bias=False, return_sequences=True)),
    ("GRU", dict(units=2, use_bias=False)),
]
SHAPE = (3, 6, 5)


def assert_same_weight_layout(k_layer, m_layer):
    """Weight paths, shapes, dtypes, trainability and order; the initial biases (zeros, ones for
    LSTM's forget gate) too; kernels are random and differ."""
    assert [(v.path, tuple(v.shape), v.dtype, v.trainable) for v in m_layer.weights] == [
        (v.path, tuple(v.shape), v.dtype, v.trainable) for v in k_layer.weights]
    for k, m in zip(k_layer.weights, m_layer.weights, strict=True):
        if k.name == "bias":
            close(m.numpy(), k.numpy())


def _scaled_randomize(k_layer, m_layer, rng, scale=0.5):
    """Both layers' weights drawn from N(0, scale²): unit variance saturates every gate."""
    values = [(rng.normal(size=v.shape) * scale).astype("float32") for v in k_layer.weights]
    k_layer.set_weights(values)
    m_layer.set_weights(values)


@pytest.mark.parametrize("name,kwargs", CASES, ids=str)
def test_outputs_gradients_weights_and_config(name, kwargs, rng):
    k_layer, m_layer = make_pair(name, **kwargs)
    k_layer.build(SHAPE)
    m_layer.build(SHAPE)
    assert_same_weight_layout(k_layer, m_layer)  # names, shapes, order, and initial biases
    assert_same_config(k_layer, m_layer)
    _scaled_randomize(k_layer, m_layer, rng)
    x = rng.normal(size=SHAPE).astype("float32")
    y = assert_same_run(k_layer, m_layer, x)
    assert y.shape == m_layer.compute_output_shape(SHAPE) == k_layer.compute_output_shape(SHAPE)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_unit_variance_weights(name, rng):
    """Weights N(0, 1) (randomize's default): saturated gates, large pre-activations."""
    k_layer, m_layer = make_pair(name, 4, return_sequences=True)
    k_layer.build(SHAPE)
    m_layer.build(SHAPE)
    randomize(k_layer, m_layer, rng)
    assert_same_run(k_layer, m_layer, rng.normal(size=SHAPE).astype("float32"))


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_long_sequences(name, rng, monkeypatch):
    """60 steps: float32 rounding differences (x W + h U + b summed in another order) are
    carried through the recurrence and back through time, so gradients get atol 1e-5 here; the
    outputs stay within the default 1e-5 / 1e-6."""
    monkeypatch.setattr(test_layers_extra_parity, "GRAD_ATOL", 1e-5)
    shape = (4, 60, 3)
    k_layer, m_layer = make_pair(name, 6, return_sequences=True)
    k_layer.build(shape)
    m_layer.build(shape)
    _scaled_randomize(k_layer, m_layer, rng)
    assert_same_run(k_layer, m_layer, rng.normal(size=shape).astype("float32"))


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_return_state(name, return_sequences, rng):
    k_layer, m_layer = make_pair(name, 4, return_state=True, return_sequences=return_sequences)
    k_layer.build(SHAPE)
    m_layer.build(SHAPE)
    _scaled_randomize(k_layer, m_layer, rng)
    x = rng.normal(size=SHAPE).astype("float32")
    k_out, m_out = k_layer(x), m_layer(x)
    assert len(m_out) == len(k_out)
    for m, k in zip(m_out, k_out, strict=True):
        close(m, k)
    assert m_layer.compute_output_shape(SHAPE) == k_layer.compute_output_shape(SHAPE)
    k_sym, m_sym = k_layer(keras.Input((None, 5))), m_layer(mk.Input((None, 5)))
    assert [tuple(t.shape) for t in m_sym] == [tuple(t.shape) for t in k_sym]


def test_initial_state_and_its_gradient(rng):
    k_layer, m_layer = make_pair("LSTM", 3)
    k_layer.build(SHAPE)
    m_layer.build(SHAPE)
    _scaled_randomize(k_layer, m_layer, rng)
    x = rng.normal(size=SHAPE).astype("float32")
    h0, c0 = (rng.normal(size=(3, 3)).astype("float32") for _ in range(2))
    grads = []
    for lib, tape_cls, const in ((keras, tf.GradientTape, tf.constant),
                                 (mk, mk.GradientTape, mk.ops.convert_to_tensor)):
        layer = k_layer if lib is keras else m_layer
        states = [const(h0), const(c0)]
        with tape_cls() as tape:
            tape.watch(states)
            y = layer(x, initial_state=states)
            loss = lib.ops.sum(lib.ops.square(y))
        grads.append((np.asarray(y), [np.asarray(g) for g in tape.gradient(loss, states)]))
    (k_y, k_g), (m_y, m_g) = grads
    close(m_y, k_y)
    for m, k in zip(m_g, k_g, strict=True):
        close(m, k, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell,args", [("LSTMCell", (3,)), ("GRUCell", (3,)),
                                       ("SimpleRNNCell", (3,)),
                                       ("GRUCell", (2,)), ("LSTMCell", (2,))], ids=str)
def test_rnn_of_a_cell(cell, args, rng):
    k_layer = keras.layers.RNN(getattr(keras.layers, cell)(*args), return_sequences=True)
    m_layer = mk.layers.RNN(getattr(mk.layers, cell)(*args), return_sequences=True)
    k_layer.build(SHAPE)
    m_layer.build(SHAPE)
    assert_same_weight_layout(k_layer, m_layer)
    assert_same_config(k_layer, m_layer)
    _scaled_randomize(k_layer, m_layer, rng)
    assert_same_run(k_layer, m_layer, rng.normal(size=SHAPE).astype("float32"))
    clone = mk.layers.RNN.from_config(k_layer.get_config())  # Keras's config builds ours
    assert clone.get_config() == k_layer.get_config()


def test_cell_configs():
    for cell in ("LSTMCell", "GRUCell", "SimpleRNNCell"):
        assert_same_config(*make_pair(cell, 3, dropout=0.25, recurrent_dropout=0.5, seed=2))


def test_config_with_initializers_regularizers_and_constraints():
    def make(lib):
        return lib.layers.LSTM(
            6, activation="swish", recurrent_activation="hard_sigmoid", dropout=0.2,
            recurrent_dropout=0.1, seed=4, return_sequences=True, go_backwards=True,
            return_state=True, name="my_lstm",
            kernel_initializer=lib.initializers.HeNormal(seed=3),
            recurrent_initializer=lib.initializers.Orthogonal(gain=2.0, seed=1),
            bias_initializer=lib.initializers.Constant(0.5),
            kernel_regularizer=lib.regularizers.L2(0.01),
            recurrent_regularizer=lib.regularizers.L1(0.02),
            bias_regularizer=lib.regularizers.L1(0.03),
            activity_regularizer=lib.regularizers.L1L2(0.1, 0.2),
            kernel_constraint=lib.constraints.MaxNorm(2.0), bias_constraint="non_neg",
            recurrent_constraint=lib.constraints.UnitNorm())

    k_layer, m_layer = make(keras), make(mk)
    assert_same_config(k_layer, m_layer)
    clone = mk.layers.LSTM.from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()
    k_layer.build(SHAPE)
    m_layer.build(SHAPE)
    close(m_layer.cell.bias.numpy(), k_layer.cell.bias.numpy())  # 0.5, and 1 for the forget gate


def test_dropout_is_inert_at_inference(rng):
    k_layer, m_layer = make_pair("GRU", 4, dropout=0.5, recurrent_dropout=0.5)
    k_layer.build(SHAPE)
    m_layer.build(SHAPE)
    _scaled_randomize(k_layer, m_layer, rng)
    x = rng.normal(size=SHAPE).astype("float32")
    close(m_layer(x), k_layer(x))
    close(m_layer(x, training=False), k_layer(x, training=False))


@pytest.mark.parametrize("name,kwargs,shape", [
    ("LSTM", dict(units=0), None),
    ("GRU", dict(units=3, use_cudnn="maybe"), None),
    ("LSTM", dict(units=3), (4, 5)),
], ids=str)
def test_bad_arguments_and_inputs_raise_like_keras(name, kwargs, shape):
    errors = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            layer = getattr(lib.layers, name)(**kwargs)
            layer(np.zeros(shape, "float32"))
        errors.append(str(error.value))
    if shape is None:
        assert errors[1] == errors[0]
    else:
        assert "expected ndim=3, found ndim=2. Full shape received: (4, 5)" in errors[0]
        assert "expected ndim=3, found ndim=2. Full shape received: (4, 5)" in errors[1]


# --- Bidirectional -------------------------------------------------------------------------------

@pytest.mark.parametrize("inner,merge_mode,return_sequences", [
    ("LSTM", "concat", False), ("LSTM", "sum", True), ("GRU", "ave", True),
    ("GRU", "mul", False), ("SimpleRNN", "concat", True)], ids=str)
def test_bidirectional(inner, merge_mode, return_sequences, rng):
    """Keras runs LSTM and GRU pairs through its fused bidirectional kernels; the same numbers."""
    layers = []
    for lib in (keras, mk):
        layers.append(lib.layers.Bidirectional(
            getattr(lib.layers, inner)(4, return_sequences=return_sequences),
            merge_mode=merge_mode))
    k_layer, m_layer = layers
    k_layer.build(SHAPE)
    m_layer.build(SHAPE)
    assert_same_weight_layout(k_layer, m_layer)
    assert_same_config(k_layer, m_layer)
    _scaled_randomize(k_layer, m_layer, rng)
    y = assert_same_run(k_layer, m_layer, rng.normal(size=SHAPE).astype("float32"))
    assert y.shape == m_layer.compute_output_shape(SHAPE) == k_layer.compute_output_shape(SHAPE)
    clone = mk.layers.Bidirectional.from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()


@pytest.mark.parametrize("merge_mode", ["concat", None])
def test_bidirectional_return_state(merge_mode, rng):
    k_layer = keras.layers.Bidirectional(keras.layers.LSTM(3, return_state=True),
                                         merge_mode=merge_mode)
    m_layer = mk.layers.Bidirectional(mk.layers.LSTM(3, return_state=True),
                                      merge_mode=merge_mode)
    k_layer.build(SHAPE)
    m_layer.build(SHAPE)
    _scaled_randomize(k_layer, m_layer, rng)
    x = rng.normal(size=SHAPE).astype("float32")
    k_out, m_out = k_layer(x), m_layer(x)
    assert len(m_out) == len(k_out)
    for m, k in zip(m_out, k_out, strict=True):
        close(m, k)
    assert m_layer.compute_output_shape(SHAPE) == k_layer.compute_output_shape(SHAPE)
    assert_same_config(k_layer, m_layer)


# --- the text classifier: summary, training, files ----------------------------------------------

def text_model(lib, length=20):
    return lib.Sequential([
        lib.Input((length,), dtype="int32"),
        lib.layers.Embedding(100, 8),
        lib.layers.LSTM(16),
        lib.layers.Dense(1, activation="sigmoid"),
    ])


def stacked_model(lib, length=12):
    """Every recurrent layer in one model: GRU and SimpleRNN return sequences for the next."""
    return lib.Sequential([
        lib.Input((length,), dtype="int32"),
        lib.layers.Embedding(50, 6),
        lib.layers.GRU(5, return_sequences=True),
        lib.layers.SimpleRNN(4, return_sequences=True, go_backwards=True),
        lib.layers.LSTM(3),
        lib.layers.Dense(1, activation="sigmoid"),
    ])


def bidirectional_model(lib, length=12):
    return lib.Sequential([
        lib.Input((length,), dtype="int32"),
        lib.layers.Embedding(50, 6),
        lib.layers.Bidirectional(lib.layers.LSTM(4, return_sequences=True)),
        lib.layers.Bidirectional(lib.layers.GRU(3), merge_mode="sum"),
        lib.layers.Dense(1, activation="sigmoid"),
    ])


MODELS = [text_model, stacked_model, bidirectional_model]


@pytest.mark.parametrize("make", MODELS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("columns", ["80", "200"])
def test_summary_text(make, columns, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    _assert_same(*_summaries(make, capsys))


def _sequences(rng, n=64, length=20, vocabulary=100):
    x = rng.integers(0, vocabulary, size=(n, length)).astype("int32")
    y = rng.integers(0, 2, size=(n, 1)).astype("float32")
    return x, y


@pytest.mark.parametrize("make,length,vocabulary", [(text_model, 20, 100),
                                                    (stacked_model, 12, 50),
                                                    (bidirectional_model, 12, 50)],
                         ids=["text_model", "stacked_model", "bidirectional_model"])
def test_trains_like_keras(make, length, vocabulary, rng):
    """2 epochs of SGD on 64 random sequences, batches of 16, from Keras's initial weights."""
    x, y = _sequences(rng, length=length, vocabulary=vocabulary)
    assert_trains_like_keras(make, x, y, "binary_crossentropy", 0.5, metrics=["accuracy"])


@pytest.mark.parametrize("make", MODELS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_files_both_ways(make, suffix, tmp_path, rng):
    x = rng.integers(0, 50, size=(8, 20 if make is text_model else 12)).astype("int32")
    assert_files_move_both_ways(make, x, tmp_path, suffix, rng,
                                lambda theirs: [w * 0.5 for w in theirs])


def test_to_json_equals_keras():
    for make in MODELS:
        assert_same_json_config(json.loads(make(mk).to_json()), json.loads(make(keras).to_json()))
