"""Keras masks against tf.keras: ``Embedding(mask_zero=True)`` and ``Masking`` attach a mask to
their output, the layers after them pass it on or use it (recurrent layers skip masked steps,
GlobalAveragePooling1D averages the real ones, attention ignores padded keys), and a loss on an
output that still carries the mask averages over the real steps only.

Each pipeline is built in both libraries with Keras's initial weights; outputs, output masks,
gradients w.r.t. every weight, two epochs of SGD (weights and History) and ``evaluate`` must
agree.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_training_parity import SGD_ATOL, assert_trains_like_keras

import minikeras as mk

RTOL, ATOL = 1e-5, 1e-6
GRAD_RTOL, GRAD_ATOL = 1e-4, 1e-6  # gradients sum over the time loop: float32 rounding grows
V, T, F = 12, 6, 3  # vocabulary, steps, features


def tokens(n=20, seed=0):
    """Right-padded index sequences of lengths 2..T, a few with a 0 inside as well."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, V, size=(n, T)).astype("int32")
    lengths = rng.integers(2, T + 1, size=n)
    x[np.arange(T)[None, :] >= lengths[:, None]] = 0
    x[::5, 1] = 0  # a masked step in the middle
    return x


def features(n=20, seed=0):
    """Float sequences whose padded steps are all zeros (what ``Masking`` masks)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, T, F)).astype("float32")
    x[tokens(n, seed) == 0] = 0.0
    return x


def _emb(lib):
    return [lib.Input((T,), dtype="int32"), lib.layers.Embedding(V, 4, mask_zero=True)]


def emb_rnn(rnn, return_sequences, **kwargs):
    def make(lib):
        return lib.Sequential([*_emb(lib), getattr(lib.layers, rnn)(
            3, return_sequences=return_sequences, **kwargs), lib.layers.Dense(1)])
    return make


def emb_gap(lib):
    return lib.Sequential([*_emb(lib), lib.layers.GlobalAveragePooling1D(),
                           lib.layers.Dense(1, activation="sigmoid")])


def masking_lstm(lib):
    return lib.Sequential([lib.Input((T, F)), lib.layers.Masking(0.0), lib.layers.LSTM(3),
                           lib.layers.Dense(1)])


def masking_lstm_sequences(lib):
    return lib.Sequential([lib.Input((T, F)), lib.layers.Masking(0.0),
                           lib.layers.LSTM(3, return_sequences=True),
                           lib.layers.TimeDistributed(lib.layers.Dense(1))])


def bidirectional(merge_mode, return_sequences):
    def make(lib):
        return lib.Sequential([*_emb(lib), lib.layers.Bidirectional(
            lib.layers.LSTM(3, return_sequences=return_sequences), merge_mode=merge_mode),
            lib.layers.Dense(1)])
    return make


def stacked(lib):
    return lib.Sequential([*_emb(lib), lib.layers.GRU(4, return_sequences=True),
                           lib.layers.SimpleRNN(3), lib.layers.Dense(1)])


def emb_normalized(lib):
    """BatchNormalization takes the mask (moments over the real steps only, while training);
    LayerNormalization and Dropout pass it on."""
    return lib.Sequential([*_emb(lib), lib.layers.BatchNormalization(),
                           lib.layers.LayerNormalization(), lib.layers.Dropout(0.0),
                           lib.layers.LSTM(3, return_sequences=True), lib.layers.Dense(1)])


def deferred_sequential(lib):
    """No Input: the Sequential model builds on a shape, then runs its layers in a loop."""
    model = lib.Sequential([lib.layers.Embedding(V, 4, mask_zero=True),
                            lib.layers.GRU(3, return_sequences=True), lib.layers.Dense(1)])
    model.build((None, T))
    return model


def functional_mha(lib):
    inputs = lib.Input((T,), dtype="int32")
    e = lib.layers.Embedding(V, 4, mask_zero=True)(inputs)
    a = lib.layers.MultiHeadAttention(num_heads=2, key_dim=2)(e, e)
    out = lib.layers.Dense(1)(lib.layers.GlobalAveragePooling1D()(a))
    return lib.Model(inputs, out)


def functional_attention(lib):
    inputs = lib.Input((T,), dtype="int32")
    e = lib.layers.Embedding(V, 4, mask_zero=True)(inputs)
    a = lib.layers.Attention()([e, e])
    out = lib.layers.Dense(1)(lib.layers.GlobalAveragePooling1D()(a))
    return lib.Model(inputs, out)


def functional_lstm_sequences(lib):
    inputs = lib.Input((T,), dtype="int32")
    e = lib.layers.Embedding(V, 4, mask_zero=True)(inputs)
    h = lib.layers.LSTM(3, return_sequences=True)(e)
    return lib.Model(inputs, lib.layers.Dense(2, activation="softmax")(h))


PIPELINES = {  # id: (builder, input maker, output per step?)
    **{f"emb_{r}_{'seq' if rs else 'last'}": (emb_rnn(r, rs), tokens, rs)
       for r in ("LSTM", "GRU", "SimpleRNN") for rs in (False, True)},
    "emb_LSTM_backwards": (emb_rnn("LSTM", False, go_backwards=True), tokens, False),
    "emb_GRU_seq_zero_output": (emb_rnn("GRU", True, zero_output_for_mask=True), tokens, True),
    "emb_gap": (emb_gap, tokens, False),
    "masking_lstm": (masking_lstm, features, False),
    "masking_lstm_time_distributed": (masking_lstm_sequences, features, True),
    "bidirectional_concat_seq": (bidirectional("concat", True), tokens, True),
    "bidirectional_sum_last": (bidirectional("sum", False), tokens, False),
    "stacked_gru_simple_rnn": (stacked, tokens, False),
    "emb_batch_layer_norm_lstm_seq": (emb_normalized, tokens, True),
    "deferred_sequential_gru_seq": (deferred_sequential, tokens, True),
    "functional_mha": (functional_mha, tokens, False),
    "functional_attention": (functional_attention, tokens, False),
    "functional_lstm_seq_softmax": (functional_lstm_sequences, tokens, True),
}


def twins(make):
    keras.utils.set_random_seed(0)  # the same weights whatever ran before
    k, m = make(keras), make(mk)
    m.set_weights(k.get_weights())
    return k, m


def close(actual, expected, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_outputs_and_output_mask(name):
    make, inputs, _ = PIPELINES[name]
    k, m = twins(make)
    x = inputs()
    ky, my = k(x), m(x)
    close(my, ky)
    k_mask = getattr(ky, "_keras_mask", None)
    m_mask = getattr(my, "_keras_mask", None)
    assert (m_mask is None) == (k_mask is None)
    if k_mask is not None:
        np.testing.assert_array_equal(np.asarray(m_mask), k_mask.numpy())
    close(m.predict(x, verbose=0), k.predict(x, verbose=0))


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_gradients_wrt_weights(name):
    make, inputs, _ = PIPELINES[name]
    k, m = twins(make)
    x = inputs()
    c = np.random.default_rng(3).normal(size=k(x).shape).astype("float32")
    with tf.GradientTape() as tape:
        k_loss = tf.reduce_sum(k(x) * c)
    k_grads = tape.gradient(k_loss, k.trainable_weights)
    with mk.GradientTape() as tape:
        m_loss = mk.ops.sum(m(x) * c)
    m_grads = tape.gradient(m_loss, m.trainable_weights)
    close(m_loss, k_loss.numpy(), rtol=1e-5, atol=1e-5)
    assert len(m_grads) == len(k_grads)
    for kg, mg in zip(k_grads, m_grads, strict=True):  # Embedding's: IndexedSlices in TF
        kg = tf.convert_to_tensor(kg).numpy()
        # An entry near 0 is a sum of terms as large as the gradient's largest entries that
        # cancel: its float32 rounding error scales with those, not with the entry itself.
        # (emb_batch_layer_norm_lstm_seq: -0.011705 against -0.011713 beside entries of 11.4.)
        close(mg, kg, rtol=GRAD_RTOL, atol=max(GRAD_ATOL, 1e-5 * float(np.abs(kg).max())))


def targets(name, x):
    """Labels: one per sample, or one per step for the models whose output keeps the mask."""
    _, _, per_step = PIPELINES[name]
    rng = np.random.default_rng(1)
    if name == "functional_lstm_seq_softmax":
        return rng.integers(0, 2, size=x.shape[:2]).astype("float32")
    if per_step:
        return rng.normal(size=(*x.shape[:2], 1)).astype("float32")
    if name == "emb_gap":
        return rng.integers(0, 2, size=(len(x), 1)).astype("float32")
    return rng.normal(size=(len(x), 1)).astype("float32")


def loss_of(name):
    if name == "functional_lstm_seq_softmax":
        return "sparse_categorical_crossentropy"
    return "binary_crossentropy" if name == "emb_gap" else "mse"


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_two_epochs_of_sgd(name):
    """The masked loss (an output that keeps the mask averages over the real steps) gives the
    same gradients, hence the same weights and History after two epochs."""
    make, inputs, _ = PIPELINES[name]
    x = inputs()
    assert_trains_like_keras(make, x, targets(name, x), loss_of(name), learning_rate=0.1,
                             batch_size=8)


@pytest.mark.parametrize("name", ["emb_LSTM_seq", "masking_lstm_time_distributed",
                                  "bidirectional_concat_seq", "functional_lstm_seq_softmax"])
def test_evaluate_and_loss_skip_masked_steps(name):
    make, inputs, _ = PIPELINES[name]
    k, m = twins(make)
    x = inputs()
    y = targets(name, x)
    for model in (k, m):
        model.compile(loss=loss_of(name))
    k_loss, m_loss = k.evaluate(x, y, verbose=0), m.evaluate(x, y, verbose=0)
    close(m_loss, k_loss)
    # and it is the loss of the real steps only: different from the unmasked mean
    pred = np.asarray(m.predict(x, verbose=0))
    if loss_of(name) == "mse":
        real = tokens()[:, :] != 0 if inputs is tokens else np.any(x != 0, axis=-1)
        per_step = np.mean((pred - y) ** 2, axis=-1)
        close(m_loss, per_step[real].mean(), rtol=1e-5)
        assert not np.isclose(m_loss, per_step.mean(), rtol=1e-4)


def test_training_with_per_step_sample_weight():
    """Per-step weights (batch, steps) multiply the mask weights (Keras rejects per-sample
    weights (batch,) against a (batch, steps) mask, and so does minikeras)."""
    make = emb_rnn("LSTM", True)
    k, m = twins(make)
    x = tokens()
    y = targets("emb_LSTM_seq", x)
    sw = np.linspace(0.5, 2.0, x.size).reshape(x.shape).astype("float32")
    for lib, model in ((keras, k), (mk, m)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    hk = k.fit(x, y, sample_weight=sw, batch_size=8, epochs=2, shuffle=False, verbose=0)
    hm = m.fit(x, y, sample_weight=sw, batch_size=8, epochs=2, shuffle=False, verbose=0)
    close(hm.history["loss"], hk.history["loss"])
    for a, b in zip(k.get_weights(), m.get_weights(), strict=True):
        np.testing.assert_allclose(b, a, rtol=0, atol=SGD_ATOL)


@pytest.mark.parametrize("name,metrics", [
    ("functional_lstm_seq_softmax", ["accuracy", "sparse_categorical_crossentropy"]),
    ("emb_LSTM_seq", ["mae", "mse"]),
    ("masking_lstm_time_distributed", ["mae"]),
    ("emb_gap", ["accuracy"]),  # no mask reaches the output: an ordinary metric
])
def test_metrics_count_only_the_real_steps(name, metrics):
    """Metrics read the output's mask too (Keras's MeanMetricWrapper): in History and
    evaluate."""
    make, inputs, _ = PIPELINES[name]
    x = inputs()
    y = targets(name, x)
    assert_trains_like_keras(make, x, y, loss_of(name), learning_rate=0.1, batch_size=8,
                             metrics=metrics)
    k, m = twins(make)
    for model in (k, m):
        model.compile(loss=loss_of(name), metrics=metrics)
    k_logs = k.evaluate(x, y, verbose=0, return_dict=True)
    m_logs = m.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(m_logs) == sorted(k_logs)
    for key, value in k_logs.items():
        close(m_logs[key], value)


def _two_inputs(lib, merge):
    a, b = lib.Input((T,), dtype="int32"), lib.Input((T,), dtype="int32")
    ea = lib.layers.Embedding(V, 4, mask_zero=True)(a)
    eb = lib.layers.Embedding(V, 4, mask_zero=True)(b)
    merged = merge(lib)([ea, lib.layers.Dense(4)(eb)])
    h = lib.layers.LSTM(3, return_sequences=True)(merged)
    return lib.Model([a, b], lib.layers.Dense(1)(h))


MERGES = {
    "add": lambda lib: lib.layers.Add(),
    "maximum": lambda lib: lib.layers.Maximum(),
    "minimum": lambda lib: lib.layers.Minimum(),
    "average": lambda lib: lib.layers.Average(),
    "concatenate": lambda lib: lib.layers.Concatenate(),
}


@pytest.mark.parametrize("merge", sorted(MERGES))
def test_merging_layers_combine_the_masks_of_their_inputs(merge):
    """The output mask is the OR of the inputs' masks (Concatenate: its own rule); Maximum and
    Minimum leave masked entries out; training follows."""
    def make(lib):
        return _two_inputs(lib, MERGES[merge])
    k, m = twins(make)
    x = [tokens(seed=0), tokens(seed=1)]
    ky, my = k(x), m(x)
    close(my, ky)
    np.testing.assert_array_equal(np.asarray(my._keras_mask), ky._keras_mask.numpy())
    y = np.random.default_rng(2).normal(size=(len(x[0]), T, 1)).astype("float32")
    assert_trains_like_keras(make, x, y, "mse", learning_rate=0.1, batch_size=8)
