"""Parity of stateful recurrent layers with Keras 3: the same weights copied from Keras give the
same outputs and the same carried states over several successive calls (layers, models,
``predict_on_batch`` and ``predict``, with masks), the same ``reset_states``; the state
Variables have Keras's names, paths, shapes and dtypes and, as in Keras, are neither weights nor
saved; two epochs of SGD with ``shuffle=False`` end with the same weights and states; the errors
for a batch size that is not fixed are Keras's; ``.weights.h5`` and ``.keras`` files move both
ways."""

import json

import keras
import numpy as np
import pytest
from test_layers_extra_parity import assert_same_config, close
from test_saving_parity import _archive, _h5_items
from test_saving_parity import assert_same_config as assert_same_json_config
from test_training_parity import SGD_ATOL, assert_history_close, assert_weights_close

import minikeras as mk

BATCH = 3
LENGTHS = (4, 1, 6, 3)  # the successive calls' sequence lengths


def layer_of(lib, kind, **kwargs):
    if kind.startswith("RNN("):
        return lib.layers.RNN(getattr(lib.layers, kind[4:-1])(4), stateful=True, **kwargs)
    if kind.startswith("Bidirectional("):
        inner = getattr(lib.layers, kind[14:-1])(3, stateful=True, **kwargs)
        return lib.layers.Bidirectional(inner)
    return getattr(lib.layers, kind)(4, stateful=True, **kwargs)


CASES = [
    ("SimpleRNN", {}),
    ("LSTM", {}),
    ("GRU", {}),
    ("GRU", dict(reset_after=False, return_sequences=True)),
    ("LSTM", dict(return_sequences=True, return_state=True)),
    ("GRU", dict(go_backwards=True, return_state=True)),
    ("SimpleRNN", dict(go_backwards=True, return_sequences=True)),
    ("RNN(LSTMCell)", dict(return_state=True)),
    ("RNN(GRUCell)", dict(return_sequences=True)),
    ("Bidirectional(LSTM)", {}),
    ("Bidirectional(GRU)", dict(return_sequences=True)),
]


def state_layout(layer):
    return [(v.name, v.path, tuple(v.shape), v.dtype, v.trainable) for v in layer.states]


def same_weights(k_layer, m_layer, rng, scale=0.5):
    """Keras's weights, drawn from N(0, scale²), copied into minikeras in Keras's order."""
    assert [(v.path, tuple(v.shape)) for v in m_layer.weights] == [
        (v.path, tuple(v.shape)) for v in k_layer.weights]
    values = [(rng.normal(size=v.shape) * scale).astype("float32") for v in k_layer.weights]
    k_layer.set_weights(values)
    m_layer.set_weights(values)


def assert_same_outputs(k_out, m_out):
    k_out = list(k_out) if isinstance(k_out, list | tuple) else [k_out]
    m_out = list(m_out) if isinstance(m_out, list | tuple) else [m_out]
    assert len(m_out) == len(k_out)
    for m, k in zip(m_out, k_out, strict=True):
        close(m, k)


def assert_same_states(k_layer, m_layer):
    assert state_layout(m_layer) == state_layout(k_layer)
    for m, k in zip(m_layer.states, k_layer.states, strict=True):
        close(m.numpy(), k.numpy())


@pytest.mark.parametrize("kind,kwargs", CASES, ids=str)
def test_successive_calls_carry_the_same_states(kind, kwargs, rng):
    k_layer, m_layer = layer_of(keras, kind, **kwargs), layer_of(mk, kind, **kwargs)
    k_layer.build((BATCH, None, 5))
    m_layer.build((BATCH, None, 5))
    assert_same_states(k_layer, m_layer)  # zeros, "rnn_state", <layer path>/rnn_state
    assert [v.path for v in m_layer.weights] == [v.path for v in k_layer.weights]
    assert len(m_layer.non_trainable_weights) == len(k_layer.non_trainable_weights) == 0
    assert_same_config(k_layer, m_layer)
    same_weights(k_layer, m_layer, rng)
    xs = [rng.normal(size=(BATCH, n, 5)).astype("float32") for n in LENGTHS]
    first = None
    for x in xs:
        k_out, m_out = k_layer(x), m_layer(x)
        assert_same_outputs(k_out, m_out)
        assert_same_states(k_layer, m_layer)
        first = m_out if first is None else first
    k_layer.reset_states()
    m_layer.reset_states()
    assert_same_states(k_layer, m_layer)
    k_out, m_out = k_layer(xs[0]), m_layer(xs[0])
    assert_same_outputs(k_out, m_out)
    assert_same_outputs(first, m_out)  # after a reset: the first call again
    k_layer.reset_state()
    m_layer.reset_state()
    assert_same_states(k_layer, m_layer)


def test_an_initial_state_overrides_and_its_result_is_carried(rng):
    k_layer, m_layer = layer_of(keras, "LSTM"), layer_of(mk, "LSTM")
    k_layer.build((BATCH, None, 5))
    m_layer.build((BATCH, None, 5))
    same_weights(k_layer, m_layer, rng)
    x = rng.normal(size=(BATCH, 4, 5)).astype("float32")
    k_layer(x), m_layer(x)
    h0 = [rng.normal(size=(BATCH, 4)).astype("float32") for _ in range(2)]
    assert_same_outputs(k_layer(x, initial_state=h0), m_layer(x, initial_state=h0))
    assert_same_states(k_layer, m_layer)
    assert_same_outputs(k_layer(x), m_layer(x))


def stateful_model(lib, batch=BATCH, masked=False):
    layers = [lib.Input(batch_shape=(batch, None, 3))]
    if masked:
        layers.append(lib.layers.Masking(0.0))
    layers += [lib.layers.GRU(4, stateful=True, return_sequences=True),
               lib.layers.LSTM(5, stateful=True),
               lib.layers.Dense(2)]
    return lib.Sequential(layers)


def twin_models(rng, **kwargs):
    k, m = stateful_model(keras, **kwargs), stateful_model(mk, **kwargs)
    assert [v.path for v in m.weights] == [v.path for v in k.weights]
    k.set_weights([(rng.normal(size=w.shape) * 0.5).astype("float32") for w in k.get_weights()])
    m.set_weights(k.get_weights())
    return k, m


def model_states(model):
    return [v for layer in model.layers for v in (getattr(layer, "states", None) or [])]


def assert_same_model_states(k, m):
    k_states, m_states = model_states(k), model_states(m)
    assert [(v.path, tuple(v.shape), v.dtype) for v in m_states] == [
        (v.path, tuple(v.shape), v.dtype) for v in k_states]
    for mv, kv in zip(m_states, k_states, strict=True):
        close(mv.numpy(), kv.numpy())


def reset(model):
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_states()


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
def test_models_predict_on_batch_and_predict(masked, rng):
    """Masked: zeros (Masking(0.0)) at the end of one batch and at the start of the next, so a
    piece can begin with masked steps after a carried state."""
    k, m = twin_models(rng, masked=masked)
    xs = [rng.normal(size=(BATCH, n, 3)).astype("float32") for n in LENGTHS]
    if masked:
        xs[0][0, 2:] = 0.0
        xs[1][0] = 0.0  # sample 0: the whole second batch masked
        xs[2][1, :2] = 0.0
        xs[3][2, 1] = 0.0
    for x in xs:
        close(m.predict_on_batch(x), k.predict_on_batch(x))
        assert_same_model_states(k, m)
    reset(k)
    reset(m)
    assert_same_model_states(k, m)
    x = rng.normal(size=(4 * BATCH, 5, 3)).astype("float32")  # four batches through predict
    close(m.predict(x, batch_size=BATCH, verbose=0), k.predict(x, batch_size=BATCH, verbose=0))
    assert_same_model_states(k, m)


def test_model_reset_states_is_tf_keras_2s():
    """Keras 3's Model has neither ``reset_states`` nor ``reset_state`` (reset each layer);
    minikeras keeps tf.keras 2's ``model.reset_states()``, which resets every stateful layer
    (``test_tf_keras_2_stateful_idiom_matches_tf_keras``), and no ``reset_state``."""
    model = stateful_model(keras)
    assert not hasattr(model, "reset_states") and not hasattr(model, "reset_state")
    model = stateful_model(mk)
    assert hasattr(model, "reset_states") and not hasattr(model, "reset_state")


def test_two_epochs_of_sgd_without_shuffling(rng):
    """A stateful LSTM read in order: 4 batches of 3 sequences per epoch, states carried from
    batch to batch and from the first epoch into the second (Keras resets nothing)."""
    def make(lib):
        return lib.Sequential([lib.Input(batch_shape=(BATCH, 5, 3)),
                               lib.layers.LSTM(6, stateful=True),
                               lib.layers.Dense(1)])

    k, m = make(keras), make(mk)
    m.set_weights(k.get_weights())
    for lib, model in ((keras, k), (mk, m)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    x = rng.normal(size=(4 * BATCH, 5, 3)).astype("float32")
    y = rng.normal(size=(4 * BATCH, 1)).astype("float32")
    fit = dict(batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    hk, hm = k.fit(x, y, **fit), m.fit(x, y, **fit)
    assert_weights_close(k, m, atol=SGD_ATOL)
    assert_history_close(hk, hm)
    for mv, kv in zip(m.layers[0].states, k.layers[0].states, strict=True):
        close(mv.numpy(), kv.numpy(), atol=SGD_ATOL)
    assert np.abs(m.layers[0].states[0].numpy()).max() > 0.01  # states really were carried
    reset(k)
    reset(m)
    close(m.predict_on_batch(x[:BATCH]), k.predict_on_batch(x[:BATCH]), atol=SGD_ATOL)


@pytest.mark.parametrize("build", [
    lambda lib: lib.Sequential([lib.Input((3, 4)), lib.layers.LSTM(5, stateful=True)]),
    lambda lib: lib.layers.GRU(5, stateful=True)(lib.Input((3, 4))),
    lambda lib: lib.layers.SimpleRNN(5, stateful=True).build((None, 3, 4)),
    lambda lib: lib.layers.Bidirectional(lib.layers.LSTM(2, stateful=True))(lib.Input((3, 4))),
], ids=["sequential", "functional", "build", "bidirectional"])
def test_a_dynamic_batch_size_raises_like_keras(build):
    errors = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            build(lib)
        errors.append(str(error.value))
    assert errors[1] == errors[0]


def test_another_batch_size_raises_like_keras():
    """Keras's message (TensorFlow wraps it in 'Exception encountered when calling ...')."""
    x = np.zeros((2, 3, 4), "float32")
    for lib in (keras, mk):
        layer = lib.layers.LSTM(5, stateful=True)
        layer(x)
        with pytest.raises(ValueError, match="If an RNN is stateful, the batch size of the "
                           "input sequences must be the same as the batch size of the initial "
                           "state. \n- Expected batch size: 2\n- Received batch size: 3"):
            layer(np.zeros((3, 3, 4), "float32"))


def test_stateless_layers_have_no_states():
    for lib in (keras, mk):
        layer = lib.layers.GRU(3)
        layer(np.zeros((2, 3, 4), "float32"))
        assert layer.states is None
        layer.reset_states()
        with pytest.raises(AttributeError, match="Layer must be stateful"):
            lib.layers.Bidirectional(lib.layers.GRU(3)).reset_state()


def predictions(model, x):
    """Predictions from zero states, one batch at a time (leaves the states zeroed)."""
    reset(model)
    out = [np.asarray(model.predict_on_batch(x[i:i + BATCH])) for i in range(0, len(x), BATCH)]
    reset(model)
    return np.concatenate(out)


@pytest.mark.parametrize("suffix", [".weights.h5", ".keras"])
def test_files_move_both_ways_without_states(suffix, tmp_path, rng):
    """Keras saves no states (they are not weights): the files hold the weights only, byte for
    byte Keras's HDF5 layout, and a loaded model starts from zero states."""
    k, m = twin_models(rng)
    x = rng.normal(size=(2 * BATCH, 4, 3)).astype("float32")
    k.predict_on_batch(x[:BATCH]), m.predict_on_batch(x[:BATCH])  # states not zero when saved
    k_path, m_path = str(tmp_path / f"k{suffix}"), str(tmp_path / f"m{suffix}")
    if suffix == ".keras":
        k.save(k_path)
        m.save(m_path)
        k_loaded, m_loaded = mk.saving.load_model(k_path), keras.models.load_model(m_path)
        assert_same_json_config(_archive(m_path)[1], _archive(k_path)[1])
    else:
        k.save_weights(k_path)
        m.save_weights(m_path)
        assert _h5_items(m_path) == _h5_items(k_path)
        k_loaded, m_loaded = stateful_model(mk), stateful_model(keras)
        k_loaded.load_weights(k_path)
        m_loaded.load_weights(m_path)
    for loaded in (k_loaded, m_loaded):
        assert all(not v.numpy().any() for v in model_states(loaded))
    expected = predictions(k, x)
    close(predictions(k_loaded, x), expected)  # Keras's file in minikeras
    close(predictions(m_loaded, x), expected)  # minikeras's file in Keras
    close(predictions(m, x), expected)


def test_to_json_equals_keras():
    assert_same_json_config(json.loads(stateful_model(mk).to_json()),
                            json.loads(stateful_model(keras).to_json()))


def test_tf_keras_2_stateful_idiom_matches_tf_keras(rng):
    """``LSTM(..., batch_input_shape=(2, 5, 4), stateful=True)`` as tutorials wrote it for
    tf.keras 2 (Keras 3 refuses the argument): the same predictions and carried states as
    tf-keras over three successive batches, and after reset_states."""
    import tf_keras

    def make(lib):
        return lib.Sequential([lib.layers.LSTM(3, batch_input_shape=(2, 5, 4), stateful=True),
                               lib.layers.Dense(1)])

    theirs, ours = make(tf_keras), make(mk)
    ours.set_weights(theirs.get_weights())
    batches = [rng.normal(size=(2, 5, 4)).astype("float32") for _ in range(3)]
    for x in batches:
        close(ours.predict_on_batch(x), theirs.predict_on_batch(x))
        for mine, their in zip(ours.layers[0].states, theirs.layers[0].states, strict=True):
            close(mine.numpy(), np.asarray(their))
    theirs.reset_states()
    ours.reset_states()  # tf.keras 2's model-level reset
    close(ours.predict_on_batch(batches[0]), theirs.predict_on_batch(batches[0]))


@pytest.mark.parametrize("method", ["fit", "predict"])
def test_stateful_sequential_without_input_builds_for_the_batch_size(method):
    """With no Input, fit and predict build the model for the data's batch size (fit only when
    every batch has it), so a stateful LSTM gets its fixed batch; 20 rows in batches of 8 leave
    fit's batch size unknown: the same error in both libraries."""
    x = np.random.default_rng(0).random((16, 5, 3), dtype=np.float32)
    y = np.zeros((16, 4), np.float32)
    models = {}
    for lib in (keras, mk):
        model = lib.Sequential([lib.layers.LSTM(4, stateful=True)])
        model.compile(optimizer="sgd", loss="mse")
        if method == "fit":
            model.fit(x, y, batch_size=8, verbose=0, shuffle=False)
        else:
            model.predict(x, batch_size=8, verbose=0)
        models[lib] = model
    assert tuple(models[mk].inputs[0].shape) == tuple(models[keras].inputs[0].shape) == (8, 5, 3)
    assert [tuple(s.shape) for s in models[mk].layers[0].states] == [
        tuple(s.shape) for s in models[keras].layers[0].states]
    if method == "fit":
        x, y = np.concatenate([x, x[:4]]), np.concatenate([y, y[:4]])
        messages = []
        for lib in (keras, mk):
            model = lib.Sequential([lib.layers.LSTM(4, stateful=True)])
            model.compile(optimizer="sgd", loss="mse")
            with pytest.raises(ValueError, match="batch size must be static") as error:
                model.fit(x, y, batch_size=8, verbose=0)
            messages.append(str(error.value))
        assert "(None, 5, 3)" in messages[0] and "(None, 5, 3)" in messages[1]
