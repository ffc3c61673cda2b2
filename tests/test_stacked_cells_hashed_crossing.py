"""StackedRNNCells and HashedCrossing with NumPy only.

StackedRNNCells: a stack equals the recurrent layers it stacks, state sizes and nested states,
``RNN([cells])``, return_state structure, masks, stateful calls, float64 finite-difference
gradient checks through the stack (input, every weight, the initial states), configs, saving,
and errors.

HashedCrossing: the cross hash written out (FingerprintCat64 of the features' hashes), input
forms and output modes, configs and errors.
"""

import numpy as np
import pytest
from gradcheck import floatx, layer_gradient_check
from test_layers_extra import _close, _fresh_session, _round_trip, _x  # noqa: F401 (fixture)

import minikeras
from minikeras import layers, ops


def _randomized(layer, shape, seed=11):
    layer.build(shape)
    layer.set_weights([_x(*w.shape, seed=seed + i, scale=0.5) for i, w in
                       enumerate(layer.get_weights())])
    return layer


def _stack(*cells, **kwargs):
    return layers.RNN(layers.StackedRNNCells(list(cells)), **kwargs)


# --- StackedRNNCells ------------------------------------------------------------------------------

def test_state_and_output_sizes():
    stack = layers.StackedRNNCells([layers.LSTMCell(8), layers.GRUCell(3),
                                    layers.SimpleRNNCell(4)])
    assert stack.state_size == [[8, 8], 3, 4]
    assert stack.output_size == 4
    assert stack.name == "stacked_rnn_cells"
    states = stack.get_initial_state(batch_size=2)
    assert [[tuple(s.shape) for s in cell_states] for cell_states in states] == [
        [(2, 8), (2, 8)], [(2, 3)], [(2, 4)]]
    assert all(not np.any(s) for cell_states in states for s in cell_states)


def test_weights_in_cell_order_under_the_stack_path():
    layer = _stack(layers.LSTMCell(4), layers.SimpleRNNCell(3), name="rnn")
    layer.build((2, 5, 6))
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("rnn/stacked_rnn_cells/lstm_cell/kernel", (6, 16)),
        ("rnn/stacked_rnn_cells/lstm_cell/recurrent_kernel", (4, 16)),
        ("rnn/stacked_rnn_cells/lstm_cell/bias", (16,)),
        ("rnn/stacked_rnn_cells/simple_rnn_cell/kernel", (4, 3)),  # reads the LSTM's output
        ("rnn/stacked_rnn_cells/simple_rnn_cell/recurrent_kernel", (3, 3)),
        ("rnn/stacked_rnn_cells/simple_rnn_cell/bias", (3,))]
    assert layer.count_params() == 6 * 16 + 4 * 16 + 16 + 4 * 3 + 3 * 3 + 3


@pytest.mark.parametrize("go_backwards", [False, True])
def test_a_stack_equals_one_layer_per_cell(go_backwards):
    """One time loop over stacked cells = the layers one after another, each returning its
    whole sequence to the next (backwards, the stack reverses the input once)."""
    x = _x(3, 6, 5, seed=1)
    stack = _randomized(_stack(layers.LSTMCell(4), layers.GRUCell(3), return_sequences=True,
                               go_backwards=go_backwards), x.shape)
    lstm = layers.LSTM(4, return_sequences=True, go_backwards=go_backwards)
    gru = layers.GRU(3, return_sequences=True)
    lstm.build(x.shape)
    gru.build((3, 6, 4))
    weights = stack.get_weights()
    lstm.set_weights(weights[:3])
    gru.set_weights(weights[3:])
    _close(stack(x), gru(lstm(x)), atol=1e-5)


def test_a_list_of_cells_becomes_a_stack():
    layer = layers.RNN([layers.SimpleRNNCell(3), layers.LSTMCell(2)])
    assert isinstance(layer.cell, layers.StackedRNNCells)
    assert layer.state_size == [3, [2, 2]]
    assert layer(_x(2, 4, 5)).shape == (2, 2)


def test_return_state_gives_each_cells_states():
    x = _x(2, 5, 3, seed=2)
    layer = _randomized(_stack(layers.LSTMCell(4), layers.SimpleRNNCell(2),
                               return_state=True, return_sequences=True), x.shape)
    output, lstm_states, simple_states = layer(x)
    assert output.shape == (2, 5, 2)
    assert isinstance(lstm_states, list) and [s.shape for s in lstm_states] == [(2, 4), (2, 4)]
    assert isinstance(simple_states, list) and [s.shape for s in simple_states] == [(2, 2)]
    _close(output[:, -1], simple_states[0])
    assert layer.compute_output_shape((None, 5, 3)) == (
        (None, 5, 2), [(None, 4), (None, 4)], (None, 2))
    symbolic = layer(minikeras.Input((None, 3)))
    assert tuple(symbolic[0].shape) == (None, None, 2)
    assert [tuple(t.shape) for t in symbolic[1]] == [(None, 4), (None, 4)]
    assert tuple(symbolic[2].shape) == (None, 2)


def test_a_stack_of_one_cell_keeps_its_state_list():
    layer = _stack(layers.LSTMCell(3), return_state=True)
    output, states = layer(_x(2, 4, 5))
    assert isinstance(states, list) and len(states) == 2
    _close(output, states[0])


def test_initial_states_are_nested_and_checked():
    x = _x(2, 3, 4, seed=3)
    layer = _randomized(_stack(layers.LSTMCell(3), layers.SimpleRNNCell(2),
                               return_state=True), x.shape)
    zeros = [[np.zeros((2, 3), "float32")] * 2, np.zeros((2, 2), "float32")]
    given = layer(x, initial_state=zeros)
    default = layer(x)
    _close(given[0], default[0])
    assert not isinstance(given[2], list)  # a bare initial state stays bare, as in Keras
    ones = [[np.ones((2, 3), "float32")] * 2, [np.ones((2, 2), "float32")]]
    assert not np.allclose(layer(x, initial_state=ones)[0], default[0])
    with pytest.raises(ValueError, match=r"expects 2 initial state\(s\) of shapes "
                                         r"\[\[\(2, 3\), \(2, 3\)\], \(2, 2\)\], but received 3"):
        layer(x, initial_state=[np.zeros((2, 3))] * 3)
    with pytest.raises(ValueError, match=r"but received one of shape \(2, 5\)"):
        layer(x, initial_state=[[np.zeros((2, 3)), np.zeros((2, 5))], np.zeros((2, 2))])


def test_masked_steps_keep_every_cells_states():
    x = _x(2, 5, 3, seed=4)
    layer = _randomized(_stack(layers.GRUCell(3), layers.LSTMCell(2), return_state=True),
                        x.shape)
    mask = np.array([[True] * 3 + [False] * 2, [True] * 5])
    masked = layer(x, mask=mask)
    cut = layer(x[:1, :3])
    for a, b in zip(minikeras.tree.flatten(masked), minikeras.tree.flatten(cut), strict=True):
        _close(np.asarray(a)[:1], b)


def test_stateful_stack_continues_and_resets():
    x = _x(2, 6, 3, seed=5)
    stateful = _randomized(_stack(layers.LSTMCell(3), layers.GRUCell(2), stateful=True),
                           x.shape)
    plain = _stack(layers.LSTMCell(3), layers.GRUCell(2))
    plain.build(x.shape)
    plain.set_weights(stateful.get_weights())
    assert [[v.shape for v in cell] for cell in stateful.states] == [[(2, 3), (2, 3)], [(2, 2)]]
    assert all(v.path == "rnn/rnn_state" for v in minikeras.tree.flatten(stateful.states))
    assert len(stateful.weights) == 6  # the states are not weights
    stateful(x[:, :4])
    _close(stateful(x[:, 4:]), plain(x), atol=1e-5)  # two halves = the whole sequence
    stateful.reset_state()
    assert not any(np.any(v.numpy()) for v in minikeras.tree.flatten(stateful.states))
    _close(stateful(x), plain(x), atol=1e-5)


def test_dropout_of_each_cell_only_while_training():
    x = _x(4, 5, 3, seed=6)
    layer = _randomized(_stack(layers.LSTMCell(3, dropout=0.5, seed=1),
                               layers.GRUCell(2, recurrent_dropout=0.5, seed=2)), x.shape)
    plain = _stack(layers.LSTMCell(3), layers.GRUCell(2))
    plain.build(x.shape)
    plain.set_weights(layer.get_weights())
    _close(layer(x), plain(x))
    assert not np.allclose(layer(x, training=True), plain(x))
    assert all(c._dropout_mask is None for c in layer.cell.cells)  # reset after the call


STACKS = [
    lambda: [layers.LSTMCell(3), layers.LSTMCell(2)],
    lambda: [layers.SimpleRNNCell(2), layers.GRUCell(3), layers.LSTMCell(2)],
    lambda: [layers.GRUCell(2, reset_after=False), layers.SimpleRNNCell(3, use_bias=False)],
    lambda: [layers.LSTMCell(2)],
]


@pytest.mark.parametrize("kwargs", [dict(), dict(return_sequences=True, go_backwards=True)],
                         ids=str)
@pytest.mark.parametrize("make", STACKS, ids=["lstm_lstm", "simple_gru_lstm",
                                              "gru_simple", "one_lstm"])
def test_gradients_through_the_stack(make, kwargs):
    """d sum(y * r) / d(input and every weight of every cell) against central differences,
    in float64: backpropagation through time and through the stack is the tape's chain rule."""
    x = _x(2, 4, 3, seed=7)
    with floatx("float64"):
        layer = _randomized(layers.RNN(make(), **kwargs), x.shape)
        layer_gradient_check(layer, x)


def test_gradients_wrt_the_states_and_the_initial_states():
    """A loss on every final state of every cell, given initial states: gradients w.r.t. the
    initial states (central differences too)."""
    x = _x(2, 3, 2, seed=8)
    h0, c0, s0 = _x(2, 2, seed=9), _x(2, 2, seed=10), _x(2, 3, seed=11)
    with floatx("float64"):
        layer = _randomized(_stack(layers.LSTMCell(2), layers.SimpleRNNCell(3),
                                   return_state=True), x.shape)

        class States(layers.Layer):
            def call(self, inputs):
                states = [inputs[:, :2], inputs[:, 2:4], inputs[:, 4:]]
                _, (h, c), (s,) = layer(x, initial_state=[states[:2], [states[2]]])
                return ops.concatenate([h, c, s], axis=-1)

        wrapper = States()
        wrapper._layers.append(layer)
        layer_gradient_check(wrapper, np.concatenate([h0, c0, s0], axis=-1))


def test_config_round_trip_with_nested_cells():
    stack = layers.StackedRNNCells([
        layers.LSTMCell(3, dropout=0.25, kernel_initializer="he_normal"),
        layers.GRUCell(2, reset_after=False)], name="my_stack")
    config = stack.get_config()
    assert [c["class_name"] for c in config["cells"]] == ["LSTMCell", "GRUCell"]
    assert config["cells"][0]["module"] == "keras.layers"
    assert config["name"] == "my_stack"
    clone = _round_trip(stack)
    assert clone.state_size == [[3, 3], 2]
    layer = layers.RNN([layers.SimpleRNNCell(2), layers.LSTMCell(3)], return_sequences=True)
    layer.build((None, 4, 5))
    serialized = layers.serialize(layer)
    assert serialized["config"]["cell"]["class_name"] == "StackedRNNCells"
    assert serialized["config"]["cell"]["build_config"] == {"input_shape": (None, 5)}
    cell_configs = serialized["config"]["cell"]["config"]["cells"]
    assert [c["build_config"] for c in cell_configs] == [{"input_shape": (None, 5)},
                                                         {"input_shape": (None, 2)}]
    restored = layers.deserialize(serialized)
    assert restored.get_config() == layer.get_config()
    restored.build((None, 4, 5))
    assert [w.shape for w in restored.weights] == [w.shape for w in layer.weights]


def test_model_with_a_stack_trains_and_saves(tmp_path):
    x = _x(16, 5, 3, seed=12)
    y = _x(16, 1, seed=13)
    model = minikeras.Sequential([minikeras.Input((5, 3)),
                                  layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)]),
                                  layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = str(tmp_path / "stack.keras")
    model.save(path)
    loaded = minikeras.saving.load_model(path)
    assert isinstance(loaded.layers[0].cell, layers.StackedRNNCells)
    _close(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_cells_must_have_call_and_state_size():
    with pytest.raises(ValueError, match="All cells must have a `call` method"):
        layers.StackedRNNCells([layers.LSTMCell(2), 3])

    class NoStateSize:
        def call(self, inputs, states):
            return inputs, states

    with pytest.raises(ValueError, match="All cells must have a `state_size` attribute"):
        layers.StackedRNNCells([NoStateSize()])


# --- HashedCrossing -------------------------------------------------------------------------------

_MASK = (1 << 64) - 1


def _cat64_by_python(fp1, fp2):
    """TensorFlow's FingerprintCat64 written with Python integers (mod 2**64 by hand)."""
    mul = 0xC6A4A7935BD1E995

    def shift_mix(v):
        return v ^ (v >> 47)

    result = fp1 ^ mul
    result ^= (shift_mix((fp2 * mul) & _MASK) * mul) & _MASK
    result = (result * mul) & _MASK
    result = (shift_mix(result) * mul) & _MASK
    return shift_mix(result)


def _cross_by_python(values, num_bins):
    """tf.sparse.cross_hashed of one row: integers hash to their int64 bits, strings to their
    Fingerprint64, combined from the key 0xDECAFCAFFE."""
    from minikeras.layers.preprocessing.hash_utils import fingerprint64

    hashed = 0xDECAFCAFFE
    for value in values:
        feature = fingerprint64(value) if isinstance(value, str | bytes) else int(value) & _MASK
        hashed = _cat64_by_python(hashed, feature)
    return hashed % num_bins


def test_fingerprint_cat64_on_arrays_equals_the_python_integers():
    from minikeras.layers.preprocessing.hash_utils import fingerprint_cat64

    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**63, size=50, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=50, dtype=np.uint64)
    np.testing.assert_array_equal(
        fingerprint_cat64(a, b),
        np.array([_cat64_by_python(int(x), int(y)) for x, y in zip(a, b, strict=True)],
                 dtype=np.uint64))


def test_crossed_bins_are_the_cross_hash():
    rng = np.random.default_rng(1)
    ints = rng.integers(-2**40, 2**40, size=40)
    words = np.array([f"word{i}" * int(i % 7) for i in range(40)])
    for num_bins in (1, 5, 1000, 2**31 - 1):
        _close(layers.HashedCrossing(num_bins)((words, ints)),
               [_cross_by_python((w, i), num_bins) for w, i in zip(words, ints, strict=True)])
        _close(layers.HashedCrossing(num_bins)((ints, ints[::-1], words)),
               [_cross_by_python(v, num_bins) for v in zip(ints, ints[::-1], words,
                                                           strict=True)])


def test_keras_docstring_bins():
    """The bins Keras's documentation prints for this example."""
    layer = layers.HashedCrossing(num_bins=5)
    out = layer((np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])))
    assert out.dtype == "int64"
    np.testing.assert_array_equal(out, [1, 4, 1, 1, 3])
    one_hot = layers.HashedCrossing(num_bins=5, output_mode="one_hot")(
        (np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])))
    assert one_hot.dtype == "float32"
    np.testing.assert_array_equal(one_hot, np.eye(5, dtype="float32")[[1, 4, 1, 1, 3]])


def test_input_forms_and_output_shapes():
    words, ids = np.array(["a", "b", "c"]), np.array([1, 2, 3])
    bins = np.asarray(layers.HashedCrossing(7)((words, ids)))
    assert bins.shape == (3,)
    np.testing.assert_array_equal(layers.HashedCrossing(7)((words[:, None], ids[:, None])),
                                  bins[:, None])
    np.testing.assert_array_equal(layers.HashedCrossing(7)((["a", "b", "c"], [1, 2, 3])), bins)
    np.testing.assert_array_equal(layers.HashedCrossing(7)(("a", 1)), bins[0])
    assert layers.HashedCrossing(7)(("a", 1)).shape == ()
    np.testing.assert_array_equal(layers.HashedCrossing(7)((words.astype("S"), ids.astype(
        "uint8"))), bins)  # bytes hash as their UTF-8 strings, any integer dtype as int64
    one_hot = layers.HashedCrossing(7, output_mode="one_hot")
    assert one_hot((words, ids)).shape == one_hot((words[:, None], ids[:, None])).shape == (3, 7)
    assert one_hot(("a", 1)).shape == (1, 7)  # Keras's one-hot of a scalar
    assert one_hot.compute_output_shape(((None, 1), (None, 1))) == (None, 7)
    assert one_hot.compute_output_shape(((None,), (None,))) == (None, 7)
    assert layers.HashedCrossing(7).compute_output_shape(((None, 1), (None, 1))) == (None, 1)
    assert layers.HashedCrossing(7, dtype="int32")((words, ids)).dtype == "int32"


def test_in_a_functional_model_and_saved(tmp_path):
    country = minikeras.Input((1,), dtype="string")
    code = minikeras.Input((1,), dtype="int64")
    crossed = layers.HashedCrossing(8, output_mode="one_hot")([country, code])
    assert tuple(crossed.shape) == (None, 8) and crossed.dtype == "float32"
    model = minikeras.Model([country, code], layers.Dense(2)(crossed))
    x = [np.array([["FR"], ["DE"], ["US"]]), np.array([[1], [2], [3]])]
    path = str(tmp_path / "cross.keras")
    model.save(path)
    loaded = minikeras.saving.load_model(path)
    _close(loaded(x), model(x))


def test_hashed_crossing_config_round_trip():
    layer = layers.HashedCrossing(9, output_mode="one_hot", name="cross", dtype="float64")
    assert layer.get_config() == {"num_bins": 9, "output_mode": "one_hot", "sparse": False,
                                  "name": "cross", "dtype": "float64"}
    _round_trip(layer)
    assert layers.deserialize(layers.serialize(layer)).get_config() == layer.get_config()
    assert layers.HashedCrossing(3).get_config()["dtype"] == "int64"
    assert layers.HashedCrossing(3).weights == []


@pytest.mark.parametrize("inputs,message", [
    (np.array([1, 2]), "should be called on a list or tuple of inputs"),
    ([np.array([1, 2])], "should be called on at least two inputs"),
    ([np.array([1.0, 2.0]), np.array([1, 2])], "should have an integer or string dtype"),
    ([np.array([True, False]), np.array([1, 2])], "should have an integer or string dtype"),
    ([np.array([[1, 2]]), np.array([[1, 2]])], r"should have shape `\(\)`, `\(batch_size\)`"),
    ([np.array([1, 2]), np.array([1, 2, 3])], "should have equal shape"),
])
def test_hashed_crossing_refuses_bad_inputs(inputs, message):
    with pytest.raises(ValueError, match=message):
        layers.HashedCrossing(5)(inputs)


def test_hashed_crossing_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"Unknown value for `output_mode` argument of "
                                         r"HashedCrossing"):
        layers.HashedCrossing(5, output_mode="count")
    with pytest.raises(NotImplementedError, match="sparse"):
        layers.HashedCrossing(5, output_mode="one_hot", sparse=True)
    assert layers.HashedCrossing(5, sparse=True)(([1], [2])).shape == (1,)  # no effect on ints
