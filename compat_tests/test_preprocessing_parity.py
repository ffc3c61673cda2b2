"""Parity of the preprocessing layers with Keras 3: after ``adapt`` on the same data both
libraries hold the same vocabulary (or bins, or idf weights); calls give the same values, dtypes
and shapes in every output mode; configs, ``compute_output_shape`` and constructor errors agree;
models with these layers before Dense / Embedding train along the same trajectory; and ``.keras``
archives (vocabularies as assets, idf weights in the HDF5 file) move both ways."""

import zipfile

import keras
import numpy as np
import pytest
from test_saving_parity import _archive, assert_files_move_both_ways
from test_saving_parity import assert_same_config as assert_same_json_config
from test_training_parity import assert_trains_like_keras

import minikeras as mk

TEXTS = ["The cat sat on the mat.", "The dog, the CAT! And the bird?", "a bird", "",
         "Hello hello   world", "École, ÉCOLE & café-au-lait", "it's 3:15 p.m. (ok) #tag @you",
         "tabs\tand\nnew\rlines\x0bvt\x0cff no\xa0break em\u2003space \x1cfs"]
CALL_TEXTS = ["the cat", "unknown words only", "Hello, bird! The the the the the the the dog",
              "", "café école"]
WORDS = np.array([["a", "b", "c"], ["a", "a", "d"], ["e", "b", "a"], ["", "f", "d"]])
CALL_WORDS = np.array([["a", "zz", "a"], ["d", "", "b"], ["f", "f", "q"]])
IDS = np.array([[3, 3, 5], [7, 7, 7], [9, 3, 0], [11, 0, 42]])
CALL_IDS = np.array([[3, 0, 99], [7, 5, -4], [42, 42, 11]])


def as_values(out):
    """An output as ``(dtype name, shape, values)``; strings decoded."""
    dtype = getattr(out, "dtype", None)
    dtype = getattr(dtype, "name", dtype)
    array = np.asarray(out)
    if array.dtype.kind in "OS":
        array = np.vectorize(lambda s: s.decode() if isinstance(s, bytes) else s,
                             otypes=[object])(array)
        dtype = "string"
    return str(dtype), array.shape, array


def assert_same_output(k_out, m_out):
    (kd, ks, kv), (md, ms, mv) = as_values(k_out), as_values(m_out)
    assert (md, ms) == (kd, ks), f"minikeras {md} {ms} vs Keras {kd} {ks}"
    if kv.dtype.kind == "f":
        np.testing.assert_allclose(mv, kv, rtol=1e-6, atol=1e-7)
    else:
        assert mv.tolist() == kv.tolist()


def plain(vocabulary):
    return [v.item() if isinstance(v, np.generic) else v for v in vocabulary]


def layer_pair(name, kwargs, adapt_on=None):
    """Keras's and minikeras's layer ``name`` from the same ``kwargs``, both adapted on
    ``adapt_on`` when it is given."""
    k, m = getattr(keras.layers, name)(**kwargs), getattr(mk.layers, name)(**kwargs)
    if adapt_on is not None:
        k.adapt(adapt_on)
        m.adapt(adapt_on)
    return k, m


def assert_same_layer(k, m, calls):
    assert plain(m.get_vocabulary()) == plain(k.get_vocabulary())
    assert m.vocabulary_size() == k.vocabulary_size()
    assert_same_json_config(m.get_config(), k.get_config())
    for data in calls:
        assert_same_output(k(data), m(data))


# --- StringLookup / IntegerLookup -----------------------------------------------------------

STRING_CASES = {
    "default": (dict(), True),
    "mask": (dict(mask_token=""), True),
    "max_tokens": (dict(max_tokens=4, mask_token=""), True),
    "oov_token": (dict(oov_token="<oov>"), True),
    "multi_hot": (dict(output_mode="multi_hot"), True),
    "binary_alias": (dict(output_mode="binary", mask_token=""), True),
    "count": (dict(output_mode="count", mask_token=""), True),
    "one_hot": (dict(output_mode="one_hot"), True),
    "tf_idf": (dict(output_mode="tf_idf"), True),
    "tf_idf_padded": (dict(output_mode="tf_idf", max_tokens=9, pad_to_max_tokens=True), True),
    "count_padded": (dict(output_mode="count", max_tokens=9, pad_to_max_tokens=True), True),
    "vocabulary": (dict(vocabulary=["d", "a", "b"]), False),
    "vocabulary_with_specials": (dict(vocabulary=["", "[UNK]", "d", "a"], mask_token=""), False),
    "no_oov": (dict(vocabulary=["a", "b", "d", "f", "q", "zz", ""], num_oov_indices=0), False),
    "tf_idf_given": (dict(vocabulary=["a", "b"], idf_weights=[0.25, 2.0],
                          output_mode="tf_idf"), False),
    "hashed_oov": (dict(num_oov_indices=7, mask_token=""), True),
    "salted_oov": (dict(num_oov_indices=4, salt=[3, 9]), True),
}


@pytest.mark.parametrize("case", sorted(STRING_CASES))
def test_string_lookup_matches_keras(case):
    kwargs, adapt = STRING_CASES[case]
    k, m = layer_pair("StringLookup", kwargs, WORDS if adapt else None)
    calls = [CALL_WORDS, CALL_WORDS[0], CALL_WORDS[:, :1], ["a", "b"]]
    if kwargs.get("output_mode") in ("multi_hot", "count", "tf_idf", "binary"):
        calls = calls[:3]
    assert_same_layer(k, m, calls)
    if kwargs.get("output_mode") == "tf_idf":
        np.testing.assert_allclose(m.idf_weights, np.asarray(k.idf_weights), rtol=1e-6)


def test_string_lookup_adapt_on_1d_and_bytes_and_invert():
    words = ["x", "y", "y", "z", "z", "z", "w", "w", "w"]
    k, m = keras.layers.StringLookup(), mk.layers.StringLookup()
    k.adapt(np.array(words))
    m.adapt(np.array(words))
    assert_same_layer(k, m, [np.array([b"x", b"w", b"v"])])
    vocabulary = m.get_vocabulary(include_special_tokens=False)
    ki, mi = (lib.layers.StringLookup(vocabulary=vocabulary, invert=True, mask_token="[M]")
              for lib in (keras, mk))
    assert_same_layer(ki, mi, [np.array([[0, 1, 2, 3, 4, 9]])])
    for lib in (keras, mk):  # the OOV token inside the vocabulary of an inverting layer
        with pytest.raises(ValueError, match="Found reserved OOV token"):
            lib.layers.StringLookup(vocabulary=["[UNK]", "x"], invert=True, mask_token="[M]")


INTEGER_CASES = {
    "default": (dict(), True),
    "mask_zero": (dict(mask_token=0), True),
    "max_tokens": (dict(max_tokens=3), True),
    "floormod_oov": (dict(vocabulary=[3, 7], num_oov_indices=3, mask_token=0), False),
    "multi_hot": (dict(output_mode="multi_hot"), True),
    "count": (dict(output_mode="count", mask_token=0), True),
    "one_hot": (dict(output_mode="one_hot"), True),
    "tf_idf": (dict(output_mode="tf_idf"), True),
    "invert": (dict(vocabulary=[3, 7, 9], invert=True), False),
    "farmhash_oov": (dict(num_oov_indices=5, oov_method="farmhash"), True),
    "salted_oov": (dict(num_oov_indices=3, oov_method="farmhash", salt=12), True),
}


@pytest.mark.parametrize("case", sorted(INTEGER_CASES))
def test_integer_lookup_matches_keras(case):
    kwargs, adapt = INTEGER_CASES[case]
    k, m = layer_pair("IntegerLookup", kwargs, IDS if adapt else None)
    calls = [CALL_IDS, CALL_IDS[0]]
    if kwargs.get("invert"):
        calls = [np.array([[0, 1, 2, 3, 7]])]
    assert_same_layer(k, m, calls)


@pytest.mark.parametrize("kwargs", [
    dict(max_tokens=1), dict(num_oov_indices=-1), dict(output_mode="bogus"),
    dict(invert=True, output_mode="count"), dict(idf_weights=[1.0]),
    dict(pad_to_max_tokens=True), dict(output_mode="tf_idf", vocabulary=["a"]),
    dict(vocabulary=["a", "a"]), dict(vocabulary=["a", "[M]"], mask_token="[M]"),
    dict(vocabulary=["a", "b", "c"], max_tokens=3), dict(vocabulary=[]),
    dict(oov_method="modulo"), dict(sparse=True),
])
def test_string_lookup_refuses_what_keras_refuses(kwargs):
    with pytest.raises(ValueError) as k_error:
        keras.layers.StringLookup(**kwargs)
    with pytest.raises(ValueError) as m_error:
        mk.layers.StringLookup(**kwargs)
    vocabulary = kwargs.get("vocabulary", ["x"])
    if vocabulary and len(set(vocabulary)) == len(vocabulary):  # Keras prints NumPy reprs there
        assert str(m_error.value) == str(k_error.value)


# --- TextVectorization ----------------------------------------------------------------------

TEXT_CASES = {
    "default": dict(),
    "max_tokens_sequence": dict(max_tokens=8, output_sequence_length=4),
    "long_sequence": dict(output_sequence_length=12),
    "ngrams_2": dict(ngrams=2, max_tokens=20),
    "ngrams_tuple": dict(ngrams=(1, 3)),
    "character": dict(split="character", max_tokens=15),
    "lower_only": dict(standardize="lower"),
    "strip_only": dict(standardize="strip_punctuation"),
    "no_standardize": dict(standardize=None),
    "no_split": dict(split=None, output_sequence_length=3),
    "multi_hot": dict(output_mode="multi_hot", max_tokens=10),
    "count": dict(output_mode="count", ngrams=2),
    "tf_idf": dict(output_mode="tf_idf"),
    "tf_idf_padded": dict(output_mode="tf_idf", max_tokens=40, pad_to_max_tokens=True),
    "vocabulary": dict(vocabulary=["the", "cat", "bird"], output_sequence_length=6),
}


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
def test_text_vectorization_matches_keras(case):
    kwargs = TEXT_CASES[case]
    k, m = layer_pair("TextVectorization", kwargs, None if "vocabulary" in kwargs else TEXTS)
    calls = [CALL_TEXTS, np.array(CALL_TEXTS)[:, None], np.array(CALL_TEXTS[2:3])]
    assert_same_layer(k, m, calls)
    for shape in [(None,), (None, 1), (4, 1)]:
        assert m.compute_output_shape(shape) == k.compute_output_shape(shape)


def test_text_vectorization_adapts_on_batches_like_keras():
    batches = [np.array(TEXTS[:3]), np.array(TEXTS[3:])]
    k, m = (lib.layers.TextVectorization(max_tokens=12) for lib in (keras, mk))
    k.adapt(iter(batches))
    m.adapt(iter(batches))
    assert_same_layer(k, m, [CALL_TEXTS])


# --- CategoryEncoding / Discretization ------------------------------------------------------

@pytest.mark.parametrize("mode", ["multi_hot", "count", "one_hot"])
@pytest.mark.parametrize("data", [np.array([[0, 1, 1], [3, 3, 2]]), np.array([2, 0, 2]),
                                  np.array([[1], [3]]), np.array(2)],
                         ids=["2d", "1d", "column", "scalar"])
def test_category_encoding_matches_keras(mode, data):
    k, m = (lib.layers.CategoryEncoding(num_tokens=5, output_mode=mode) for lib in (keras, mk))
    assert_same_output(k(data), m(data))
    assert_same_json_config(m.get_config(), k.get_config())
    assert m.compute_output_shape(data.shape) == k.compute_output_shape(data.shape)


def test_category_encoding_count_weights_match_keras():
    k, m = (lib.layers.CategoryEncoding(4, output_mode="count") for lib in (keras, mk))
    data, weights = np.array([[0, 0, 3], [2, 1, 1]]), np.array([[0.5, 2.0, 1.0], [3, 1, 1]])
    assert_same_output(k(data, count_weights=weights), m(data, count_weights=weights))


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_with_boundaries_matches_keras(mode):
    k, m = (lib.layers.Discretization(bin_boundaries=[-1.0, 0.0, 0.5, 2.0], output_mode=mode)
            for lib in (keras, mk))
    data = np.array([[-3.0, -1.0, 0.0, 0.25, 0.5, 2.0, 9.0], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0]])
    for x in (data, data[0], data.astype("float64"), data.astype("int32")):
        assert_same_output(k(x), m(x))
    assert_same_json_config(m.get_config(), k.get_config())
    for shape in [(None, 7), (None,), (None, 1)]:
        assert m.compute_output_shape(shape) == k.compute_output_shape(shape)


@pytest.mark.parametrize("num_bins, epsilon, size", [(3, 0.01, 10), (4, 0.01, 1000),
                                                     (5, 0.001, 5000), (7, 0.1, 257)])
def test_discretization_adapt_finds_keras_boundaries(rng, num_bins, epsilon, size):
    data = rng.gamma(2.0, size=(size, 2)).astype("float32")
    k, m = (lib.layers.Discretization(num_bins=num_bins, epsilon=epsilon) for lib in (keras, mk))
    k.adapt(data)
    m.adapt(data)
    np.testing.assert_allclose(m.bin_boundaries, k.bin_boundaries, rtol=1e-6)
    assert_same_output(k(data[:20]), m(data[:20]))
    assert_same_json_config(m.get_config(), k.get_config())
    batches = [data[: size // 2], data[size // 2:]]
    k.adapt(iter(batches))
    m.adapt(iter(batches))
    np.testing.assert_allclose(m.bin_boundaries, k.bin_boundaries, rtol=1e-6)


@pytest.mark.parametrize("kwargs", [dict(num_bins=3), dict(num_bins=1000),
                                    dict(num_bins=6, mask_value=""), dict(num_bins=9, salt=5),
                                    dict(num_bins=7, salt=(1, 2), output_mode="multi_hot"),
                                    dict(num_bins=4, output_mode="count"),
                                    dict(num_bins=4, output_mode="one_hot")])
def test_hashing_strings_matches_keras(rng, kwargs):
    words = np.array([["".join(rng.choice(list("abcdéxyz "), size=n)) for n in row]
                      for row in rng.integers(0, 120, size=(6, 5))])
    k, m = keras.layers.Hashing(**kwargs), mk.layers.Hashing(**kwargs)
    assert_same_output(k(words), m(words))
    assert_same_output(k(words[:, :1]), m(words[:, :1]))
    assert_same_json_config(m.get_config(), k.get_config())
    for shape in [(None, 5), (None, 1), ()]:
        if shape or kwargs.get("output_mode", "int") != "one_hot":
            assert m.compute_output_shape(shape) == k.compute_output_shape(shape)


@pytest.mark.parametrize("data", [np.array([[12, -3, 0], [7, 2**40, -99]]),
                                  np.array([[1.7, -3.2, 100.0]], "float32")],
                         ids=["ints", "floats"])
def test_hashing_numbers_matches_keras(data):
    for kwargs in (dict(num_bins=10), dict(num_bins=10, mask_value=0), dict(num_bins=8, salt=1)):
        k, m = keras.layers.Hashing(**kwargs), mk.layers.Hashing(**kwargs)
        assert_same_output(k(data), m(data))


# --- in models ------------------------------------------------------------------------------

def test_symbolic_outputs_match_keras():
    for lib_k, lib_m in [(keras, mk)]:
        pairs = [
            (lambda L: L.layers.IntegerLookup(vocabulary=[1, 2])(L.Input((3,), dtype="int64"))),
            (lambda L: L.layers.StringLookup(vocabulary=["a"], output_mode="count")(
                L.Input((3,), dtype="string"))),
            (lambda L: L.layers.CategoryEncoding(4)(L.Input((3,), dtype="int32"))),
            (lambda L: L.layers.Discretization([0.0], output_mode="one_hot")(L.Input((2,)))),
            (lambda L: L.layers.TextVectorization(vocabulary=["a"], output_sequence_length=5)(
                L.Input((1,), dtype="string"))),
        ]
        for make in pairs:
            k, m = make(lib_k), make(lib_m)
            assert (m.shape, m.dtype) == (k.shape, k.dtype)


def test_integer_lookup_multi_hot_before_dense_trains_like_keras(rng):
    x = rng.integers(0, 12, size=(48, 4)) * 7
    y = (x.sum(axis=1) > 150).astype("float32")[:, None]

    def make(lib):
        lookup = lib.layers.IntegerLookup(output_mode="multi_hot")
        lookup.adapt(x)
        return lib.Sequential([lib.Input((4,), dtype="int64"), lookup,
                               lib.layers.Dense(1, activation="sigmoid")])

    assert_trains_like_keras(make, x, y, "binary_crossentropy", 0.1, metrics=["accuracy"])


def test_discretization_and_category_encoding_before_dense_train_like_keras(rng):
    x = rng.normal(size=(40, 3)).astype("float32")
    y = rng.normal(size=(40, 2)).astype("float32")

    def make(lib):
        bins = lib.layers.Discretization(num_bins=4)
        bins.adapt(x)
        return lib.Sequential([lib.Input((3,)), bins, lib.layers.CategoryEncoding(4, "count"),
                               lib.layers.Dense(2)])

    assert_trains_like_keras(make, x, y, "mse", 0.05)


def test_text_vectorization_feeds_an_embedding_model_like_keras(rng):
    texts = [" ".join(rng.choice(["good", "bad", "film", "plot", "very", "not", "a"], size=n))
             for n in rng.integers(1, 9, size=32)]
    y = np.array([float("good" in t) for t in texts])[:, None]
    k_tv, m_tv = (lib.layers.TextVectorization(max_tokens=8, output_sequence_length=6)
                  for lib in (keras, mk))
    k_tv.adapt(texts)
    m_tv.adapt(texts)
    x = np.asarray(k_tv(texts))
    np.testing.assert_array_equal(np.asarray(m_tv(texts)), x)

    def make(lib):
        return lib.Sequential([lib.Input((6,), dtype="int64"), lib.layers.Embedding(8, 4),
                               lib.layers.GlobalAveragePooling1D(),
                               lib.layers.Dense(1, activation="sigmoid")])

    assert_trains_like_keras(make, x, y, "binary_crossentropy", 0.5)


# --- files ----------------------------------------------------------------------------------

def _lookup_then_dense(lib):
    lookup = lib.layers.IntegerLookup(output_mode="multi_hot", max_tokens=8)
    lookup.adapt(IDS)
    return lib.Sequential([lib.Input((3,), dtype="int64"), lookup, lib.layers.Dense(2)])


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_lookup_model_files_move_both_ways(tmp_path, rng, suffix):
    assert_files_move_both_ways(_lookup_then_dense, CALL_IDS, tmp_path, suffix, rng,
                                ours_from=lambda ws: [w + 1 for w in ws])


def _bins_then_dense(lib):
    bins = lib.layers.Discretization(num_bins=4)
    bins.adapt(np.linspace(-2, 2, 50).astype("float32"))
    return lib.Sequential([lib.Input((3,)), bins, lib.layers.CategoryEncoding(4, "count"),
                           lib.layers.Dense(2)])


def _hashing_then_dense(lib):
    return lib.Sequential([lib.Input((3,), dtype="int64"),
                           lib.layers.Hashing(8, output_mode="multi_hot", salt=3),
                           lib.layers.Dense(2)])


@pytest.mark.parametrize("make", [_bins_then_dense, _hashing_then_dense],
                         ids=["discretization", "hashing"])
def test_numeric_preprocessing_archives_move_both_ways(tmp_path, rng, make):
    x = CALL_IDS if make is _hashing_then_dense else rng.normal(size=(6, 3)).astype("float32")
    assert_files_move_both_ways(make, x, tmp_path, ".keras", rng,
                                ours_from=lambda ws: [w + 1 for w in ws])


def _text_model(lib, **kwargs):
    vectorize = lib.layers.TextVectorization(**kwargs)
    vectorize.adapt(TEXTS)
    inputs = lib.Input((1,), dtype="string")
    x = vectorize(inputs)
    if kwargs.get("output_mode", "int") == "int":
        x = lib.layers.GlobalAveragePooling1D()(lib.layers.Embedding(12, 3)(x))
    return lib.Model(inputs, lib.layers.Dense(2)(x))


@pytest.mark.parametrize("kwargs", [dict(max_tokens=12, output_sequence_length=5),
                                    dict(output_mode="tf_idf", max_tokens=10)],
                         ids=["int", "tf_idf"])
def test_text_model_archives_move_both_ways(tmp_path, kwargs):
    k, m = _text_model(keras, **kwargs), _text_model(mk, **kwargs)
    m.set_weights([w + 0.5 for w in k.get_weights()])
    m_path, k_path = str(tmp_path / "m.keras"), str(tmp_path / "k.keras")
    m.save(m_path)
    k.save(k_path)
    mine, theirs = _archive(m_path), _archive(k_path)
    assert sorted(mine[0]) == sorted(theirs[0])  # the same entries, assets included
    assert_same_json_config(mine[1], theirs[1])
    with zipfile.ZipFile(m_path) as a, zipfile.ZipFile(k_path) as b:
        for name in a.namelist():
            if name.startswith("assets/"):
                assert a.read(name) == b.read(name)
    k_loaded, m_loaded = keras.saving.load_model(m_path), mk.saving.load_model(k_path)
    for original, loaded in ((m, k_loaded), (k, m_loaded)):
        assert plain(loaded.layers[1].get_vocabulary()) == plain(original.layers[1]
                                                                 .get_vocabulary())
        for a, b in zip(loaded.get_weights(), original.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
        assert_same_output(original.layers[1](CALL_TEXTS), loaded.layers[1](CALL_TEXTS))
