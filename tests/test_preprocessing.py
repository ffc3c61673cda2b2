"""The preprocessing layers (StringLookup, IntegerLookup, TextVectorization, CategoryEncoding,
Discretization): vocabularies learned by ``adapt`` in Keras's order, every output mode against
hand-computed values, the text pipeline's steps, clear errors, configs that round-trip, no
gradients, use inside models, and vocabularies that travel in ``.keras`` archives."""

import zipfile

import h5py
import numpy as np
import pytest

import minikeras
from minikeras import layers, saving


@pytest.fixture(autouse=True)
def _fresh_session():
    minikeras.backend.clear_session()
    yield


def _np(x):
    return np.asarray(x)


# --- StringLookup / IntegerLookup: the vocabulary ---------------------------------------------

def test_string_lookup_adapt_orders_by_count_then_by_token_descending():
    layer = layers.StringLookup()
    layer.adapt(np.array([["a", "b"], ["a", "c"], ["d", "d"]]))
    # a:2, d:2 (tie: "d" sorts last, so it comes first), then b:1, c:1 -> c before b
    assert layer.get_vocabulary() == ["[UNK]", "d", "a", "c", "b"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["d", "a", "c", "b"]
    assert layer.vocabulary_size() == 5
    out = layer(np.array([["a", "zzz"], ["c", "d"]]))
    assert out.dtype == "int64" and out.shape == (2, 2)
    np.testing.assert_array_equal(_np(out), [[2, 0], [3, 1]])


def test_string_lookup_accepts_lists_bytes_and_object_arrays():
    layer = layers.StringLookup(vocabulary=["x", "é"])
    np.testing.assert_array_equal(_np(layer(["x", "é", "q"])), [1, 2, 0])
    np.testing.assert_array_equal(_np(layer(np.array([b"x", "é".encode()]))), [1, 2])
    np.testing.assert_array_equal(_np(layer(np.array(["é"], dtype=object))), [2])
    assert _np(layer("x")).shape == () and int(layer("x")) == 1


def test_max_tokens_counts_the_special_tokens():
    layer = layers.StringLookup(max_tokens=3, mask_token="")
    layer.adapt(["a", "a", "a", "b", "b", "c"])
    assert layer.get_vocabulary() == ["", "[UNK]", "a"]
    np.testing.assert_array_equal(_np(layer(["", "a", "b"])), [0, 2, 1])


def test_mask_token_is_index_zero_in_int_mode_and_dropped_otherwise():
    data = np.array([["a", "b"], ["a", "[M]"]])
    as_int = layers.StringLookup(mask_token="[M]")
    as_int.adapt(data)
    assert as_int.get_vocabulary() == ["[M]", "[UNK]", "a", "b"]
    np.testing.assert_array_equal(_np(as_int(np.array([["[M]", "a", "q"]]))), [[0, 2, 1]])
    multi = layers.StringLookup(mask_token="[M]", output_mode="multi_hot")
    multi.adapt(data)
    assert multi.get_vocabulary() == ["[UNK]", "a", "b"]
    np.testing.assert_array_equal(_np(multi(np.array([["a", "[M]"]]))), [[0, 1, 0]])


def test_set_vocabulary_with_or_without_special_tokens():
    layer = layers.StringLookup(mask_token="[M]")
    layer.set_vocabulary(["[M]", "[UNK]", "x", "y"])
    assert layer.get_vocabulary() == ["[M]", "[UNK]", "x", "y"]
    layer.set_vocabulary(["y", "x"])
    assert layer.get_vocabulary() == ["[M]", "[UNK]", "y", "x"]


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("cat\ndog\n", encoding="utf-8")
    layer = layers.StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "cat", "dog"]
    assert layer.get_config()["vocabulary"] is None  # Keras keeps the file out of the config


@pytest.mark.parametrize("vocabulary, message", [
    (["a", "b", "a"], "repeated term"),
    (["a", "[M]"], "reserved mask token"),
    ([], "empty vocabulary"),
    (["a", "b", "c", "d"], "larger than the maximum vocab size"),
])
def test_bad_vocabularies_are_refused(vocabulary, message):
    with pytest.raises(ValueError, match=message):
        layers.StringLookup(vocabulary=vocabulary, mask_token="[M]", max_tokens=4)


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_tokens=1), "max_tokens"),
    (dict(num_oov_indices=-1), "num_oov_indices"),
    (dict(output_mode="bogus"), "Unknown value for `output_mode`"),
    (dict(invert=True, output_mode="count"), "must be `'int'` when `invert`"),
    (dict(idf_weights=[1.0]), "idf_weights"),
    (dict(pad_to_max_tokens=True), "pad_to_max_tokens"),
    (dict(output_mode="tf_idf", vocabulary=["a"]), "idf_weights"),
    (dict(bogus=1), "Unrecognized keyword"),
])
def test_bad_lookup_arguments_say_which(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.StringLookup(**kwargs)


def test_no_oov_indices_makes_unknown_values_an_error_naming_them():
    layer = layers.IntegerLookup(vocabulary=[5, 6], num_oov_indices=0)
    np.testing.assert_array_equal(_np(layer([5, 6])), [0, 1])
    with pytest.raises(ValueError, match=r"found OOV values \[7\]"):
        layer([5, 7])


def test_adapting_a_layer_with_a_fixed_vocabulary_is_an_error():
    layer = layers.StringLookup(vocabulary=["a"])
    with pytest.raises(ValueError, match="Cannot adapt layer"):
        layer.adapt(["a", "b"])


def test_integer_lookup_spreads_oov_by_floormod_and_inverts():
    layer = layers.IntegerLookup(vocabulary=[4, 8], num_oov_indices=3, mask_token=0)
    assert layer.get_vocabulary() == [0, -1, -1, -1, 4, 8]
    # OOV value v -> 1 + v mod 3
    np.testing.assert_array_equal(_np(layer(np.array([[0, 4, 8, 9, 10, 11, -1]]))),
                                  [[0, 4, 5, 1, 2, 3, 3]])
    inverse = layers.IntegerLookup(vocabulary=[4, 8], invert=True)
    out = inverse(np.array([[0, 1, 2, 9]]))
    assert out.dtype == "int64"
    np.testing.assert_array_equal(_np(out), [[-1, 4, 8, -1]])


def test_integer_lookup_adapt_and_float_inputs_are_truncated():
    layer = layers.IntegerLookup()
    layer.adapt(np.array([3, 3, 5, 7, 7, 7]))
    assert layer.get_vocabulary() == [-1, 7, 3, 5]
    np.testing.assert_array_equal(_np(layer(np.array([7.0, 9.0, 3.0], "float32"))), [1, 0, 2])
    with pytest.raises(TypeError, match="expected integers"):
        layer(np.array(["a"]))


def test_text_vectorization_one_hot_pads_with_zero_vectors():
    layer = layers.TextVectorization(output_mode="one_hot", vocabulary=["a", "b"])
    np.testing.assert_array_equal(_np(layer(["a b b", "c"])),
                                  [[[0, 1, 0], [0, 0, 1], [0, 0, 1]],
                                   [[1, 0, 0], [0, 0, 0], [0, 0, 0]]])
    assert layer(["a"]).shape == (1, 1, 3)


def test_string_lookup_invert_gives_strings():
    layer = layers.StringLookup(vocabulary=["x", "y"], invert=True, mask_token="[M]")
    out = layer(np.array([[0, 1, 2, 3, 5]]))
    assert out.tolist() == [["[M]", "[UNK]", "x", "y", "[UNK]"]]


def test_several_oov_indices_for_strings_hash_with_farmhash():
    layer = layers.StringLookup(vocabulary=["a"], num_oov_indices=5)
    # Fingerprint64 mod 5, the values TensorFlow's to_hash_bucket_fast gives
    np.testing.assert_array_equal(_np(layer(["a", "b", "cat", "dog"])), [5, 2, 1, 2])


def test_farmhash_and_siphash_reference_values():
    from minikeras.layers.preprocessing.hash_utils import fingerprint64, siphash

    assert fingerprint64("") == 0x9AE16A3B2F90404F  # FarmHash's k2 for the empty string
    assert fingerprint64("hello") % (2**63 - 1) == 3786372426573024489  # from TensorFlow
    # SipHash-2-4 test vector (Aumasson & Bernstein): key 00..0f, message 00..0e
    key = (int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)),
                                                                     "little"))
    assert siphash(key, bytes(range(15))) == 0xA129CA6149BE45E5


def test_hashing_layer_bins_like_tensorflow():
    strings = np.array(["A", "cat", "a fairly long string of more than thirty-two bytes",
                        "x" * 100])
    out = layers.Hashing(num_bins=1000)(strings)
    assert out.dtype == "int64"
    np.testing.assert_array_equal(_np(out), [564, 96, 254, 719])
    np.testing.assert_array_equal(_np(layers.Hashing(5, mask_value="")(
        np.array([["", "cat", "dog"]]))), [[0, 1, 1]])
    np.testing.assert_array_equal(_np(layers.Hashing(1000, salt=[7, 11])(np.array(["A", "cat"]))),
                                  [198, 716])
    ints = layers.Hashing(1000)(np.array([[12, -3], [0, 7]]))  # hashed as decimal text
    np.testing.assert_array_equal(_np(ints), [[888, 699], [735, 88]])
    np.testing.assert_array_equal(_np(layers.Hashing(1000)(np.array([[1.7, -3.2]]))),
                                  [[849, 699]])  # floats are truncated first
    multi = layers.Hashing(4, output_mode="multi_hot")(np.array([["a", "a"]]))
    assert multi.dtype == "float32" and multi.shape == (1, 4) and float(_np(multi).sum()) == 1
    with pytest.raises(ValueError, match="num_bins"):
        layers.Hashing(0)
    with pytest.raises(ValueError, match="salt"):
        layers.Hashing(3, salt="pepper")


# --- lookups: the other output modes ----------------------------------------------------------

@pytest.fixture
def abcd():
    layer = layers.StringLookup(output_mode="count")
    layer.adapt(np.array([["a", "b", "c"], ["a", "a", "d"]]))
    return layer.get_vocabulary()  # ["[UNK]", "a", "d", "c", "b"]


@pytest.mark.parametrize("mode, expected", [
    ("multi_hot", [[1, 1, 0, 0, 0], [0, 0, 1, 0, 1]]),
    ("count", [[1, 2, 0, 0, 0], [0, 0, 1, 0, 2]]),
])
def test_lookup_multi_hot_and_count(abcd, mode, expected):
    assert abcd == ["[UNK]", "a", "d", "c", "b"]
    layer = layers.StringLookup(output_mode=mode)
    layer.adapt(np.array([["a", "b", "c"], ["a", "a", "d"]]))
    out = layer(np.array([["a", "z", "a"], ["d", "b", "b"]]))
    assert out.dtype == "int64" and out.shape == (2, 5)
    np.testing.assert_array_equal(_np(out), expected)
    np.testing.assert_array_equal(_np(layer(np.array(["a", "z", "a"]))), expected[0])  # 1 sample
    assert layer.compute_output_shape((None, 3)) == (None, 5)


def test_lookup_one_hot_replaces_a_last_axis_of_one():
    layer = layers.StringLookup(vocabulary=["a", "b"], output_mode="one_hot")
    np.testing.assert_array_equal(_np(layer(np.array([["a"], ["q"]]))), [[0, 1, 0], [1, 0, 0]])
    assert layer(np.array([["a", "b"]])).shape == (1, 2, 3)
    assert layer.compute_output_shape((None, 1)) == (None, 3)
    assert layer.compute_output_shape((None, 2)) == (None, 2, 3)


def test_lookup_tf_idf_learns_log_idf_and_gives_oov_the_mean():
    layer = layers.StringLookup(output_mode="tf_idf")
    layer.adapt(np.array([["a", "b", "c"], ["a", "a", "d"]]))
    # 2 documents: idf(t) = log(1 + 2 / (1 + documents containing t))
    idf = np.log(1 + 2 / (1 + np.array([2, 1, 1, 1])))  # a, d, c, b
    expected_idf = np.concatenate([[idf.mean()], idf]).astype("float32")
    np.testing.assert_allclose(layer.idf_weights, expected_idf, rtol=1e-6)
    out = layer(np.array([["a", "z", "a"]]))
    assert out.dtype == "float32"
    np.testing.assert_allclose(_np(out), [[expected_idf[0], 2 * expected_idf[1], 0, 0, 0]],
                               rtol=1e-6)


def test_tf_idf_weights_given_without_special_tokens_get_the_mean_in_front():
    layer = layers.StringLookup(output_mode="tf_idf", vocabulary=["a", "b"],
                                idf_weights=[0.5, 1.5])
    np.testing.assert_allclose(layer.idf_weights, [1.0, 0.5, 1.5])
    np.testing.assert_allclose(_np(layer(np.array([["b", "b", "q"]]))), [[1.0, 0.0, 3.0]])


def test_pad_to_max_tokens_pads_the_vectors():
    layer = layers.StringLookup(vocabulary=["a"], output_mode="multi_hot", max_tokens=5,
                                pad_to_max_tokens=True)
    np.testing.assert_array_equal(_np(layer(np.array([["a"]]))), [[0, 1, 0, 0, 0]])


def test_calling_multi_hot_before_any_vocabulary_is_an_error():
    with pytest.raises(RuntimeError, match="must set the layer's vocabulary"):
        layers.StringLookup(output_mode="multi_hot")(np.array([["a"]]))


# --- TextVectorization ------------------------------------------------------------------------

TEXTS = np.array(["The cat sat.", "The dog, the CAT!", "a bird", "Hello hello world"])


def test_text_vectorization_default_pipeline():
    layer = layers.TextVectorization(max_tokens=10, output_sequence_length=5)
    layer.adapt(TEXTS)
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "hello", "cat", "world", "sat", "dog",
                                      "bird", "a"]
    out = layer(TEXTS)
    assert out.dtype == "int64" and out.shape == (4, 5)
    np.testing.assert_array_equal(_np(out), [[2, 4, 6, 0, 0], [2, 7, 2, 4, 0], [9, 8, 0, 0, 0],
                                             [3, 3, 5, 0, 0]])
    np.testing.assert_array_equal(_np(layer(["the the the the the the cat"])), [[2] * 5])


def test_text_vectorization_pads_to_the_longest_without_a_sequence_length():
    layer = layers.TextVectorization(vocabulary=["x", "y"])
    np.testing.assert_array_equal(_np(layer(np.array([["y x x"], ["q"]]))),
                                  [[3, 2, 2], [1, 0, 0]])
    np.testing.assert_array_equal(_np(layer("x y q")), [2, 3, 1])  # one string: 1-D


def test_standardize_lowercases_ascii_only_and_strips_keras_punctuation():
    layer = layers.TextVectorization(vocabulary=["école", "abcd"])
    # "É" is not ASCII: tf.strings.lower leaves it, so "ÉCOLE" is OOV; '-' "," "." are stripped
    np.testing.assert_array_equal(_np(layer(["ÉCOLE école A-b,C.d"])), [[1, 2, 3]])


def test_character_split_and_ngrams():
    chars = layers.TextVectorization(split="character", standardize="lower")
    chars.adapt(["AbC!", "ab"])
    assert chars.get_vocabulary() == ["", "[UNK]", "b", "a", "c", "!"]
    grams = layers.TextVectorization(ngrams=(2, 3))
    grams.adapt(["a b c d"])
    assert grams.get_vocabulary() == ["", "[UNK]", "c d", "b c d", "b c", "a b c", "a b"]
    # widths in order (2-grams, then 3-grams); a string shorter than 2 tokens has none
    np.testing.assert_array_equal(_np(grams(["a b c d", "a"])),
                                  [[6, 4, 2, 5, 3], [0, 0, 0, 0, 0]])


def test_callable_standardize_and_split():
    def standardize(strings):
        return np.array([s.upper() for s in strings.ravel()], dtype=object).reshape(
            strings.shape)

    def split(strings):
        return [s.split(";") for s in strings]

    layer = layers.TextVectorization(standardize=standardize, split=split)
    layer.adapt(["a;b", "b"])
    assert layer.get_vocabulary() == ["", "[UNK]", "B", "A"]


def test_no_split_treats_each_string_as_one_token():
    layer = layers.TextVectorization(output_sequence_length=3, standardize=None, split=None)
    layer.adapt(["Hi there", "yo"])
    assert layer.get_vocabulary() == ["", "[UNK]", "yo", "Hi there"]
    np.testing.assert_array_equal(_np(layer(np.array([["Hi there"], ["x"]]))),
                                  [[3, 0, 0], [1, 0, 0]])


def test_text_vectorization_vector_modes():
    layer = layers.TextVectorization(output_mode="tf_idf")
    layer.adapt(["x y", "y"])
    assert layer.get_vocabulary() == ["[UNK]", "y", "x"]  # no "" outside "int" mode
    y_idf, x_idf = np.log(1 + 2 / 3), np.log(2.0)
    out = layer(["y x x", "q"])
    assert out.dtype == "float32"
    np.testing.assert_allclose(_np(out), [[0, y_idf, 2 * x_idf], [(y_idf + x_idf) / 2, 0, 0]],
                               rtol=1e-6)
    counts = layers.TextVectorization(output_mode="count", vocabulary=["x", "y"])
    np.testing.assert_array_equal(_np(counts(["y x x", "q"])), [[0, 2, 1], [1, 0, 0]])
    assert layer.compute_output_shape((None,)) == (None, 3)


def test_text_vectorization_errors():
    with pytest.raises(ValueError, match="`output_sequence_length` must not be set"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="Unknown value for `split`"):
        layers.TextVectorization(split="comma")
    with pytest.raises(ValueError, match="`ngrams` must be None"):
        layers.TextVectorization(ngrams=[1, 2])
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        layers.TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="Expected strings"):
        layers.TextVectorization(vocabulary=["a"])(np.array([1, 2]))


def test_text_vectorization_config_round_trip():
    layer = layers.TextVectorization(max_tokens=7, ngrams=2, output_sequence_length=4)
    layer.adapt(TEXTS)
    config = layer.get_config()
    assert config["vocabulary_size"] == 7 and config["ngrams"] == 2
    assert config["vocabulary"] is None  # adapted vocabularies travel as assets
    clone = layers.TextVectorization.from_config(config)
    clone.set_vocabulary(layer.get_vocabulary())
    np.testing.assert_array_equal(_np(clone(TEXTS)), _np(layer(TEXTS)))


def test_adapt_on_batches_of_a_py_dataset_and_a_generator():
    class Texts(minikeras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return (["a b", "b"], np.array([0, 1])) if i == 0 else (["c"], np.array([1]))

    from_dataset = layers.TextVectorization()
    from_dataset.adapt(Texts())
    assert from_dataset.get_vocabulary() == ["", "[UNK]", "b", "c", "a"]
    from_generator = layers.StringLookup()
    from_generator.adapt(iter([np.array(["a", "b", "b"]), np.array(["a", "b"])]), steps=1)
    assert from_generator.get_vocabulary() == ["[UNK]", "b", "a"]


# --- CategoryEncoding -------------------------------------------------------------------------

def test_category_encoding_modes():
    x = np.array([[0, 1], [2, 2]])
    multi = layers.CategoryEncoding(num_tokens=4)
    out = multi(x)
    assert out.dtype == "float32"
    np.testing.assert_array_equal(_np(out), [[1, 1, 0, 0], [0, 0, 1, 0]])
    count = layers.CategoryEncoding(4, output_mode="count")
    np.testing.assert_array_equal(_np(count(x)), [[1, 1, 0, 0], [0, 0, 2, 0]])
    np.testing.assert_allclose(_np(count(np.array([[0, 0, 2]]),
                                         count_weights=np.array([[0.5, 1, 2]]))),
                               [[1.5, 0, 2, 0]])
    one_hot = layers.CategoryEncoding(3, output_mode="one_hot")
    np.testing.assert_array_equal(_np(one_hot(np.array([[0], [2]]))), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(_np(one_hot(np.array([0, 2]))), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(_np(multi(np.array(1))), [0, 1, 0, 0])
    assert multi.compute_output_shape((None, 2)) == (None, 4)
    assert one_hot.compute_output_shape((None, 2)) == (None, 2, 3)
    assert one_hot.compute_output_shape((None, 1)) == (None, 3)


def test_category_encoding_errors():
    with pytest.raises(ValueError, match="num_tokens must be set"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match="Unknown arg for output_mode"):
        layers.CategoryEncoding(3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="`count_weights` is not used"):
        layers.CategoryEncoding(3)(np.array([[0]]), count_weights=np.array([[1.0]]))


# --- Discretization ---------------------------------------------------------------------------

def test_discretization_buckets_like_digitize():
    layer = layers.Discretization(bin_boundaries=[0.0, 1.0])
    out = layer(np.array([[-1.0, 0.0, 0.5, 1.0, 2.0]]))
    assert out.dtype == "int32"
    np.testing.assert_array_equal(_np(out), [[0, 1, 1, 2, 2]])
    one_hot = layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot")
    assert one_hot(np.array([[-1.0, 0.5]])).shape == (1, 2, 3)
    counts = layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode="count")
    np.testing.assert_array_equal(_np(counts(np.array([[-1.0, 0.5, 0.5]]))), [[1, 2, 0]])
    assert counts.compute_output_shape((None, 3)) == (None, 3)


def test_discretization_adapt_finds_quantile_boundaries():
    layer = layers.Discretization(num_bins=3)
    layer.adapt(np.arange(10.0))
    np.testing.assert_allclose(layer.bin_boundaries, [7 / 3, 17 / 3], rtol=1e-6)
    big = layers.Discretization(num_bins=4, epsilon=0.001)
    big.adapt(np.random.default_rng(0).uniform(0, 1, 100_000))
    np.testing.assert_allclose(big.bin_boundaries, [0.25, 0.5, 0.75], atol=0.01)


def test_discretization_errors():
    with pytest.raises(ValueError, match="either `num_bins` or `bin_boundaries`"):
        layers.Discretization()
    with pytest.raises(ValueError, match="should not be set"):
        layers.Discretization(bin_boundaries=[0.0], num_bins=2)
    with pytest.raises(ValueError, match="Cannot adapt"):
        layers.Discretization(bin_boundaries=[0.0]).adapt([1.0])
    with pytest.raises(ValueError, match="call `adapt"):
        layers.Discretization(num_bins=2)(np.array([1.0]))


def test_discretization_config_keeps_learned_boundaries():
    layer = layers.Discretization(num_bins=3)
    layer.adapt(np.arange(10.0))
    clone = layers.Discretization.from_config(layer.get_config())
    assert clone.bin_boundaries == layer.bin_boundaries and clone.num_bins == 3


# --- in models, no gradients, saving ----------------------------------------------------------

def test_outputs_carry_no_gradient():
    x = minikeras.Variable(np.array([[0.2, 1.5]], "float32"))
    with minikeras.GradientTape() as tape:
        y = layers.Discretization(bin_boundaries=[1.0], output_mode="one_hot")(x)
        loss = minikeras.ops.sum(minikeras.ops.multiply(y, x[..., None]))
    assert tape.gradient(loss, x) is not None  # through the multiply...
    with minikeras.GradientTape() as tape:
        y = layers.Discretization(bin_boundaries=[1.0], output_mode="one_hot")(x)
        loss = minikeras.ops.sum(y)
    assert tape.gradient(loss, x) is None  # ...but never through the layer


def test_symbolic_outputs_have_keras_dtypes_and_shapes():
    ints = minikeras.Input((3,), dtype="int64")
    assert layers.IntegerLookup(vocabulary=[1, 2])(ints).dtype == "int64"
    encoded = layers.CategoryEncoding(4)(ints)
    assert encoded.dtype == "float32" and encoded.shape == (None, 4)
    assert layers.Discretization([0.0])(minikeras.Input((2,))).dtype == "int32"
    text = layers.TextVectorization(vocabulary=["a"], output_sequence_length=6)(
        minikeras.Input((1,), dtype="string"))
    assert text.dtype == "int64" and text.shape == (None, 6)


def test_lookup_before_dense_trains_in_a_sequential_model():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 30, size=(64, 4)) * 10  # ids 0, 10, ..., 290
    y = (x.max(axis=1) > 150).astype("float32")
    lookup = layers.IntegerLookup(output_mode="multi_hot")
    lookup.adapt(x)
    model = minikeras.Sequential([minikeras.Input((4,), dtype="int64"), lookup,
                                  layers.Dense(1, activation="sigmoid")])
    assert model.layers[0].compute_output_shape((None, 4)) == (None, 31)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert [w.shape for w in model.get_weights()] == [(31, 1), (1,)]


def test_keras_archive_carries_the_vocabulary_as_an_asset(tmp_path):
    vectorize = layers.TextVectorization(max_tokens=10, output_sequence_length=5)
    vectorize.adapt(TEXTS)
    inputs = minikeras.Input((1,), dtype="string")
    x = layers.Embedding(10, 3)(vectorize(inputs))
    model = minikeras.Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling1D()(x)))
    path = str(tmp_path / "m.keras")
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        text = archive.read("assets/layers/text_vectorization/vocabulary.txt").decode()
    assert names[3:] == ["assets/layers/text_vectorization/_lookup_layer/vocabulary.txt",
                         "assets/layers/text_vectorization/vocabulary.txt"]
    assert text.split("\n") == vectorize.get_vocabulary()
    loaded = saving.load_model(path)
    assert loaded.layers[1].get_vocabulary() == vectorize.get_vocabulary()
    np.testing.assert_array_equal(_np(loaded.layers[1](TEXTS)), _np(vectorize(TEXTS)))


def test_tf_idf_weights_are_saved_under_their_own_key(tmp_path):
    lookup = layers.StringLookup(output_mode="tf_idf")
    lookup.adapt(np.array([["a", "b"], ["a", "c"]]))
    model = minikeras.Sequential([minikeras.Input((2,), dtype="string"), lookup])
    path = str(tmp_path / "m.keras")
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        tmp = tmp_path / "w.h5"
        tmp.write_bytes(archive.read("model.weights.h5"))
    with h5py.File(tmp) as f:
        np.testing.assert_allclose(f["layers/string_lookup/vars/idf_weights"][()],
                                   lookup.idf_weights)
    loaded = saving.load_model(path)
    np.testing.assert_allclose(loaded.layers[0].idf_weights, lookup.idf_weights)
    data = np.array([["a", "c"]], dtype=object)
    np.testing.assert_allclose(_np(loaded.layers[0](data)), _np(lookup(data)))


def test_a_vocabulary_given_to_the_constructor_stays_in_the_config(tmp_path):
    model = minikeras.Sequential([minikeras.Input((1,), dtype="int64"),
                                  layers.IntegerLookup(vocabulary=[7, 9]),
                                  layers.CategoryEncoding(3, output_mode="one_hot")])
    path = str(tmp_path / "m.keras")
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert not [n for n in archive.namelist() if n.startswith("assets")]
    loaded = saving.load_model(path)
    np.testing.assert_array_equal(_np(loaded.predict(np.array([[9], [8]]), verbose=0)),
                                  [[0, 0, 1], [1, 0, 0]])
