"""Parity of Wrapper, Pipeline, SpectralNormalization and ConvLSTM1D/2D/3D with Keras 3: the same
weights and inputs give the same outputs, states and gradients w.r.t. the input and every weight;
SpectralNormalization's training-time power iteration assigns the same kernel and ``vector_u``;
configs, weight names/shapes/order, a 2-epoch SGD fit and .keras / .weights.h5 files in both
directions agree."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_layers_extra_parity import (
    assert_same_config,
    assert_same_run,
    close,
    make_pair,
)
from test_rnn_parity import assert_same_weight_layout
from test_saving_parity import assert_files_move_both_ways
from test_saving_parity import assert_same_config as assert_same_json_config
from test_summary_parity import _assert_same, _summaries
from test_training_parity import SGD_ATOL, assert_trains_like_keras, assert_weights_close

import minikeras as mk


def _set_same(k_layer, m_layer, rng, scale=0.5):
    """The same random weights N(0, scale²) in both (unit variance saturates LSTM gates)."""
    values = [(rng.normal(size=v.shape) * scale).astype("float32") for v in k_layer.weights]
    k_layer.set_weights(values)
    m_layer.set_weights(values)
    return values


# --- Wrapper ------------------------------------------------------------------------------------

def test_wrapper_builds_the_layer_and_writes_its_config():
    k_layer, m_layer = keras.layers.Wrapper(keras.layers.Dense(3)), mk.layers.Wrapper(
        mk.layers.Dense(3))
    assert_same_config(k_layer, m_layer)
    k_layer.build((2, 4))
    m_layer.build((2, 4))
    assert_same_weight_layout(k_layer, m_layer)
    clone = mk.layers.Wrapper.from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()
    assert isinstance(clone.layer, mk.layers.Dense)


def test_wrapper_refuses_a_non_layer():
    errors = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            lib.layers.Wrapper("dense")
        errors.append(str(error.value))
    assert errors[1] == errors[0]


def test_a_subclass_of_wrapper(rng):
    """A user's wrapper: Keras's ``build`` and config; its ``call`` decides what it does."""
    def make(lib):
        class Twice(lib.layers.Wrapper):
            def call(self, inputs):
                return self.layer(self.layer(inputs))

        return Twice(lib.layers.Dense(4, activation="tanh"))

    k_layer, m_layer = make(keras), make(mk)
    k_layer.build((3, 4))
    m_layer.build((3, 4))
    assert_same_weight_layout(k_layer, m_layer)
    _set_same(k_layer, m_layer, rng)
    assert_same_run(k_layer, m_layer, rng.normal(size=(3, 4)).astype("float32"))


# --- Pipeline -----------------------------------------------------------------------------------

def _pipeline(lib):
    return lib.layers.Pipeline([lib.layers.Dense(5, activation="relu"),
                                lib.layers.Dense(3, activation="tanh")])


def test_pipeline_outputs_gradients_weights_and_config(rng):
    k_layer, m_layer = _pipeline(keras), _pipeline(mk)
    assert_same_config(k_layer, m_layer)
    x = rng.normal(size=(4, 6)).astype("float32")
    k_layer(x)  # Keras builds its layers at the first call
    m_layer(x)
    assert_same_weight_layout(k_layer, m_layer)
    _set_same(k_layer, m_layer, rng)
    assert_same_run(k_layer, m_layer, x)
    assert_same_config(k_layer, m_layer)
    clone = mk.layers.Pipeline.from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()
    assert [type(layer).__name__ for layer in clone.layers] == ["Dense", "Dense"]


def test_pipeline_trains_its_layers_by_default(rng):
    """``training`` defaults to True: a Dropout inside drops at a plain call, as in Keras."""
    x = np.ones((200, 50), "float32")
    for lib in (keras, mk):
        layer = lib.layers.Pipeline([lib.layers.Dropout(0.5)])
        y = np.asarray(layer(x))
        assert set(np.unique(y)) == {0.0, 2.0}
        assert abs((y == 0).mean() - 0.5) < 0.02
        close(layer(x, training=False), x)


def test_pipeline_passes_masks_along(rng):
    """Masking's mask reaches the LSTM (which skips the masked steps), as in Keras."""
    x = rng.normal(size=(3, 5, 2)).astype("float32")
    x[0, 3:] = 0.0
    x[2, :2] = 0.0
    layers = [lib.layers.Pipeline([lib.layers.Masking(0.0), lib.layers.LSTM(4)])
              for lib in (keras, mk)]
    layers[0](x)
    layers[1](x)
    _set_same(*layers, rng)
    close(layers[1](x), layers[0](x))


def test_pipeline_config_errors_and_arguments():
    errors = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            lib.layers.Pipeline.from_config({"layers": None, "name": "p"})
        errors.append(str(error.value))
    assert errors[1] == errors[0]
    for lib in (keras, mk):  # only layers and name
        with pytest.raises(TypeError):
            lib.layers.Pipeline([], trainable=False)


# --- SpectralNormalization ----------------------------------------------------------------------

SN_CASES = [
    ("Dense", dict(units=3), (4, 5), 1),
    ("Dense", dict(units=6, use_bias=False), (2, 3, 4), 3),
    ("Conv2D", dict(filters=4, kernel_size=2), (2, 5, 5, 3), 1),
    ("Conv2D", dict(filters=2, kernel_size=3, padding="same"), (2, 4, 4, 2), 2),
]


def _sn_pair(inner, kwargs, power_iterations):
    return (keras.layers.SpectralNormalization(getattr(keras.layers, inner)(**kwargs),
                                               power_iterations=power_iterations),
            mk.layers.SpectralNormalization(getattr(mk.layers, inner)(**kwargs),
                                            power_iterations=power_iterations))


@pytest.mark.parametrize("inner,kwargs,shape,power_iterations", SN_CASES, ids=str)
def test_spectral_normalization_inference(inner, kwargs, shape, power_iterations, rng):
    k_layer, m_layer = _sn_pair(inner, kwargs, power_iterations)
    k_layer.build(shape)
    m_layer.build(shape)
    assert_same_weight_layout(k_layer, m_layer)  # kernel, vector_u, then bias
    assert_same_config(k_layer, m_layer)
    _set_same(k_layer, m_layer, rng)
    x = rng.normal(size=shape).astype("float32")
    y = assert_same_run(k_layer, m_layer, x)  # an inference call changes nothing
    assert y.shape == m_layer.compute_output_shape(shape) == tuple(
        k_layer.compute_output_shape(shape))
    for k, m in zip(k_layer.get_weights(), m_layer.get_weights(), strict=True):
        close(m, k)


@pytest.mark.parametrize("inner,kwargs,shape,power_iterations", SN_CASES, ids=str)
def test_spectral_normalization_training_updates(inner, kwargs, shape, power_iterations, rng):
    """Training calls: the same u and W/σ assigned, the same outputs and gradients, three calls
    in a row (each normalizes the already-normalized kernel again)."""
    k_layer, m_layer = _sn_pair(inner, kwargs, power_iterations)
    k_layer.build(shape)
    m_layer.build(shape)
    _set_same(k_layer, m_layer, rng)
    for _ in range(3):
        x = rng.normal(size=shape).astype("float32")
        assert_same_run(k_layer, m_layer, x, training=True)
        for k, m in zip(k_layer.weights, m_layer.weights, strict=True):
            close(m.numpy(), k.numpy())
    singular = np.linalg.svd(m_layer.kernel.numpy().reshape(-1, m_layer.kernel.shape[-1]),
                             compute_uv=False)
    assert 0.5 < singular[0] < 1.5  # estimated σ ≈ the largest singular value


def test_spectral_normalization_leaves_a_zero_kernel_alone(rng):
    k_layer, m_layer = _sn_pair("Dense", dict(units=3, kernel_initializer="zeros"), 1)
    k_layer.build((2, 4))
    m_layer.build((2, 4))
    m_layer.set_weights(k_layer.get_weights())
    x = rng.normal(size=(2, 4)).astype("float32")
    close(m_layer(x, training=True), k_layer(x, training=True))
    for k, m in zip(k_layer.get_weights(), m_layer.get_weights(), strict=True):
        close(m, k)


def test_spectral_normalization_errors():
    errors = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            lib.layers.SpectralNormalization(lib.layers.Dense(2), power_iterations=0)
        errors.append(str(error.value))
    assert errors[1] == errors[0]
    errors = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            lib.layers.SpectralNormalization(lib.layers.Flatten()).build((2, 3))
        errors.append(str(error.value))
    assert errors[1] == errors[0]


def test_spectral_normalization_config_round_trip():
    k_layer = keras.layers.SpectralNormalization(keras.layers.Conv2D(3, 2), power_iterations=4,
                                                 name="sn")
    clone = mk.layers.SpectralNormalization.from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()
    assert clone.power_iterations == 4


# --- ConvLSTM -----------------------------------------------------------------------------------

CONV_LSTM_CASES = [
    ("ConvLSTM2D", dict(filters=3, kernel_size=2), (2, 3, 5, 5, 2)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=3, padding="same", return_sequences=True),
     (2, 4, 4, 5, 3)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=(3, 2), strides=2, go_backwards=True),
     (3, 3, 6, 5, 2)),
    ("ConvLSTM2D", dict(filters=3, kernel_size=2, dilation_rate=2, padding="same",
                        return_sequences=True, go_backwards=True), (2, 3, 5, 5, 1)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=2, data_format="channels_first",
                        use_bias=False, activation="relu",
                        recurrent_activation="hard_sigmoid"), (2, 3, 2, 4, 5)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=2, unit_forget_bias=False,
                        activation="softsign"), (2, 3, 4, 4, 2)),
    ("ConvLSTM1D", dict(filters=3, kernel_size=3), (2, 4, 7, 2)),
    ("ConvLSTM1D", dict(filters=2, kernel_size=2, padding="same", strides=2,
                        return_sequences=True), (3, 3, 6, 3)),
    ("ConvLSTM1D", dict(filters=2, kernel_size=3, data_format="channels_first",
                        go_backwards=True), (2, 3, 2, 6)),
    ("ConvLSTM3D", dict(filters=2, kernel_size=2), (2, 3, 3, 4, 3, 2)),
    ("ConvLSTM3D", dict(filters=2, kernel_size=(2, 1, 2), padding="same",
                        return_sequences=True), (2, 2, 3, 3, 3, 1)),
]


@pytest.mark.parametrize("name,kwargs,shape", CONV_LSTM_CASES, ids=str)
def test_conv_lstm_outputs_gradients_weights_and_config(name, kwargs, shape, rng):
    k_layer, m_layer = make_pair(name, **kwargs)
    assert_same_config(k_layer, m_layer)
    k_layer.build(shape)
    m_layer.build(shape)
    assert_same_weight_layout(k_layer, m_layer)  # names, shapes, order, and initial biases
    assert_same_config(k_layer, m_layer)
    _set_same(k_layer, m_layer, rng)
    y = assert_same_run(k_layer, m_layer, rng.normal(size=shape).astype("float32"))
    assert y.shape == m_layer.compute_output_shape(shape) == k_layer.compute_output_shape(shape)
    clone = getattr(mk.layers, name).from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()


@pytest.mark.parametrize("return_sequences", [False, True])
def test_conv_lstm_return_state(return_sequences, rng):
    shape = (2, 3, 4, 4, 2)
    k_layer, m_layer = make_pair("ConvLSTM2D", 3, 3, padding="same", return_state=True,
                                 return_sequences=return_sequences)
    k_layer.build(shape)
    m_layer.build(shape)
    _set_same(k_layer, m_layer, rng)
    x = rng.normal(size=shape).astype("float32")
    k_out, m_out = k_layer(x), m_layer(x)
    assert len(m_out) == len(k_out) == 3
    for m, k in zip(m_out, k_out, strict=True):
        close(m, k)
    assert m_layer.compute_output_shape(shape) == k_layer.compute_output_shape(shape)
    k_sym, m_sym = k_layer(keras.Input(shape[1:])), m_layer(mk.Input(shape[1:]))
    assert [tuple(t.shape) for t in m_sym] == [tuple(t.shape) for t in k_sym]


def test_conv_lstm_initial_state_and_its_gradient(rng):
    shape = (2, 3, 5, 5, 2)
    k_layer, m_layer = make_pair("ConvLSTM2D", 2, 2)
    k_layer.build(shape)
    m_layer.build(shape)
    _set_same(k_layer, m_layer, rng)
    x = rng.normal(size=shape).astype("float32")
    h0, c0 = (rng.normal(size=(2, 4, 4, 2)).astype("float32") for _ in range(2))
    results = []
    for lib, tape_cls, const in ((keras, tf.GradientTape, tf.constant),
                                 (mk, mk.GradientTape, mk.ops.convert_to_tensor)):
        layer = k_layer if lib is keras else m_layer
        states = [const(h0), const(c0)]
        with tape_cls() as tape:
            tape.watch(states)
            y = layer(x, initial_state=states)
            loss = lib.ops.sum(lib.ops.square(y))
        results.append((np.asarray(y), [np.asarray(g) for g in tape.gradient(loss, states)]))
    (k_y, k_g), (m_y, m_g) = results
    close(m_y, k_y)
    for m, k in zip(m_g, k_g, strict=True):
        close(m, k)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_conv_lstm_mask(return_sequences, rng):
    """A (batch, time) mask: masked steps keep the previous output and states."""
    shape = (3, 4, 4, 4, 2)
    k_layer, m_layer = make_pair("ConvLSTM2D", 2, 3, padding="same",
                                 return_sequences=return_sequences)
    k_layer.build(shape)
    m_layer.build(shape)
    _set_same(k_layer, m_layer, rng)
    x = rng.normal(size=shape).astype("float32")
    mask = np.array([[1, 1, 0, 1], [1, 0, 0, 0], [0, 1, 1, 1]], bool)
    close(m_layer(x, mask=mask), k_layer(x, mask=mask))


def test_conv_lstm_stateful(rng):
    shape = (2, 3, 4, 4, 1)
    k_layer, m_layer = make_pair("ConvLSTM2D", 2, 2, stateful=True, return_sequences=True)
    k_layer.build(shape)
    m_layer.build(shape)
    _set_same(k_layer, m_layer, rng)
    for _ in range(2):  # the second call starts from the first call's final states
        x = rng.normal(size=shape).astype("float32")
        close(m_layer(x), k_layer(x))
    assert [(v.name, v.path, tuple(v.shape), v.dtype, v.trainable) for v in m_layer.states] == [
        (v.name, v.path, tuple(v.shape), v.dtype, v.trainable) for v in k_layer.states]
    for k, m in zip(k_layer.states, m_layer.states, strict=True):
        close(m.numpy(), k.numpy())
    k_layer.reset_state()
    m_layer.reset_state()
    x = rng.normal(size=shape).astype("float32")
    close(m_layer(x), k_layer(x))


def test_stateful_conv_lstm_trains_like_keras(rng):
    """A stateful model, batches of 4 read in order (``shuffle=False``): after 2 epochs of SGD
    the weights and the carried states are Keras's."""
    def make(lib):
        return lib.Sequential([
            lib.Input(batch_shape=(4, 3, 4, 4, 1)),
            lib.layers.ConvLSTM2D(2, 2, stateful=True, name="clstm"),
            lib.layers.Flatten(),
            lib.layers.Dense(1)])

    x = rng.normal(size=(16, 3, 4, 4, 1)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    models = [make(keras), make(mk)]
    models[1].set_weights(models[0].get_weights())
    for lib, model in zip((keras, mk), models, strict=True):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert_weights_close(*models, atol=SGD_ATOL)
    k_states = models[0].get_layer("clstm").states
    m_states = models[1].get_layer("clstm").states
    for k, m in zip(k_states, m_states, strict=True):
        close(m.numpy(), k.numpy(), atol=SGD_ATOL)


def test_conv_lstm_dropout_is_inert_at_inference(rng):
    shape = (2, 3, 4, 4, 2)
    k_layer, m_layer = make_pair("ConvLSTM2D", 2, 2, dropout=0.5, recurrent_dropout=0.3,
                                 seed=3)
    k_layer.build(shape)
    m_layer.build(shape)
    assert_same_config(k_layer, m_layer)
    _set_same(k_layer, m_layer, rng)
    x = rng.normal(size=shape).astype("float32")
    close(m_layer(x), k_layer(x))
    assert not np.allclose(m_layer(x, training=True), m_layer(x))  # dropout acts when training


@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_conv_lstm(return_sequences, rng):
    shape = (2, 3, 4, 4, 2)
    k_layer, m_layer = (lib.layers.Bidirectional(lib.layers.ConvLSTM2D(
        2, 2, padding="same", return_sequences=return_sequences)) for lib in (keras, mk))
    k_layer.build(shape)
    m_layer.build(shape)
    assert_same_weight_layout(k_layer, m_layer)
    assert_same_config(k_layer, m_layer)
    _set_same(k_layer, m_layer, rng)
    y = assert_same_run(k_layer, m_layer, rng.normal(size=shape).astype("float32"))
    assert y.shape == m_layer.compute_output_shape(shape) == k_layer.compute_output_shape(shape)


def test_conv_lstm_dropout_statistically(rng):
    """Training with dropout: the random masks differ from Keras's, so compare the outputs'
    distributions over 300 calls (fixed seeds: the test is deterministic). Per element, the
    means agree within 5 standard errors; the average variances within 5% (measured: ratio
    1.01; one mask shared by the four gates instead of Keras's four gives 0.94 and a mean
    5.1 standard errors off, so both checks fail for it)."""
    shape, calls = (2, 3, 3, 3, 2), 300
    k_layer, m_layer = make_pair("ConvLSTM2D", 2, 2, padding="same", dropout=0.4,
                                 recurrent_dropout=0.3, seed=5)
    k_layer.build(shape)
    m_layer.build(shape)
    _set_same(k_layer, m_layer, rng, scale=1.0)
    x = tf.constant(rng.normal(size=shape).astype("float32"))
    k_runs = np.stack([np.asarray(k_layer(x, training=True)) for _ in range(calls)])
    m_runs = np.stack([np.asarray(m_layer(x.numpy(), training=True)) for _ in range(calls)])
    standard_error = np.sqrt((k_runs.var(0) + m_runs.var(0)) / calls)
    assert np.all(np.abs(k_runs.mean(0) - m_runs.mean(0)) < 5 * standard_error + 1e-4)
    assert abs(m_runs.var(0).mean() / k_runs.var(0).mean() - 1) < 0.05


def test_conv_lstm_config_with_initializers_regularizers_and_constraints():
    def make(lib):
        return lib.layers.ConvLSTM2D(
            4, (3, 2), strides=(2, 1), padding="SAME", activation="swish",
            recurrent_activation="hard_sigmoid", dropout=0.2, recurrent_dropout=0.1, seed=4,
            return_sequences=True, go_backwards=True, return_state=True, name="my_conv_lstm",
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
    clone = mk.layers.ConvLSTM2D.from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()
    shape = (2, 3, 6, 5, 2)
    k_layer.build(shape)
    m_layer.build(shape)
    close(m_layer.cell.bias.numpy(), k_layer.cell.bias.numpy())  # 0.5, and 1 for the forget gate
    assert m_layer.filters == k_layer.filters == 4
    assert m_layer.kernel_size == k_layer.kernel_size == (3, 2)


@pytest.mark.parametrize("kwargs", [
    dict(filters=2, kernel_size=2, strides=2, dilation_rate=2),
    dict(filters=2, kernel_size=(2, 2, 2)),
    dict(filters=2, kernel_size=2, padding="causal"),
    dict(filters=2, kernel_size=2, data_format="channels_middle"),
], ids=str)
def test_conv_lstm_bad_arguments_raise_like_keras(kwargs):
    errors = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            lib.layers.ConvLSTM2D(**kwargs)
        errors.append(str(error.value))
    if "padding" in kwargs:  # Keras prints the allowed values as a set (its order varies)
        assert errors[1].split("{")[0] == errors[0].split("{")[0]
    else:
        assert errors[1] == errors[0]


def test_conv_lstm_wrong_input_rank_raises():
    for lib in (keras, mk):
        with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
            lib.layers.ConvLSTM2D(2, 2)(np.zeros((2, 3, 4, 4), "float32"))


# --- models: summary, training, files -----------------------------------------------------------

def conv_lstm_model(lib):
    return lib.Sequential([
        lib.Input((3, 5, 5, 2)),
        lib.layers.ConvLSTM2D(3, 2, return_sequences=True),
        lib.layers.ConvLSTM2D(2, 2, padding="same"),
        lib.layers.Flatten(),
        lib.layers.Dense(1, activation="sigmoid"),
    ])


def conv_lstm_1d_3d_model(lib):
    return lib.Sequential([
        lib.Input((3, 4, 3, 3, 1)),
        lib.layers.ConvLSTM3D(2, 2, go_backwards=True),
        lib.layers.Reshape((3, 4, 2)),  # (d1, d2·d3, filters): time, steps, channels
        lib.layers.ConvLSTM1D(2, 2),
        lib.layers.Flatten(),
        lib.layers.Dense(1, activation="sigmoid"),
    ])


def wrappers_model(lib):
    return lib.Sequential([
        lib.Input((6,)),
        lib.layers.Pipeline([lib.layers.Dense(5, activation="tanh"), lib.layers.Dense(4)]),
        lib.layers.SpectralNormalization(lib.layers.Dense(4, activation="relu"),
                                         power_iterations=2),
        lib.layers.Dense(1, activation="sigmoid"),
    ])


def spectral_conv_model(lib):
    return lib.Sequential([
        lib.Input((6, 6, 2)),
        lib.layers.SpectralNormalization(lib.layers.Conv2D(3, 3)),
        lib.layers.Flatten(),
        lib.layers.Dense(1, activation="sigmoid"),
    ])


MODELS = {"conv_lstm": (conv_lstm_model, (3, 5, 5, 2)),
          "conv_lstm_1d_3d": (conv_lstm_1d_3d_model, (3, 4, 3, 3, 1)),
          "wrappers": (wrappers_model, (6,)),
          "spectral_conv": (spectral_conv_model, (6, 6, 2))}


@pytest.mark.parametrize("model_name", sorted(MODELS))
@pytest.mark.parametrize("columns", ["80", "200"])
def test_summary_text(model_name, columns, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    _assert_same(*_summaries(MODELS[model_name][0], capsys))


@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_trains_like_keras(model_name, rng):
    """2 epochs of SGD on 32 random samples, batches of 8, from Keras's initial weights (for
    SpectralNormalization: each training step also normalizes the kernel, as Keras's)."""
    make, shape = MODELS[model_name]
    x = rng.normal(size=(32, *shape)).astype("float32")
    y = rng.integers(0, 2, size=(32, 1)).astype("float32")
    assert_trains_like_keras(make, x, y, "binary_crossentropy", 0.5, batch_size=8)


@pytest.mark.parametrize("model_name", sorted(MODELS))
@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_files_both_ways(model_name, suffix, tmp_path, rng):
    make, shape = MODELS[model_name]
    x = rng.normal(size=(4, *shape)).astype("float32")
    assert_files_move_both_ways(make, x, tmp_path, suffix, rng,
                                lambda theirs: [w * 0.5 for w in theirs])


def test_to_json_equals_keras():
    for make, _ in MODELS.values():
        assert_same_json_config(json.loads(make(mk).to_json()), json.loads(make(keras).to_json()))
