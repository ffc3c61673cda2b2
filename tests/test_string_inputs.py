"""Raw strings into models: every form of text data (a list of str, NumPy unicode, bytes and
object arrays, a column of shape (n, 1)) reaches the preprocessing layers as an object array of
``str``, and a model with a ``TextVectorization`` first is called, fit, evaluated and predicted on
it; strings going into a layer that computes with numbers are refused, naming the layer; and
numbers behave as before."""

import numpy as np
import pytest

import minikeras as keras
from minikeras import ops
from minikeras.ops.core import string_array

TEXTS = ["the cat sat", "a dog ran fast", "the dog sat", "cats and dogs", "a cat ran",
         "fast dogs sat down", "the mat", "red dogs ran"]
Y = np.array([1, 0, 1, 0, 1, 0, 1, 0], dtype="float32")


def text_model(form="sequential", seed=0):
    keras.utils.set_random_seed(seed)
    vectorize = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=5)
    vectorize.adapt(TEXTS)
    layers = [vectorize, keras.layers.Embedding(20, 4), keras.layers.GlobalAveragePooling1D(),
              keras.layers.Dense(1, activation="sigmoid")]
    if form == "sequential":
        model = keras.Sequential([keras.Input((1,), dtype="string"), *layers])
    else:
        inputs = x = keras.Input((1,) if form == "functional" else (), dtype="string")
        for layer in layers:
            x = layer(x)
        model = keras.Model(inputs, x)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    return model


def text_forms():
    """The same texts in every form a model takes."""
    return {"list": list(TEXTS), "tuple": tuple(TEXTS), "unicode": np.array(TEXTS),
            "bytes": np.array([t.encode() for t in TEXTS]),
            "object": np.array(TEXTS, dtype=object),
            "object_bytes": np.array([t.encode() for t in TEXTS], dtype=object),
            "column": np.array(TEXTS, dtype=object)[:, None],
            "unicode_column": np.array(TEXTS)[:, None]}


# --- ops.convert_to_tensor ------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(text_forms()))
def test_convert_to_tensor_makes_object_arrays_of_str(name):
    data = text_forms()[name]
    x = ops.convert_to_tensor(data)
    value = x.numpy()
    assert value.dtype == object
    assert value.shape == np.shape(data)
    assert all(type(v) is str for v in value.ravel())
    assert value.ravel().tolist() == TEXTS


def test_convert_to_tensor_with_dtype_string():
    assert ops.convert_to_tensor("héllo", dtype="string").numpy()[()] == "héllo"
    assert ops.convert_to_tensor(b"h\xc3\xa9llo").numpy()[()] == "héllo"  # UTF-8 decoded
    assert ops.convert_to_tensor(np.array(["a", "bc"]), dtype="string").numpy().tolist() == [
        "a", "bc"]
    with pytest.raises(TypeError, match="Expected strings"):
        ops.convert_to_tensor([1, 2], dtype="string")


def test_object_arrays_of_str_are_not_copied_and_bad_bytes_stay_bytes():
    texts = np.array(TEXTS, dtype=object)
    assert string_array(texts) is texts
    assert ops.convert_to_tensor(texts).numpy() is texts
    assert string_array([b"\xff\xfe", b"ok"]).tolist() == [b"\xff\xfe", "ok"]  # not UTF-8
    assert string_array([b"\xff", "ok"]).tolist() == [b"\xff", "ok"]  # a mixed list


def test_objects_that_are_not_strings_are_refused():
    for data in (np.array([1.0, 2.0], dtype=object), np.array(["a", None], dtype=object)):
        with pytest.raises(TypeError, match="Expected numeric data"):
            ops.convert_to_tensor(data)
    with pytest.raises(TypeError, match="the NoneType value None"):
        string_array(np.array(["a", None], dtype=object))


def test_numeric_ops_still_refuse_strings():
    with pytest.raises(TypeError, match="Expected numeric data"):
        ops.add(["a", "b"], 1)
    with pytest.raises(TypeError, match="Expected numeric data"):
        ops.value_of(["a"])


def test_numbers_convert_as_before():
    assert ops.convert_to_tensor([1.5, 2.0]).dtype == "float32"
    assert ops.convert_to_tensor([1, 2]).dtype == "int32"
    a = np.ones(3, "float64")
    assert ops.convert_to_tensor(a).numpy() is a
    t = ops.convert_to_tensor(a)
    assert ops.convert_to_tensor(t) is t


# --- models on raw texts ---------------------------------------------------------------------
@pytest.mark.parametrize("form", ["sequential", "functional", "functional_scalar"])
def test_every_form_of_texts_gives_the_same_predictions(form):
    model = text_model(form)
    expected = np.asarray(model(np.array(TEXTS, dtype=object)))
    assert expected.shape == (8, 1) and np.all((expected > 0) & (expected < 1))
    for name, data in text_forms().items():
        np.testing.assert_allclose(np.asarray(model(data)), expected, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-6,
                                   err_msg=name)
        np.testing.assert_allclose(model.predict_on_batch(data), expected, rtol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("form", ["sequential", "functional", "functional_scalar"])
def test_fit_on_a_list_of_texts_equals_fit_on_an_object_array(form):
    a, b = text_model(form), text_model(form)
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])  # same start
    fit = dict(batch_size=3, epochs=2, shuffle=False, verbose=0)
    ha = a.fit(list(TEXTS), Y, **fit)
    hb = b.fit(np.array(TEXTS, dtype=object), Y, **fit)
    assert ha.history["loss"] == hb.history["loss"]
    assert ha.history["loss"][1] < ha.history["loss"][0]
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert a.evaluate(np.array(TEXTS), Y, verbose=0) == b.evaluate(TEXTS, Y, verbose=0)


def test_validation_split_on_texts_validates_on_the_last_samples():
    model = text_model()
    history = model.fit(np.array(TEXTS, dtype=object), Y, epochs=1, batch_size=8,
                        validation_split=0.25, shuffle=False, verbose=0)
    val = model.evaluate(np.array(TEXTS[6:], dtype=object), Y[6:], verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][0], val, rtol=1e-6)


def test_shuffled_fit_on_texts_uses_every_sample_once_per_epoch():
    seen = []

    class Record(keras.layers.Layer):  # a layer written outside minikeras: takes strings
        def call(self, inputs):
            seen.extend(np.asarray(inputs).ravel().tolist())
            return inputs

        def compute_output_shape(self, input_shape):  # (else found by a call on zeros)
            return input_shape

    keras.utils.set_random_seed(1)
    vectorize = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=5)
    vectorize.adapt(TEXTS)
    model = keras.Sequential([keras.Input((), dtype="string"), Record(), vectorize,
                              keras.layers.Embedding(20, 2),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.array(TEXTS), Y, batch_size=3, epochs=2, shuffle=True, verbose=0)
    assert sorted(seen[:8]) == sorted(seen[8:]) == sorted(TEXTS)
    assert seen != TEXTS * 2  # shuffled (a fixed seed: this order is not the identity)


def test_a_generator_and_a_py_dataset_of_texts():
    model = text_model("functional_scalar")
    expected = model.predict(np.array(TEXTS, dtype=object), verbose=0)

    def batches():
        for i in range(0, 8, 3):
            yield TEXTS[i:i + 3], Y[i:i + 3]

    np.testing.assert_allclose(model.predict(batches(), verbose=0), expected, rtol=1e-6)

    class Texts(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.array(TEXTS[i * 4:(i + 1) * 4]), Y[i * 4:(i + 1) * 4]

    history = model.fit(Texts(), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_a_model_with_a_text_input_and_a_number_input():
    text = keras.Input((), dtype="string", name="text")
    number = keras.Input((2,), name="number")
    vectorize = keras.layers.StringLookup(vocabulary=["a", "b", "c"], output_mode="one_hot")
    x = keras.layers.Concatenate()([vectorize(text), number])
    model = keras.Model([text, number], keras.layers.Dense(1)(x))
    model.compile(optimizer="sgd", loss="mse")
    words = np.array(["a", "c", "zz", "b"])
    numbers = np.arange(8, dtype="float32").reshape(4, 2)
    by_dict = model.predict({"text": words, "number": numbers}, verbose=0)
    np.testing.assert_allclose(model.predict([words, numbers], verbose=0), by_dict)
    kernel, bias = model.layers[-1].get_weights()
    one_hot = np.eye(4, dtype="float32")[[1, 3, 0, 2]]  # index 0: the OOV token
    np.testing.assert_allclose(by_dict, np.concatenate([one_hot, numbers], 1) @ kernel + bias,
                               rtol=1e-6)
    history = model.fit({"text": list(words), "number": numbers}, np.ones(4), epochs=2,
                        verbose=0)
    assert len(history.history["loss"]) == 2


def test_hashing_and_lambda_in_a_model_take_strings():
    inputs = keras.Input((1,), dtype="string")
    lower = keras.layers.Lambda(lambda s: np.vectorize(str.lower, otypes=[object])(
        np.asarray(s)), output_shape=(1,))(inputs)
    model = keras.Model(inputs, keras.layers.Hashing(num_bins=7)(lower))
    out = np.asarray(model(np.array([["Cat"], ["cat"], ["DOG"]])))
    assert out.shape == (3, 1) and out[0, 0] == out[1, 0]
    assert out.dtype == np.int64 and out.min() >= 0 and out.max() < 7


# --- refusing strings where they cannot go ----------------------------------------------------
def test_strings_into_dense_name_the_layer():
    with pytest.raises(ValueError, match=r"Layer 'reader' \(Dense\) needs numeric.*"
                                         r"first values: \['the cat sat'"):
        keras.layers.Dense(2, name="reader")(np.array(TEXTS)[:, None])
    model = keras.Sequential([keras.Input((1,), dtype="string"),
                              keras.layers.Dense(2, name="too_early")])
    with pytest.raises(ValueError, match="'too_early'.*TextVectorization"):
        model.predict(np.array(TEXTS, dtype=object)[:, None], verbose=0)
    with pytest.raises(TypeError, match="'reader'"):  # also a TypeError: the wrong kind of data
        keras.layers.Dense(2, name="reader")(["the cat"])


def test_strings_into_a_numeric_input_name_the_input():
    inputs = keras.Input((1,), name="amount")
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs), name="numbers_only")
    with pytest.raises(ValueError, match="Model 'numbers_only'.*input 'amount'.*float32"):
        model(np.array([["1x"], ["2y"]]))


def test_string_targets_and_weights_are_refused():
    model = text_model()
    with pytest.raises(TypeError, match="`y` must hold numbers"):
        model.fit(TEXTS, np.array(["yes", "no"] * 4), verbose=0)
    with pytest.raises(TypeError, match="`sample_weight` must hold numbers"):
        model.fit(TEXTS, Y, sample_weight=np.array(["1"] * 8), verbose=0)
    with pytest.raises(TypeError, match="`x` must hold numbers or strings.*NoneType"):
        model.fit(np.array(TEXTS[:7] + [None], dtype=object), Y, verbose=0)


# --- numbers behave as before -------------------------------------------------------------------
def test_numeric_inputs_convert_as_before():
    dense = keras.layers.Dense(2)
    dense.build((None, 3))
    t = ops.convert_to_tensor(np.ones((2, 3), "float32"))
    assert dense._convert_input(t) is t  # no copy, no cast
    assert dense._convert_input(np.ones((2, 3), "float64")).dtype == "float32"
    assert dense._convert_input([[1, 2, 3]]).dtype == "float32"
    assert dense._convert_input(np.ones((2, 3), bool)).dtype == "float32"
    assert keras.layers.Dense(2, autocast=False)._convert_input(
        np.ones((1, 3), "float64")).dtype == "float64"
    ids = np.array([[1, 2]], "int64")
    assert keras.layers.Embedding(5, 2)._convert_input(ids).numpy() is ids  # never autocast
