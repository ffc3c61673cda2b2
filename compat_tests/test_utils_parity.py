"""keras.utils helpers against Keras: pad_sequences, the (x, y, sample_weight) packers, and the
names that Keras re-exports there from saving and backend."""

import keras
import numpy as np
import pytest

import minikeras

SEQUENCES = [[1], [2, 3], [4, 5, 6, 7], [], [8, 9]]


@pytest.mark.parametrize("maxlen", [None, 2, 3, 6])
@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_pad_sequences(maxlen, padding, truncating):
    options = {"maxlen": maxlen, "padding": padding, "truncating": truncating}
    expected = keras.utils.pad_sequences(SEQUENCES, **options)
    result = minikeras.utils.pad_sequences(SEQUENCES, **options)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_pad_sequences_values_dtypes_and_vectors():
    for options in [{"value": -1}, {"dtype": "float32", "value": 0.5}, {"dtype": "int64"}]:
        expected = keras.utils.pad_sequences(SEQUENCES, **options)
        result = minikeras.utils.pad_sequences(SEQUENCES, **options)
        assert result.dtype == expected.dtype
        np.testing.assert_array_equal(result, expected)
    vectors = [np.ones((2, 3)), np.zeros((4, 3))]
    np.testing.assert_array_equal(minikeras.utils.pad_sequences(vectors, maxlen=3),
                                  keras.utils.pad_sequences(vectors, maxlen=3))


def test_pad_sequences_errors_like_keras():
    for bad in [{"padding": "middle"}, {"truncating": "middle"}, {"value": "x"}]:
        with pytest.raises(ValueError) as expected:
            keras.utils.pad_sequences(SEQUENCES, **bad)
        with pytest.raises(ValueError) as ours:
            minikeras.utils.pad_sequences(SEQUENCES, **bad)
        assert str(ours.value) == str(expected.value)


@pytest.mark.parametrize("data", [np.ones(2), (np.ones(2),), (np.ones(2), np.zeros(2)),
                                  [np.ones(2), np.zeros(2), np.ones(2)]])
def test_unpack_and_pack(data):
    expected = keras.utils.unpack_x_y_sample_weight(data)
    result = minikeras.utils.unpack_x_y_sample_weight(data)
    assert [r is None for r in result] == [e is None for e in expected]
    assert type(minikeras.utils.pack_x_y_sample_weight(*result)) is type(
        keras.utils.pack_x_y_sample_weight(*expected))


def test_reexported_names_exist():
    names = ["CustomObjectScope", "custom_object_scope", "get_custom_objects",
             "get_registered_name", "get_registered_object", "register_keras_serializable",
             "serialize_keras_object", "deserialize_keras_object", "clear_session",
             "standardize_dtype", "is_keras_tensor", "PyDataset", "Sequence", "get_file",
             "to_categorical", "normalize", "set_random_seed", "Progbar", "pad_sequences"]
    assert all(hasattr(keras.utils, name) for name in names)
    missing = [name for name in names if not hasattr(minikeras.utils, name)]
    assert not missing
    assert minikeras.utils.is_keras_tensor(minikeras.Input((2,)))
    assert not minikeras.utils.is_keras_tensor(np.ones(2))
