"""Parity of StackedRNNCells (and ``RNN([cell, cell])``) and HashedCrossing with Keras 3.

StackedRNNCells: the same weights and inputs give the same outputs, nested final states and
gradients (w.r.t. the input, every weight and the initial states), with masks and stateful
layers too; weight paths, shapes and order, configs (nested cell configs, both ways), two epochs
of SGD, and .keras / .weights.h5 files in both directions agree.

HashedCrossing: the same bins as Keras's (``tf.sparse.cross_hashed``) for integers and strings,
scalar, batched and ``(batch, 1)`` inputs, ``output_mode="one_hot"``, and the same config.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_layers_extra_parity import assert_same_config, assert_same_run, close
from test_saving_parity import _archive, assert_files_move_both_ways
from test_saving_parity import assert_same_config as assert_same_json_config
from test_training_parity import assert_trains_like_keras

import minikeras as mk

SHAPE = (3, 6, 5)

STACKS = {  # id -> the cells, bottom to top: (class name, arguments)
    "lstm8_lstm4": [("LSTMCell", dict(units=8)), ("LSTMCell", dict(units=4))],
    "simple_gru_lstm": [("SimpleRNNCell", dict(units=3)), ("GRUCell", dict(units=4)),
                        ("LSTMCell", dict(units=2))],
    "gru_before_simple_relu": [("GRUCell", dict(units=3, reset_after=False)),
                               ("SimpleRNNCell", dict(units=2, use_bias=False,
                                                      activation="relu"))],
    "one_lstm": [("LSTMCell", dict(units=3))],
}
RNN_ARGS = [dict(), dict(return_sequences=True), dict(go_backwards=True),
            dict(return_sequences=True, go_backwards=True)]


def cells_of(lib, stack):
    return [getattr(lib.layers, name)(**kwargs) for name, kwargs in STACKS[stack]]


def stacked_rnn(lib, stack, as_list=False, **kwargs):
    """``RNN(StackedRNNCells(cells))``, or ``RNN(cells)`` with ``as_list``."""
    cells = cells_of(lib, stack)
    return lib.layers.RNN(cells if as_list else lib.layers.StackedRNNCells(cells), **kwargs)


def pair(stack, as_list=False, shape=SHAPE, **kwargs):
    k_layer = stacked_rnn(keras, stack, as_list, **kwargs)
    m_layer = stacked_rnn(mk, stack, as_list, **kwargs)
    k_layer.build(shape)
    m_layer.build(shape)
    return k_layer, m_layer


def same_weights(k_layer, m_layer, rng, scale=0.5):
    """Weight paths, shapes and order equal; then Keras's N(0, scale²) weights in both."""
    assert [(v.path, tuple(v.shape), v.dtype, v.trainable) for v in m_layer.weights] == [
        (v.path, tuple(v.shape), v.dtype, v.trainable) for v in k_layer.weights]
    values = [(rng.normal(size=v.shape) * scale).astype("float32") for v in k_layer.weights]
    k_layer.set_weights(values)
    m_layer.set_weights(values)


def structure(value):
    """The nesting of an output: shapes at the leaves, lists and tuples kept."""
    if isinstance(value, list | tuple):
        return type(value).__name__, [structure(v) for v in value]
    return tuple(value.shape)


def cotangents(flat):
    rng = np.random.default_rng(7)
    return [rng.normal(size=tuple(t.shape)).astype("float32") for t in flat]


def run_keras(layer, x, initial_state=None, **kwargs):
    """Outputs, and the gradients of sum_i(y_i * c_i) over every output and state w.r.t. the
    input, the trainable weights and the initial states (TensorFlow's tape)."""
    xt = tf.constant(x)
    states = None if initial_state is None else keras.tree.map_structure(tf.constant,
                                                                         initial_state)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        if states is not None:
            tape.watch(keras.tree.flatten(states))
            kwargs["initial_state"] = states
        y = layer(xt, **kwargs)
        flat = keras.tree.flatten(y)
        loss = tf.add_n([tf.reduce_sum(t * c) for t, c in zip(flat, cotangents(flat),
                                                                strict=True)])
    sources = [xt, *layer.trainable_weights, *keras.tree.flatten(states or [])]
    grads = tape.gradient(loss, sources)
    return y, [np.asarray(t) for t in flat], [None if g is None else g.numpy() for g in grads]


def run_mk(layer, x, initial_state=None, **kwargs):
    xt = mk.ops.convert_to_tensor(x)
    states = None if initial_state is None else mk.tree.map_structure(
        mk.ops.convert_to_tensor, initial_state)
    with mk.GradientTape() as tape:
        tape.watch(xt)
        if states is not None:
            tape.watch(mk.tree.flatten(states))
            kwargs["initial_state"] = states
        y = layer(xt, **kwargs)
        flat = mk.tree.flatten(y)
        loss = mk.ops.sum(mk.ops.stack([mk.ops.sum(mk.ops.multiply(t, c)) for t, c in zip(
            flat, cotangents(flat), strict=True)]))
    sources = [xt, *layer.trainable_weights, *mk.tree.flatten(states or [])]
    grads = tape.gradient(loss, sources)
    return y, [np.asarray(t) for t in flat], [None if g is None else g.numpy() for g in grads]


def assert_same_outputs_and_gradients(k_layer, m_layer, x, **kwargs):
    """Outputs (rtol 1e-5, atol 1e-6) with the same nesting, and gradients (the same)."""
    k_y, k_flat, k_grads = run_keras(k_layer, x, **kwargs)
    m_y, m_flat, m_grads = run_mk(m_layer, x, **kwargs)
    assert structure(m_y) == structure(k_y)
    for m, k in zip(m_flat, k_flat, strict=True):
        close(m, k)
    assert len(m_grads) == len(k_grads)
    for m, k in zip(m_grads, k_grads, strict=True):
        if k is None:
            assert m is None or not np.any(m)
        else:
            close(m, k, rtol=1e-5, atol=1e-6)
    return m_y


# --- StackedRNNCells: outputs, states, gradients -------------------------------------------------

@pytest.mark.parametrize("rnn_args", RNN_ARGS, ids=str)
@pytest.mark.parametrize("stack", sorted(STACKS))
def test_outputs_gradients_weights_and_config(stack, rnn_args, rng):
    k_layer, m_layer = pair(stack, **rnn_args)
    assert_same_config(k_layer, m_layer)
    assert_same_config(k_layer.cell, m_layer.cell)
    same_weights(k_layer, m_layer, rng)
    y = assert_same_run(k_layer, m_layer, rng.normal(size=SHAPE).astype("float32"))
    assert y.shape == m_layer.compute_output_shape(SHAPE) == k_layer.compute_output_shape(SHAPE)


@pytest.mark.parametrize("stack", ["lstm8_lstm4", "simple_gru_lstm"])
def test_a_list_of_cells_is_stacked(stack, rng):
    """``RNN([cell, cell])`` wraps the list in a StackedRNNCells, in both libraries."""
    k_layer, m_layer = pair(stack, as_list=True, return_sequences=True)
    assert isinstance(m_layer.cell, mk.layers.StackedRNNCells)
    assert_same_config(k_layer, m_layer)
    same_weights(k_layer, m_layer, rng)
    assert_same_run(k_layer, m_layer, rng.normal(size=SHAPE).astype("float32"))


def test_stack_equals_two_rnn_layers(rng):
    """A stack computes what one recurrent layer per cell computes (return_sequences between)."""
    k_layer, m_layer = pair("lstm8_lstm4")
    same_weights(k_layer, m_layer, rng)
    x = rng.normal(size=SHAPE).astype("float32")
    w = k_layer.get_weights()
    k_two = keras.Sequential([keras.layers.LSTM(8, return_sequences=True), keras.layers.LSTM(4)])
    k_two.build(SHAPE)
    k_two.set_weights(w)
    close(m_layer(x), k_two(x))


@pytest.mark.parametrize("rnn_args", [dict(), dict(return_sequences=True, go_backwards=True)],
                         ids=str)
@pytest.mark.parametrize("stack", sorted(STACKS))
def test_return_state_structure_values_and_gradients(stack, rnn_args, rng):
    """``(output, states of cell 0, states of cell 1, ...)``: each cell's states a list, and a
    loss on every one of them back-propagates the same."""
    k_layer, m_layer = pair(stack, return_state=True, **rnn_args)
    same_weights(k_layer, m_layer, rng)
    assert_same_outputs_and_gradients(k_layer, m_layer, rng.normal(size=SHAPE).astype("float32"))
    assert m_layer.compute_output_shape(SHAPE) == k_layer.compute_output_shape(SHAPE)
    k_sym = k_layer(keras.Input((None, 5)))
    m_sym = m_layer(mk.Input((None, 5)))
    assert structure(m_sym) == structure(k_sym)


def test_initial_states_nested_and_their_gradients(rng):
    """Initial states one entry per cell; a bare tensor for a one-state cell stays bare."""
    k_layer, m_layer = pair("simple_gru_lstm", return_state=True, return_sequences=True)
    same_weights(k_layer, m_layer, rng)
    x = rng.normal(size=SHAPE).astype("float32")

    def state(units):
        return rng.normal(size=(SHAPE[0], units)).astype("float32")

    initial = [state(3), [state(4)], [state(2), state(2)]]
    assert_same_outputs_and_gradients(k_layer, m_layer, x, initial_state=initial)


def test_a_functional_encoder_with_stacked_states(rng):
    """The states of a stack feed a Dense in a functional model, as in seq2seq encoders."""
    def make(lib):
        inputs = lib.Input((6, 5))
        output, (h0, c0), (h1, c1) = lib.layers.RNN(
            [lib.layers.LSTMCell(4), lib.layers.LSTMCell(3)], return_state=True)(inputs)
        merged = lib.layers.Concatenate()([output, h0, c0, h1, c1])
        return lib.Model(inputs, lib.layers.Dense(2)(merged))

    k, m = make(keras), make(mk)
    m.set_weights(k.get_weights())
    x = rng.normal(size=(4, 6, 5)).astype("float32")
    close(m.predict(x, verbose=0), k.predict(x, verbose=0))


@pytest.mark.parametrize("rnn_args", [dict(return_sequences=True), dict(return_state=True)],
                         ids=str)
def test_bidirectional_stack(rnn_args, rng):
    """Bidirectional(RNN(stacked cells)): a forward and a backward stack, merged."""
    layers = []
    for lib in (keras, mk):
        layers.append(lib.layers.Bidirectional(lib.layers.RNN(
            [lib.layers.LSTMCell(3), lib.layers.GRUCell(2)], **rnn_args)))
    k_layer, m_layer = layers
    k_layer.build(SHAPE)
    m_layer.build(SHAPE)
    same_weights(k_layer, m_layer, rng)
    assert_same_outputs_and_gradients(k_layer, m_layer, rng.normal(size=SHAPE).astype("float32"))
    assert_same_config(k_layer, m_layer)


# --- masks, stateful, dropout ---------------------------------------------------------------------

@pytest.mark.parametrize("rnn_args", [dict(), dict(return_sequences=True),
                                      dict(return_sequences=True, zero_output_for_mask=True),
                                      dict(return_state=True, go_backwards=True)], ids=str)
def test_masked_steps_change_nothing(rnn_args, rng):
    k_layer, m_layer = pair("simple_gru_lstm", **rnn_args)
    same_weights(k_layer, m_layer, rng)
    x = rng.normal(size=SHAPE).astype("float32")
    mask = np.ones(SHAPE[:2], bool)
    mask[0, 4:] = False
    mask[1, :2] = False
    mask[2, 3] = False
    assert_same_outputs_and_gradients(k_layer, m_layer, x, mask=mask)


def test_embedding_mask_reaches_the_stack(rng):
    def make(lib):
        return lib.Sequential([
            lib.Input((7,), dtype="int32"),
            lib.layers.Embedding(20, 5, mask_zero=True),
            lib.layers.RNN([lib.layers.GRUCell(4), lib.layers.LSTMCell(3)]),
            lib.layers.Dense(1)])

    k, m = make(keras), make(mk)
    m.set_weights(k.get_weights())
    x = rng.integers(1, 20, size=(5, 7)).astype("int32")
    x[0, 4:] = 0
    x[3, 1:] = 0
    close(m.predict(x, verbose=0), k.predict(x, verbose=0))


def test_stateful_stack_carries_nested_states(rng):
    """Successive calls continue from the last nested states; the state Variables mirror the
    states' nesting with Keras's names, paths and shapes, and are not weights."""
    batch = 3
    layers = []
    for lib in (keras, mk):
        layer = lib.layers.RNN([lib.layers.LSTMCell(4), lib.layers.SimpleRNNCell(2)],
                               stateful=True, return_state=True)
        layer.build((batch, None, 5))
        layers.append(layer)
    k_layer, m_layer = layers
    same_weights(k_layer, m_layer, rng)

    def layout(states):
        return [(v.name, v.path, tuple(v.shape), v.trainable) for v in states]

    assert structure(m_layer.states) == structure([list(s) for s in k_layer.states])
    assert layout(mk.tree.flatten(m_layer.states)) == layout(keras.tree.flatten(k_layer.states))
    assert len(m_layer.weights) == len(k_layer.weights) == 6
    for length in (4, 1, 3):
        x = rng.normal(size=(batch, length, 5)).astype("float32")
        k_out, m_out = k_layer(x), m_layer(x)
        for m, k in zip(mk.tree.flatten(m_out), keras.tree.flatten(k_out), strict=True):
            close(m, k)
        for m, k in zip(mk.tree.flatten(m_layer.states), keras.tree.flatten(k_layer.states),
                        strict=True):
            close(m.numpy(), k.numpy())
    # Keras 3.15's reset_state fails on nested states ('ListWrapper' has no `assign`);
    # minikeras zeros every state, which is what Keras does for a single cell.
    with pytest.raises(AttributeError):
        k_layer.reset_state()
    m_layer.reset_state()
    for variable in keras.tree.flatten(k_layer.states):
        variable.assign(np.zeros(variable.shape, "float32"))
    x = rng.normal(size=(batch, 2, 5)).astype("float32")
    for m, k in zip(mk.tree.flatten(m_layer(x)), keras.tree.flatten(k_layer(x)), strict=True):
        close(m, k)


def test_dropout_is_inert_at_inference_and_masks_while_training(rng):
    layers = []
    for lib in (keras, mk):
        layers.append(lib.layers.RNN([
            lib.layers.LSTMCell(4, dropout=0.5, recurrent_dropout=0.3, seed=1),
            lib.layers.GRUCell(3, dropout=0.2, seed=2)]))
    k_layer, m_layer = layers
    k_layer.build(SHAPE)
    m_layer.build(SHAPE)
    same_weights(k_layer, m_layer, rng)
    x = rng.normal(size=SHAPE).astype("float32")
    close(m_layer(x), k_layer(x))
    close(m_layer(x, training=False), k_layer(x, training=False))
    trained = m_layer(x, training=True)  # random masks: statistically, not bitwise, Keras's
    assert trained.shape == (3, 3) and not np.allclose(trained, m_layer(x))
    assert_same_config(k_layer, m_layer)


# --- configs, training, files --------------------------------------------------------------------

@pytest.mark.parametrize("stack", sorted(STACKS))
def test_configs_move_both_ways(stack):
    k_layer, m_layer = pair(stack, return_sequences=True, name="stack_rnn")
    assert_same_config(k_layer, m_layer)
    assert_same_config(k_layer.cell, m_layer.cell)
    clone = mk.layers.RNN.from_config(k_layer.get_config())  # Keras's config builds ours
    assert clone.get_config() == k_layer.get_config()
    assert isinstance(clone.cell, mk.layers.StackedRNNCells)
    cell_clone = mk.layers.StackedRNNCells.from_config(k_layer.cell.get_config())
    assert cell_clone.get_config() == k_layer.cell.get_config()
    back = keras.layers.deserialize(mk.layers.serialize(m_layer))  # ours builds Keras's
    assert back.get_config() == k_layer.get_config()
    ours = mk.layers.deserialize(keras.layers.serialize(k_layer))
    assert mk.layers.serialize(ours)["config"] == keras.layers.serialize(k_layer)["config"]


def test_configs_with_dropout_and_initializers():
    def make(lib):
        return lib.layers.StackedRNNCells([
            lib.layers.LSTMCell(3, dropout=0.25, recurrent_dropout=0.5, seed=2,
                                kernel_initializer=lib.initializers.HeNormal(seed=3),
                                kernel_regularizer=lib.regularizers.L2(0.01)),
            lib.layers.GRUCell(2, reset_after=False, bias_constraint="non_neg")],
            name="my_stack", trainable=False)

    k_cell, m_cell = make(keras), make(mk)
    assert_same_config(k_cell, m_cell)
    assert m_cell.state_size == k_cell.state_size == [[3, 3], 2]
    assert m_cell.output_size == k_cell.output_size == 2


def regression_model(lib):
    return lib.Sequential([
        lib.Input((6, 3)),
        lib.layers.RNN(lib.layers.StackedRNNCells([lib.layers.LSTMCell(5),
                                                   lib.layers.GRUCell(4)])),
        lib.layers.Dense(1)])


def text_model(lib):
    return lib.Sequential([
        lib.Input((8,), dtype="int32"),
        lib.layers.Embedding(30, 6),
        lib.layers.RNN([lib.layers.SimpleRNNCell(5), lib.layers.LSTMCell(4)],
                       return_sequences=True),
        lib.layers.RNN([lib.layers.GRUCell(3)]),
        lib.layers.Dense(1, activation="sigmoid")])


def test_trains_like_keras(rng):
    """2 epochs of SGD, batches of 16, from Keras's initial weights: weights within 1e-5."""
    x = rng.normal(size=(64, 6, 3)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    assert_trains_like_keras(regression_model, x, y, "mse", 0.1)


def test_text_model_trains_like_keras(rng):
    x = rng.integers(0, 30, size=(64, 8)).astype("int32")
    y = rng.integers(0, 2, size=(64, 1)).astype("float32")
    assert_trains_like_keras(text_model, x, y, "binary_crossentropy", 0.5, metrics=["accuracy"])


@pytest.mark.parametrize("make", [regression_model, text_model], ids=lambda f: f.__name__)
@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_files_both_ways(make, suffix, tmp_path, rng):
    x = (rng.normal(size=(8, 6, 3)).astype("float32") if make is regression_model
         else rng.integers(0, 30, size=(8, 8)).astype("int32"))
    assert_files_move_both_ways(make, x, tmp_path, suffix, rng,
                                lambda theirs: [w * 0.5 for w in theirs])


def test_to_json_equals_keras():
    for make in (regression_model, text_model):
        assert_same_json_config(json.loads(make(mk).to_json()), json.loads(make(keras).to_json()))


def test_cells_without_call_or_state_size_raise_like_keras():
    class NoStateSize:
        def call(self, inputs, states):
            return inputs, states

    for bad, message in ((object(), "All cells must have a `call` method."),
                         (NoStateSize(), "All cells must have a `state_size` attribute.")):
        for lib in (keras, mk):
            with pytest.raises(ValueError, match=message):
                lib.layers.StackedRNNCells([lib.layers.LSTMCell(2), bad])


# --- HashedCrossing -------------------------------------------------------------------------------

def random_strings(rng, n):
    """Strings of 0-90 characters (ASCII to CJK): every FarmHash length branch, UTF-8."""
    return np.array(["".join(chr(int(c)) for c in rng.integers(32, 0x3000, size=int(size)))
                     for size in rng.integers(0, 90, size=n)])


def features(rng, kind, n=300):
    if kind == "int64":
        return rng.integers(-2**62, 2**62, size=n)
    if kind == "int32":
        return rng.integers(-50, 50, size=n).astype("int32")
    if kind == "uint8":
        return rng.integers(0, 256, size=n).astype("uint8")
    if kind == "str":
        return random_strings(rng, n)
    return np.array([s.encode("utf-8") for s in random_strings(rng, n)], dtype=object)


FORMS = {"batch": lambda x: x, "batch_1": lambda x: x[:, None], "scalar": lambda x: x[0],
         "list": lambda x: x.tolist()}


def assert_same_bins(k_layer, m_layer, inputs):
    k_out, m_out = np.asarray(k_layer(inputs)), np.asarray(m_layer(inputs))
    assert m_out.shape == k_out.shape and m_out.dtype == k_out.dtype
    np.testing.assert_array_equal(m_out, k_out)  # hashes: exactly equal, no tolerance


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("kinds", [("int64", "int32"), ("str", "int64"), ("int32", "str"),
                                   ("str", "str"), ("bytes", "uint8"), ("str", "int32", "str")],
                         ids="-".join)
@pytest.mark.parametrize("output_mode", ["int", "one_hot"])
def test_hashed_crossing_bins_match_keras(kinds, form, output_mode, rng):
    inputs = tuple(FORMS[form](features(rng, kind)) for kind in kinds)
    for num_bins in (1, 2, 7, 1000) if output_mode == "one_hot" else (1, 3, 97, 2**31 - 1):
        k_layer = keras.layers.HashedCrossing(num_bins, output_mode=output_mode)
        m_layer = mk.layers.HashedCrossing(num_bins, output_mode=output_mode)
        assert_same_bins(k_layer, m_layer, inputs)


def test_hashed_crossing_docstring_example():
    inputs = (np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102]))
    for lib in (keras, mk):
        np.testing.assert_array_equal(np.asarray(lib.layers.HashedCrossing(5)(inputs)),
                                      [1, 4, 1, 1, 3])


@pytest.mark.parametrize("kwargs", [dict(num_bins=5), dict(num_bins=9, output_mode="one_hot"),
                                    dict(num_bins=4, dtype="int32", name="cross"),
                                    dict(num_bins=6, output_mode="one_hot", dtype="float64"),
                                    dict(num_bins=3, sparse=True)], ids=str)
def test_hashed_crossing_config_and_dtypes(kwargs, rng):
    k_layer, m_layer = (lib.layers.HashedCrossing(**kwargs) for lib in (keras, mk))
    if "name" not in kwargs:
        k_layer.name = m_layer.name  # automatic names count layers made by each library
    assert m_layer.get_config() == k_layer.get_config()
    clone = mk.layers.HashedCrossing.from_config(k_layer.get_config())
    assert clone.get_config() == k_layer.get_config()
    back = keras.layers.deserialize(mk.layers.serialize(m_layer))
    assert back.get_config() == k_layer.get_config()
    assert_same_bins(k_layer, m_layer, (features(rng, "str", 20), features(rng, "int64", 20)))


@pytest.mark.parametrize("output_mode", ["int", "one_hot"])
@pytest.mark.parametrize("shape", [(1,), ()])
def test_hashed_crossing_symbolic_outputs(output_mode, shape):
    outs = []
    for lib in (keras, mk):
        inputs = [lib.Input(shape, dtype="string"), lib.Input(shape, dtype="int64")]
        out = lib.layers.HashedCrossing(6, output_mode=output_mode)(inputs)
        outs.append((tuple(out.shape), out.dtype))
    assert outs[1] == outs[0]
    for lib in (keras, mk):
        layer = lib.layers.HashedCrossing(6, output_mode=output_mode)
        outs.append(layer.compute_output_shape(((None, 1), (None, 1))))
    assert outs[3] == outs[2]


def test_hashed_crossing_refuses_what_keras_refuses():
    bad_inputs = [
        (np.array([1, 2]), "should be called on a list or tuple of inputs"),
        ([np.array([1, 2])], "should be called on at least two inputs"),
        ([np.array([1.0, 2.0]), np.array([1, 2])], "should have an integer or string dtype"),
        ([np.array([True, False]), np.array([1, 2])], "should have an integer or string dtype"),
        ([np.array([[1, 2]]), np.array([[1, 2]])], r"should have shape `\(\)`, `\(batch_size\)`"),
        ([np.zeros((2, 1, 1), int)] * 2, r"should have shape `\(\)`, `\(batch_size\)`"),
        ([np.array([1, 2]), np.array([1, 2, 3])], "should have equal shape"),
    ]
    for inputs, message in bad_inputs:
        for lib in (keras, mk):
            with pytest.raises(ValueError, match=message):
                lib.layers.HashedCrossing(5)(inputs)
    errors = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            lib.layers.HashedCrossing(5, output_mode="multi_hot")
        errors.append(str(error.value))
    assert errors[1] == errors[0]
    for lib in (keras, mk):
        with pytest.raises(ValueError, match="identical shapes"):
            lib.layers.HashedCrossing(5).compute_output_shape(((None, 2), (None, 3)))


def crossing_model(lib):
    """Two raw features -> their crossed one-hot bins -> Dense, as in Keras's structured-data
    tutorials (the preprocessing inside the model)."""
    country = lib.Input((1,), dtype="string", name="country")
    code = lib.Input((1,), dtype="int64", name="code")
    crossed = lib.layers.HashedCrossing(8, output_mode="one_hot")([country, code])
    return lib.Model([country, code], lib.layers.Dense(2)(crossed))


def crossing_data(rng, n=10):
    return [np.array([["FR"], ["DE"], ["US"], ["JP"], ["BR"]] * (n // 5)),
            rng.integers(0, 4, size=(n, 1))]


def run(model, x):
    """A direct call (Keras's ``predict`` takes no NumPy string arrays)."""
    return np.asarray(model(x))


def test_crossing_model_predicts_like_keras(rng):
    k, m = crossing_model(keras), crossing_model(mk)
    m.set_weights(k.get_weights())
    x = crossing_data(rng)
    close(run(m, x), run(k, x))
    assert_same_json_config(json.loads(m.to_json()), json.loads(k.to_json()))


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_crossing_model_files_both_ways(suffix, tmp_path, rng):
    """Each library loads the other's file to the same outputs (Keras's .keras archive has
    the same entries and config as ours)."""
    k, m = crossing_model(keras), crossing_model(mk)
    k.set_weights([rng.normal(size=w.shape).astype("float32") for w in k.get_weights()])
    m.set_weights([w * 0.5 for w in k.get_weights()])
    m_path, k_path = str(tmp_path / f"m{suffix}"), str(tmp_path / f"k{suffix}")
    if suffix == ".keras":
        m.save(m_path)
        k.save(k_path)
        k_loaded, m_loaded = keras.models.load_model(m_path), mk.saving.load_model(k_path)
        mine, theirs = _archive(m_path), _archive(k_path)
        assert mine[0] == theirs[0]
        assert_same_json_config(mine[1], theirs[1])
    else:
        m.save_weights(m_path)
        k.save_weights(k_path)
        k_loaded, m_loaded = crossing_model(keras), crossing_model(mk)
        k_loaded.load_weights(m_path)
        m_loaded.load_weights(k_path)
    x = crossing_data(rng)
    close(run(k_loaded, x), run(m, x))
    close(run(m_loaded, x), run(k, x))
