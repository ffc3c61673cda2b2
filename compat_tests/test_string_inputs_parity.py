"""Models whose input is raw strings, against Keras 3: a ``TextVectorization`` first, then
``Embedding``, ``GlobalAveragePooling1D`` and ``Dense``, as a Sequential and as functional models
(``Input((1,), dtype="string")`` and ``Input(shape=(), dtype="string")``). Both libraries adapt
the vocabulary on the same texts, start from Keras's initial weights and train two epochs of SGD
on the same batches (``shuffle=False``); History (validation too), weights, ``evaluate`` and
``predict`` agree. The data is a 1-D object array of ``str``: the form Keras 3.15 accepts in
``fit``, ``evaluate`` and ``predict`` (it refuses NumPy unicode arrays and lists there; minikeras
takes those too, see tests/test_string_inputs.py).
"""

import keras
import numpy as np
import pytest
from test_training_parity import SGD_ATOL, assert_history_close, assert_weights_close

import minikeras as mk

TEXTS = np.array([
    "the cat sat on the mat", "a dog ran fast", "The dog sat!", "cats and dogs",
    "a cat ran", "fast dogs sat down", "the mat was red", "A red cat, a red dog",
    "dogs ran", "cats sat", "the fast cat", "down the road", "", "red red red",
    "the dog ran down the road", "a mat"], dtype=object)
Y = np.array([1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1], dtype="float32")
UNSEEN = np.array(["a purple cat", "unknown words only", "the the the the the the the dog"],
                  dtype=object)


def make(lib, form):
    """The text classifier in ``lib``: ``form`` is "sequential", "functional" (Input((1,)))
    or "functional_scalar" (Input(shape=()))."""
    vectorize = lib.layers.TextVectorization(max_tokens=20, output_sequence_length=6)
    vectorize.adapt(TEXTS)
    layers = [vectorize, lib.layers.Embedding(20, 4), lib.layers.GlobalAveragePooling1D(),
              lib.layers.Dense(1, activation="sigmoid")]
    if form == "sequential":
        return lib.Sequential([lib.Input((1,), dtype="string"), *layers])
    inputs = x = lib.Input((1,) if form == "functional" else (), dtype="string")
    for layer in layers:
        x = layer(x)
    return lib.Model(inputs, x)


def twins(form):
    k, m = make(keras, form), make(mk, form)
    assert [str(t) for t in m.layers[-4].get_vocabulary()] == [
        str(t) for t in k.layers[-4].get_vocabulary()]
    assert len(m.get_weights()) == len(k.get_weights()) == 3  # embeddings, kernel, bias
    m.set_weights(k.get_weights())
    for lib, model in ((keras, k), (mk, m)):
        model.compile(optimizer=lib.optimizers.SGD(0.5), loss="binary_crossentropy",
                      metrics=["accuracy"])
    return k, m


@pytest.mark.parametrize("form", ["sequential", "functional", "functional_scalar"])
@pytest.mark.parametrize("validation_split", [0.0, 0.25])
def test_text_classifier_trains_like_keras(form, validation_split):
    k, m = twins(form)
    fit = dict(batch_size=5, epochs=2, shuffle=False, verbose=0,
               validation_split=validation_split)
    hk, hm = k.fit(TEXTS, Y, **fit), m.fit(TEXTS, Y, **fit)
    assert_history_close(hk, hm)
    assert ("val_loss" in hm.history) == bool(validation_split)
    assert_weights_close(k, m, atol=SGD_ATOL)
    assert max(abs(a - b).max() for a, b in zip(k.get_weights(), make(keras, form).get_weights(),
                                                strict=True)) > 1e-3  # training moved them
    for x in (TEXTS, UNSEEN):
        np.testing.assert_allclose(m.predict(x, verbose=0), k.predict(x, verbose=0),
                                   rtol=1e-5, atol=SGD_ATOL)
    np.testing.assert_allclose(m.evaluate(TEXTS, Y, verbose=0), k.evaluate(TEXTS, Y, verbose=0),
                               rtol=1e-5)


@pytest.mark.parametrize("form", ["sequential", "functional", "functional_scalar"])
def test_direct_calls_on_strings_match_keras(form):
    k, m = twins(form)
    for x in (UNSEEN, UNSEEN[:, None], np.array([t.encode() for t in UNSEEN], dtype=object)):
        out_k, out_m = k(x), m(x)
        assert out_m.shape == tuple(out_k.shape) == (3, 1)
        np.testing.assert_allclose(np.asarray(out_m), np.asarray(out_k), rtol=1e-6)
    if form != "sequential":  # Keras's functional models also take a NumPy unicode array
        np.testing.assert_allclose(np.asarray(m(UNSEEN.astype(str))),
                                   np.asarray(k(UNSEEN.astype(str))), rtol=1e-6)


def test_train_on_batch_and_test_on_batch_match_keras():
    k, m = twins("functional_scalar")
    for _ in range(3):
        np.testing.assert_allclose(m.train_on_batch(TEXTS[:8], Y[:8]),
                                   k.train_on_batch(TEXTS[:8], Y[:8]), rtol=1e-5)
    np.testing.assert_allclose(m.test_on_batch(TEXTS[8:], Y[8:]),
                               k.test_on_batch(TEXTS[8:], Y[8:]), rtol=1e-5)
    np.testing.assert_allclose(m.predict_on_batch(UNSEEN), k.predict_on_batch(UNSEEN),
                               rtol=1e-5, atol=1e-6)
    assert_weights_close(k, m, atol=SGD_ATOL)


@pytest.mark.parametrize("lib", [keras, mk], ids=["keras", "minikeras"])
def test_strings_into_a_numeric_layer_raise_value_error(lib):
    inputs = lib.Input((1,), dtype="string")
    model = lib.Model(inputs, lib.layers.Dense(2, name="dense_on_text")(inputs))
    with pytest.raises(ValueError) as info:
        model(UNSEEN[:, None])
    if lib is mk:  # minikeras names the layer and says what to do
        assert "dense_on_text" in str(info.value)
        assert "TextVectorization" in str(info.value)


@pytest.mark.parametrize("form", ["sequential", "functional_scalar"])
def test_a_trained_text_model_moves_between_libraries_as_a_keras_file(form, tmp_path):
    k, m = twins(form)
    m.fit(TEXTS, Y, batch_size=4, epochs=1, shuffle=False, verbose=0,
          validation_data=(UNSEEN, np.ones(3, "float32")))
    m.save(tmp_path / "from_minikeras.keras")
    loaded = keras.saving.load_model(tmp_path / "from_minikeras.keras")
    np.testing.assert_allclose(loaded.predict(UNSEEN, verbose=0),
                               m.predict(UNSEEN, verbose=0), rtol=1e-5, atol=1e-7)
    loaded.save(tmp_path / "from_keras.keras")
    back = mk.saving.load_model(tmp_path / "from_keras.keras")
    np.testing.assert_allclose(back.predict(list(UNSEEN), verbose=0),
                               m.predict(UNSEEN, verbose=0), rtol=1e-6)
