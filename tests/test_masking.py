"""Keras masks flowing from layer to layer (no TensorFlow needed; the parity with Keras is in
compat_tests/test_masking_parity.py).

A mask is ``tensor._keras_mask``: booleans (batch, steps), True where a step is real.
``Embedding(mask_zero=True)`` and ``Masking`` attach one to their output; a layer whose ``call``
takes ``mask`` receives it; a layer with ``supports_masking`` passes ``compute_mask`` on; a loss
(and a metric) on an output that still carries it averages over the real steps only.
"""

import warnings

import numpy as np
import pytest
from test_layers_extra import _close, _fresh_session, _x  # noqa: F401 (fixture)

import minikeras
from minikeras import layers, ops

TOKENS = np.array([[4, 2, 7, 0, 0], [3, 0, 5, 1, 6]], dtype="int32")  # 0 is padding
REAL = TOKENS != 0


def _mask(t):
    mask = getattr(t, "_keras_mask", None)
    return None if mask is None else np.asarray(mask)


def _embedded(output_dim=3, seed=0):
    emb = layers.Embedding(8, output_dim, mask_zero=True)
    emb.build()
    emb.set_weights([_x(8, output_dim, seed=seed)])
    return emb(TOKENS)


# --- where masks come from -----------------------------------------------------------------------


def test_a_tensor_has_no_mask_until_a_layer_attaches_one():
    assert ops.convert_to_tensor(np.ones(3))._keras_mask is None
    np.testing.assert_array_equal(_mask(_embedded()), REAL)
    assert _mask(layers.Embedding(8, 3)(TOKENS)) is None  # mask_zero=False makes none


def test_masking_zeroes_the_masked_steps_and_attaches_the_mask():
    x = _x(2, 4, 3)
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    y = layers.Masking(0.0)(x)
    expected = np.ones((2, 4), bool)
    expected[0, 1] = expected[1, 3] = False
    np.testing.assert_array_equal(_mask(y), expected)
    _close(y, np.where(expected[..., None], x, 0.0))


def test_layers_making_masks_say_nothing_at_creation(recwarn):
    layers.Embedding(8, 3, mask_zero=True)
    layers.Masking()
    assert not recwarn.list


# --- how they travel -----------------------------------------------------------------------------


def test_supporting_layers_pass_the_mask_on_and_others_drop_it_with_keras_warning():
    e = _embedded()
    dense = layers.Dense(2)(e)
    np.testing.assert_array_equal(_mask(dense), REAL)
    np.testing.assert_array_equal(_mask(layers.Dropout(0.5)(dense)), REAL)
    np.testing.assert_array_equal(_mask(layers.Activation("relu")(dense)), REAL)
    with pytest.warns(UserWarning, match="does not support masking and will therefore destroy"):
        flat = layers.Flatten()(dense)
    assert _mask(flat) is None


def test_a_layer_overriding_compute_mask_supports_masking_as_in_keras():
    class Keep(layers.Layer):
        def call(self, x):
            return x * 2.0

        def compute_mask(self, inputs, previous_mask):
            return ops.convert_to_numpy(inputs)[..., 0] > 0

    class Plain(layers.Layer):
        def call(self, x):
            return x * 2.0

    assert Keep().supports_masking and not Plain().supports_masking
    x = np.array([[[1.0], [-1.0]]], dtype="float32")
    np.testing.assert_array_equal(_mask(Keep()(x)), [[True, False]])  # made from no mask


def test_a_call_taking_mask_receives_the_attached_one_unless_given():
    seen = []

    class Spy(layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True

        def call(self, x, mask=None):
            seen.append(None if mask is None else np.asarray(mask))
            return x + 0.0

    e = _embedded()
    out = Spy()(e)
    np.testing.assert_array_equal(seen[-1], REAL)
    np.testing.assert_array_equal(_mask(out), REAL)
    explicit = np.ones_like(REAL)
    out = Spy()(e, mask=explicit)
    np.testing.assert_array_equal(seen[-1], explicit)
    np.testing.assert_array_equal(_mask(out), explicit)  # the given mask is the one passed on


def test_sequential_and_functional_models_propagate_masks():
    seq = minikeras.Sequential([layers.Input((5,), dtype="int32"),
                                layers.Embedding(8, 3, mask_zero=True),
                                layers.LSTM(2, return_sequences=True), layers.Dense(1)])
    np.testing.assert_array_equal(_mask(seq(TOKENS)), REAL)
    inputs = minikeras.Input((5,), dtype="int32")
    h = layers.Embedding(8, 3, mask_zero=True)(inputs)
    h = layers.GRU(2, return_sequences=True)(h)
    fun = minikeras.Model(inputs, layers.Dense(1)(h))
    np.testing.assert_array_equal(_mask(fun(TOKENS)), REAL)
    # a model called with mask= attaches it to its input
    dense_seq = minikeras.Sequential([layers.Input((5, 3)), layers.Dense(2)])
    given = np.array([[True, False, True, True, True]] * 2)
    np.testing.assert_array_equal(_mask(dense_seq(_x(2, 5, 3), mask=given)), given)


# --- recurrent layers ----------------------------------------------------------------------------


@pytest.mark.parametrize("rnn", ["SimpleRNN", "LSTM", "GRU"])
def test_a_masked_step_keeps_the_previous_output_and_states(rnn):
    """Right padding: the last output is that of the last real step (the same as running the
    real steps alone); with return_sequences the masked steps repeat the previous output
    (zeros before the first real step)."""
    x = _x(2, 5, 3)
    mask = np.array([[True, True, True, False, False], [False, True, True, True, True]])
    layer = getattr(layers, rnn)(4, return_sequences=True, return_state=True)
    out, *states = layer(x, mask=mask)
    out = np.asarray(out)
    short, *short_states = layer(x[:1, :3])
    _close(out[0, :3], short[0])
    _close(out[0, 3], out[0, 2])
    _close(out[0, 4], out[0, 2])
    for state, short_state in zip(states, short_states, strict=True):
        _close(np.asarray(state)[0], np.asarray(short_state)[0])
    _close(out[1, 0], np.zeros(4))  # masked before any real step
    tail, *_ = layer(x[1:, 1:])
    _close(out[1, 1:], tail[0])  # a masked first step leaves the zero states untouched


def test_zero_output_for_mask_and_go_backwards():
    x = _x(1, 4, 2)
    mask = np.array([[True, True, False, False]])
    layer = layers.LSTM(3, return_sequences=True, zero_output_for_mask=True)
    out = np.asarray(layer(x, mask=mask))
    _close(out[0, 2:], np.zeros((2, 3)))
    back = layers.LSTM(3, go_backwards=True)
    back.build((None, 4, 2))
    # backwards over the masked sequence = backwards over its real part
    _close(back(x, mask=mask), back(x[:, :2]))


def test_rnn_output_mask_follows_return_sequences():
    e = _embedded()
    assert _mask(layers.LSTM(2)(e)) is None
    np.testing.assert_array_equal(_mask(layers.LSTM(2, return_sequences=True)(e)), REAL)
    out, h, c = layers.LSTM(2, return_sequences=True, return_state=True)(e)
    np.testing.assert_array_equal(_mask(out), REAL)
    assert _mask(h) is None and _mask(c) is None


def test_an_rnn_given_initial_state_does_not_take_the_attached_mask():
    """Keras fills ``mask`` only when the input is the only tensor argument."""
    e = _embedded()
    layer = layers.SimpleRNN(2)
    zeros = np.zeros((2, 2), "float32")
    _close(layer(e, initial_state=[zeros]), layer(ops.convert_to_tensor(np.asarray(e))))
    _close(layer(e, initial_state=[zeros], mask=REAL), layer(e))


def test_padding_gets_no_gradient_through_a_masked_lstm():
    model = minikeras.Sequential([layers.Input((5,), dtype="int32"),
                                  layers.Embedding(8, 3, mask_zero=True), layers.LSTM(2),
                                  layers.Dense(1)])
    with minikeras.GradientTape() as tape:
        loss = ops.sum(model(TOKENS))
    grad = np.asarray(tape.gradient(loss, model.layers[0].embeddings))
    _close(grad[0], np.zeros(3))  # row 0 (padding) never reaches the output
    assert np.all(grad[[1, 2, 3, 4, 5, 6, 7]].any(axis=1) == [True] * 7)


def test_bidirectional_and_time_distributed_with_masks():
    e = _embedded()
    bi = layers.Bidirectional(layers.GRU(2, return_sequences=True))
    y = bi(e)
    np.testing.assert_array_equal(_mask(y), REAL)
    fwd = np.asarray(bi.forward_layer(e))
    _close(np.asarray(y)[..., :2], fwd)
    td = layers.TimeDistributed(layers.Dense(2))(y)
    np.testing.assert_array_equal(_mask(td), REAL)
    with pytest.raises(ValueError, match="incompatible with the input shape"):
        layers.TimeDistributed(layers.Dense(2))(np.asarray(y), mask=np.ones((2, 4), bool))


# --- pooling, attention --------------------------------------------------------------------------


def test_global_average_pooling_averages_the_real_steps_of_an_attached_mask():
    e = _embedded()
    pooled = layers.GlobalAveragePooling1D()(e)
    values = np.asarray(e)
    _close(pooled, [values[i][REAL[i]].mean(axis=0) for i in range(2)])
    assert _mask(pooled) is None


def test_attention_reads_the_masks_attached_to_its_inputs():
    e = _embedded(4)
    explicit = layers.Attention()([e, e], mask=[REAL, REAL])
    attached = layers.Attention()([e, e])
    _close(attached, explicit)
    np.testing.assert_array_equal(_mask(attached), REAL)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    auto = mha(e, e)
    np.testing.assert_array_equal(_mask(auto), REAL)  # the query's mask
    assert _mask(e) is None  # as Keras, the layer takes the masks off its inputs
    plain = ops.convert_to_tensor(np.asarray(e))
    manual = mha(plain, plain, attention_mask=REAL[:, :, None] & REAL[:, None, :])
    _close(auto, manual)


# --- losses and metrics --------------------------------------------------------------------------


def test_a_loss_on_a_masked_output_averages_the_real_steps():
    model = minikeras.Sequential([layers.Input((5,), dtype="int32"),
                                  layers.Embedding(8, 3, mask_zero=True),
                                  layers.SimpleRNN(2, return_sequences=True), layers.Dense(1)])
    y = _x(2, 5, 1, seed=4)
    pred = model(TOKENS)
    per_step = np.mean((np.asarray(pred) - y) ** 2, axis=-1)
    loss = minikeras.losses.MeanSquaredError()(y, pred)
    _close(loss, per_step[REAL].mean())
    assert not np.isclose(float(loss), per_step.mean())
    model.compile(loss="mse", metrics=["mae"])
    logs = model.evaluate(TOKENS, y, verbose=0, return_dict=True)
    _close(logs["loss"], per_step[REAL].mean())
    _close(logs["mae"], np.abs(np.asarray(pred) - y)[..., 0][REAL].mean())


def test_training_on_padded_sequences_ignores_the_padding():
    """The same sequences padded to 5 and to 8 steps train identically (they would not if the
    padding counted)."""
    y = _x(2, 1, seed=5)
    longer = np.pad(TOKENS, ((0, 0), (0, 3)))
    models = [minikeras.Sequential([layers.Input((x.shape[1],), dtype="int32"),
                                    layers.Embedding(8, 3, mask_zero=True), layers.LSTM(2),
                                    layers.Dense(1)]) for x in (TOKENS, longer)]
    models[1].set_weights(models[0].get_weights())
    runs = []
    for model, x in zip(models, (TOKENS, longer), strict=True):
        model.compile(optimizer=minikeras.optimizers.SGD(0.1), loss="mse")
        runs.append(model.fit(x, y, epochs=3, verbose=0).history["loss"])
    _close(runs[0], runs[1])
    _close(models[0].get_weights()[1], models[1].get_weights()[1])
    unmasked = minikeras.Sequential([layers.Input((8,), dtype="int32"), layers.Embedding(8, 3),
                                     layers.LSTM(2), layers.Dense(1)])
    unmasked.set_weights(models[0].get_weights())
    assert not np.allclose(unmasked.predict(longer, verbose=0),
                           models[1].predict(longer, verbose=0))


def test_no_mask_means_the_fast_path():
    """Without masks a layer call pays one attribute read: the flags are set at creation."""
    assert not layers.Dense(2)._mask_step
    assert not layers.Embedding(8, 3)._mask_step
    assert layers.Embedding(8, 3, mask_zero=True)._mask_step
    assert layers.MultiHeadAttention(2, 2)._mask_step  # reads query/value masks
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layers.Dense(2)(_x(3, 2))
