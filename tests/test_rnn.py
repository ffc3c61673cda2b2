"""SimpleRNN, LSTM and GRU (and their cells, RNN(cell)) with NumPy only: the step equations
against a plain NumPy loop, float64 finite-difference gradient checks w.r.t. the input and every
weight (backpropagation through time comes from the tape), return_sequences / return_state /
go_backwards shapes, initial states, dropout only while training, configs, and errors that name
the layer and the shapes."""

import numpy as np
import pytest
from gradcheck import floatx, layer_gradient_check
from test_layers_extra import _close, _fresh_session, _round_trip, _x  # noqa: F401 (fixture)

import minikeras
from minikeras import layers


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_by_numpy(x, kernel, recurrent_kernel, bias):
    """Keras's LSTM written out: gates i, f, c, o side by side in the weights."""
    u = recurrent_kernel.shape[0]
    h = c = np.zeros((x.shape[0], u))
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = (z[:, k * u:(k + 1) * u] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
    return h, c


def gru_by_numpy(x, kernel, recurrent_kernel, bias):
    """Keras's GRU with reset_after=True: bias rows (input, recurrent), gates z, r, h."""
    u = recurrent_kernel.shape[0]
    h = np.zeros((x.shape[0], u))
    for t in range(x.shape[1]):
        xz, xr, xh = np.split(x[:, t] @ kernel + bias[0], 3, axis=1)
        mz, mr, mh = np.split(h @ recurrent_kernel + bias[1], 3, axis=1)
        z, r = _sigmoid(xz + mz), _sigmoid(xr + mr)
        h = z * h + (1 - z) * np.tanh(xh + r * mh)
    return h


def simple_rnn_by_numpy(x, kernel, recurrent_kernel, bias):
    h = np.zeros((x.shape[0], recurrent_kernel.shape[0]))
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ kernel + bias + h @ recurrent_kernel)
    return h


def _randomized(layer, shape, seed=11):
    layer.build(shape)
    layer.set_weights([_x(*w.shape, seed=seed + i, scale=0.5) for i, w in
                       enumerate(layer.get_weights())])
    return layer


@pytest.mark.parametrize("name,reference", [("LSTM", lambda *a: lstm_by_numpy(*a)[0]),
                                            ("GRU", gru_by_numpy),
                                            ("SimpleRNN", simple_rnn_by_numpy)])
def test_last_output_equals_the_step_equations(name, reference):
    x = _x(3, 6, 4, seed=1)
    layer = _randomized(getattr(layers, name)(5), x.shape)
    _close(layer(x), reference(x, *[w.astype("float64") for w in layer.get_weights()]),
           atol=1e-5)
    backwards = _randomized(getattr(layers, name)(5, go_backwards=True), x.shape)
    _close(backwards(x), reference(x[:, ::-1], *backwards.get_weights()), atol=1e-5)


def test_lstm_states_are_h_and_c():
    x = _x(2, 4, 3, seed=2)
    layer = _randomized(layers.LSTM(5, return_state=True), x.shape)
    output, h, c = layer(x)
    h_ref, c_ref = lstm_by_numpy(x, *layer.get_weights())
    _close(output, h_ref, atol=1e-5)
    _close(h, h_ref, atol=1e-5)
    _close(c, c_ref, atol=1e-5)


GRAD_CASES = [
    ("LSTM", dict()),
    ("LSTM", dict(return_sequences=True)),
    ("LSTM", dict(go_backwards=True, return_sequences=True)),
    ("LSTM", dict(use_bias=False, activation="relu", recurrent_activation="hard_sigmoid")),
    ("SimpleRNN", dict()),
    ("SimpleRNN", dict(return_sequences=True, go_backwards=True)),
    ("SimpleRNN", dict(activation="sigmoid", use_bias=False)),
    ("GRU", dict()),
    ("GRU", dict(return_sequences=True, go_backwards=True)),
    ("GRU", dict(reset_after=False)),
    ("GRU", dict(reset_after=False, return_sequences=True, use_bias=False)),
]


@pytest.mark.parametrize("name,kwargs", GRAD_CASES, ids=str)
def test_gradients_through_time_wrt_input_and_every_weight(name, kwargs):
    """d sum(y * r) / d(input, kernel, recurrent_kernel, bias) against central differences:
    backpropagation through time is the tape's chain rule over the unrolled steps."""
    x = _x(2, 4, 3, seed=3)
    with floatx("float64"):
        layer = _randomized(getattr(layers, name)(3, **kwargs), x.shape)
        assert len(layer.trainable_weights) == (3 if layer.use_bias else 2)
        layer_gradient_check(layer, x)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_gradients_wrt_every_returned_state(name):
    """A loss on the final states (not only the output) back-propagates too."""
    with floatx("float64"):
        layer = _randomized(getattr(layers, name)(2, return_state=True), (2, 3, 2))

        class States(layers.Layer):
            def call(self, x):
                return minikeras.ops.concatenate(list(layer(x)[1:]), axis=-1)

        wrapper = States()
        wrapper._layers.append(layer)
        layer_gradient_check(wrapper, _x(2, 3, 2, seed=4))


@pytest.mark.parametrize("cell,units", [(layers.LSTMCell, 3), (layers.GRUCell, 2),
                                        (layers.SimpleRNNCell, 4)])
def test_rnn_of_a_cell_equals_the_layer(cell, units):
    x = _x(2, 5, 3, seed=5)
    layer_name = {"LSTMCell": "LSTM", "GRUCell": "GRU", "SimpleRNNCell": "SimpleRNN"}
    full = _randomized(getattr(layers, layer_name[cell.__name__])(units), x.shape)
    rnn = layers.RNN(cell(units))
    rnn.build(x.shape)
    rnn.set_weights(full.get_weights())
    _close(rnn(x), full(x))
    with floatx("float64"):
        layer_gradient_check(_randomized(layers.RNN(cell(units), return_sequences=True),
                                         x.shape), x)


def test_custom_cell_in_rnn():
    class MinimalRNNCell(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            output = minikeras.ops.matmul(inputs, self.kernel) + minikeras.ops.matmul(
                states[0], self.recurrent_kernel)
            return output, [output]

    y = layers.RNN(MinimalRNNCell(4), return_sequences=True)(_x(2, 3, 5))
    assert y.shape == (2, 3, 4)


@pytest.mark.parametrize("name,n_states", [("LSTM", 2), ("GRU", 1), ("SimpleRNN", 1)])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_output_and_state_shapes(name, n_states, return_sequences):
    x = _x(4, 7, 3)
    layer = getattr(layers, name)(5, return_sequences=return_sequences, return_state=True)
    results = layer(x)
    assert isinstance(results, tuple) and len(results) == 1 + n_states
    expected = (4, 7, 5) if return_sequences else (4, 5)
    assert results[0].shape == expected
    assert all(s.shape == (4, 5) for s in results[1:])
    assert layer.compute_output_shape((None, 7, 3)) == (
        (None, 7, 5) if return_sequences else (None, 5), *[(None, 5)] * n_states)
    symbolic = layer(minikeras.Input((None, 3)))
    assert [tuple(t.shape) for t in symbolic] == [
        (None, None, 5) if return_sequences else (None, 5), *[(None, 5)] * n_states]
    if return_sequences:  # the last output of the sequence is the final state h
        _close(results[0][:, -1], results[1])


def test_return_state_in_a_functional_model():
    inputs = minikeras.Input((6, 3))
    output, h, c = layers.LSTM(4, return_state=True)(inputs)
    model = minikeras.Model(inputs, [output, c])
    out, carry = model(_x(2, 6, 3))
    assert out.shape == carry.shape == (2, 4)


def test_initial_state_is_used():
    x = _x(2, 3, 4)
    layer = _randomized(layers.LSTM(3), x.shape)
    zeros = [np.zeros((2, 3), "float32")] * 2
    _close(layer(x, initial_state=zeros), layer(x))
    assert not np.allclose(layer(x, initial_state=[np.ones((2, 3), "float32")] * 2), layer(x))


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_dropout_only_while_training(name):
    x = _x(8, 5, 6)
    layer = _randomized(getattr(layers, name)(4, dropout=0.5, recurrent_dropout=0.3, seed=1),
                        x.shape)
    plain = _randomized(getattr(layers, name)(4), x.shape)
    _close(layer(x), plain(x))
    _close(layer(x, training=False), plain(x))
    assert not np.allclose(layer(x, training=True), plain(x))
    assert not np.allclose(layer(x, training=True), layer(x, training=True))  # new masks


def test_lstm_weights_and_unit_forget_bias():
    layer = layers.LSTM(3)
    layer.build((None, 5, 2))
    assert [(v.path, v.shape) for v in layer.weights] == [
        ("lstm/lstm_cell/kernel", (2, 12)), ("lstm/lstm_cell/recurrent_kernel", (3, 12)),
        ("lstm/lstm_cell/bias", (12,))]
    np.testing.assert_array_equal(layer.cell.bias.numpy(), [0] * 3 + [1] * 3 + [0] * 6)
    rk = layer.cell.recurrent_kernel.numpy()
    _close(rk @ rk.T, np.eye(3), atol=1e-5)  # orthogonal rows
    no_forget = layers.LSTM(3, unit_forget_bias=False)
    no_forget.build((None, 5, 2))
    assert not no_forget.cell.bias.numpy().any()
    gru = layers.GRU(3)
    gru.build((None, 5, 2))
    assert [w.shape for w in gru.get_weights()] == [(2, 9), (3, 9), (2, 9)]
    assert layers.GRU(3, reset_after=False).cell.reset_after is False
    assert layer.count_params() == 4 * 3 * (2 + 3 + 1)


@pytest.mark.parametrize("layer", [
    lambda: layers.LSTM(4, return_sequences=True, go_backwards=True, dropout=0.1, seed=3,
                        kernel_regularizer=minikeras.regularizers.L2(0.01), name="my_lstm"),
    lambda: layers.GRU(2, reset_after=False, recurrent_activation="hard_sigmoid",
                       return_state=True),
    lambda: layers.SimpleRNN(3, activation="relu", use_bias=False, recurrent_dropout=0.2),
    lambda: layers.LSTMCell(3, unit_forget_bias=False),
    lambda: layers.GRUCell(3),
    lambda: layers.SimpleRNNCell(3),
    lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True),
], ids=["lstm", "gru", "simple_rnn", "lstm_cell", "gru_cell", "simple_rnn_cell", "rnn"])
def test_config_round_trip(layer):
    original = layer()
    clone = _round_trip(original)
    assert clone.get_config() == original.get_config()


def test_model_with_lstm_trains_and_saves(tmp_path):
    model = minikeras.Sequential([minikeras.Input((5,), dtype="int32"),
                                  layers.Embedding(20, 4), layers.LSTM(3),
                                  layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).integers(0, 20, size=(16, 5))
    y = (x.sum(axis=1) > 50).astype("float32")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = str(tmp_path / "m.keras")
    model.save(path)
    _close(minikeras.saving.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))


def test_bad_inputs_and_arguments_give_clear_errors():
    layer = layers.LSTM(3, name="lstm_a")
    with pytest.raises(ValueError, match=r"layer 'lstm_a'.*expected ndim=3, found ndim=2.*"
                                         r"\(4, 5\)"):
        layer(_x(4, 5))
    layer(_x(2, 3, 5))
    with pytest.raises(ValueError, match=r"layer 'lstm_a'.*axis -1 .* value 5.*\(2, 3, 4\)"):
        layer(_x(2, 3, 4))
    with pytest.raises(ValueError, match=r"Layer 'lstm_a' \(LSTM\) expects 2 initial state"):
        layer(_x(2, 3, 5), initial_state=[np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"'lstm_a' \(LSTM\) expects initial states of shapes "
                                         r"\[\(2, 3\), \(2, 3\)\].*\(2, 4\)"):
        layer(_x(2, 3, 5), initial_state=[np.zeros((2, 4))] * 2)
    # a mask is accepted now (tests/test_masking.py); one that keeps every step changes nothing
    _close(layer(_x(2, 3, 5), mask=np.ones((2, 3), bool)), layer(_x(2, 3, 5)))
    with pytest.raises(ValueError, match="the batch size must be static"):
        layers.GRU(3, stateful=True)(layers.Input((4, 2)))  # tests/test_rnn_stateful.py
    with pytest.raises(ValueError, match="expected a positive integer, got 0"):
        layers.SimpleRNN(0)
    with pytest.raises(ValueError, match="use_cudnn"):
        layers.LSTM(2, use_cudnn="yes")


# --- Bidirectional -------------------------------------------------------------------------------

@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_equals_two_layers_and_its_gradients(merge_mode, return_sequences):
    x = _x(2, 4, 3, seed=7)
    with floatx("float64"):
        bi = layers.Bidirectional(layers.GRU(3, return_sequences=return_sequences),
                                  merge_mode=merge_mode)
        _randomized(bi, x.shape)
        forward = layers.GRU(3, return_sequences=return_sequences)
        backward = layers.GRU(3, return_sequences=return_sequences, go_backwards=True)
        for sublayer, source in ((forward, bi.forward_layer), (backward, bi.backward_layer)):
            sublayer.build(x.shape)
            sublayer.set_weights(source.get_weights())
        y, y_rev = forward(x).numpy(), backward(x).numpy()
        if return_sequences:
            y_rev = y_rev[:, ::-1]  # back to time order
        expected = {"concat": np.concatenate([y, y_rev], -1), "sum": y + y_rev,
                    "mul": y * y_rev, "ave": (y + y_rev) / 2}[merge_mode]
        _close(bi(x), expected, atol=1e-12)
        layer_gradient_check(bi, x)


def test_bidirectional_weights_states_and_config():
    bi = layers.Bidirectional(layers.LSTM(3, return_state=True, name="enc"), merge_mode=None)
    assert (bi.forward_layer.name, bi.backward_layer.name) == ("forward_enc", "backward_enc")
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
    results = bi(_x(2, 5, 4))
    assert [tuple(r.shape) for r in results] == [(2, 3)] * 6  # y, y_rev, h, c, h_rev, c_rev
    assert [v.path for v in bi.weights][:3] == [
        "bidirectional/forward_enc/lstm_cell/kernel",
        "bidirectional/forward_enc/lstm_cell/recurrent_kernel",
        "bidirectional/forward_enc/lstm_cell/bias"]
    assert len(bi.weights) == 6
    assert bi.compute_output_shape((None, 5, 4)) == ((None, 3),) * 6
    symbolic = bi(minikeras.Input((5, 4)))
    assert [tuple(t.shape) for t in symbolic] == [(None, 3)] * 6
    _round_trip(layers.Bidirectional(layers.SimpleRNN(2, return_sequences=True)))
    with pytest.raises(ValueError, match="Invalid merge mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="same value for attribute \"return_sequences\""):
        layers.Bidirectional(layers.LSTM(2),
                             backward_layer=layers.LSTM(2, go_backwards=True,
                                                        return_sequences=True))
