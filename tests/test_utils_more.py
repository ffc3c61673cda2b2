"""Unit tests of split_dataset, timeseries_dataset_from_array, text_dataset_from_directory,
get_source_inputs and Config (NumPy only). compat_tests/test_callbacks_utils_more_parity.py
checks the same against Keras."""

import json
import os
import random

import numpy as np
import pytest

import minikeras as keras
from minikeras.utils import (
    Config,
    get_source_inputs,
    split_dataset,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)


# --- split_dataset ------------------------------------------------------------------------------
def test_split_array_by_fraction_and_by_count():
    data = np.arange(20).reshape(10, 2)
    left, right = split_dataset(data, left_size=0.8)
    np.testing.assert_array_equal(left, data[:8])
    np.testing.assert_array_equal(right, data[8:])
    left, right = split_dataset(data, right_size=3)
    assert (len(left), len(right)) == (7, 3)


def test_split_keeps_the_last_right_size_samples_and_drops_the_middle():
    data = np.arange(10)
    left, right = split_dataset(data, left_size=2, right_size=3)
    np.testing.assert_array_equal(left, [0, 1])
    np.testing.assert_array_equal(right, [7, 8, 9])  # samples 2..6 are in neither part


def test_split_tuple_and_list_of_arrays_give_tuples_of_arrays():
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    for dataset in [(x, y), [x, y]]:
        left, right = split_dataset(dataset, left_size=0.5)
        assert isinstance(left, tuple) and isinstance(right, tuple)
        np.testing.assert_array_equal(left[0], x[:3])
        np.testing.assert_array_equal(right[1], y[3:])
        assert left[0].dtype == x.dtype and left[1].dtype == y.dtype


def test_split_shuffle_is_python_random_seeded_with_seed():
    data = np.arange(10)
    left, right = split_dataset(data, left_size=6, shuffle=True, seed=7)
    order = list(range(10))
    random.seed(7)
    random.shuffle(order)
    np.testing.assert_array_equal(np.concatenate([left, right]), order)
    again = split_dataset(data, left_size=6, shuffle=True, seed=7)
    np.testing.assert_array_equal(again[0], left)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({}, ValueError, "At least one of the `left_size` or `right_size`"),
    ({"left_size": 10}, ValueError, "`left_size` should be either a positive integer"),
    ({"left_size": 1.5}, ValueError, "`left_size` should be"),
    ({"right_size": 0.0}, ValueError, "`right_size` should be"),
    ({"left_size": 0.6, "right_size": 0.6}, ValueError, "greater than 1"),
    ({"left_size": 6, "right_size": 6}, ValueError, "should be smaller than the 10"),
    ({"left_size": np.int64(3)}, TypeError, "Invalid `left_size` Type"),
    ({"left_size": 0.01}, ValueError, "left side dataset split will be empty"),
])
def test_split_size_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        split_dataset(np.arange(10), **kwargs)


def test_split_dataset_errors():
    with pytest.raises(TypeError, match="must be either"):
        split_dataset({"x": np.arange(3)}, left_size=1)
    with pytest.raises(ValueError, match="different lengths"):
        split_dataset((np.arange(3), np.arange(4)), left_size=1)
    with pytest.raises(ValueError, match="Expected a list of `numpy.ndarray`"):
        split_dataset([[1, 2, 3]], left_size=1)


# --- timeseries_dataset_from_array --------------------------------------------------------------
def test_timeseries_windows_targets_and_batches():
    data, targets = np.arange(20).reshape(10, 2), np.arange(10) * 10
    ds = timeseries_dataset_from_array(data, targets, sequence_length=3, batch_size=4)
    assert isinstance(ds, keras.utils.PyDataset)
    batches = list(ds)
    assert [len(b[0]) for b in batches] == [4, 4]  # 10 - (3 - 1) = 8 windows
    np.testing.assert_array_equal(batches[0][0][1], data[1:4])
    np.testing.assert_array_equal(batches[1][1], [40, 50, 60, 70])


def test_timeseries_stride_sampling_rate_and_index_range():
    data = np.arange(30)
    ds = timeseries_dataset_from_array(data, None, sequence_length=3, sequence_stride=4,
                                       sampling_rate=2, batch_size=None, start_index=5,
                                       end_index=25)
    # windows start at 5, 9, 13, 17 (a window spans (3 - 1) * 2 = 4 more steps, < 25)
    np.testing.assert_array_equal(np.stack(list(ds)), [[5, 7, 9], [9, 11, 13], [13, 15, 17],
                                                       [17, 19, 21]])


def test_timeseries_shuffle_permutes_the_start_positions_with_numpy_random_state():
    data = np.arange(12)
    ds = timeseries_dataset_from_array(data, None, sequence_length=2, batch_size=None,
                                       shuffle=True, seed=3)
    starts = np.arange(11, dtype="int32")
    np.random.RandomState(3).shuffle(starts)
    np.testing.assert_array_equal([w[0] for w in ds], starts)


def test_timeseries_dataset_trains_a_model():
    data = np.random.RandomState(0).rand(40, 2).astype("float32")
    ds = timeseries_dataset_from_array(data, data[:, 0], sequence_length=4, batch_size=8)
    model = keras.Sequential([keras.Input((4, 2)), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"start_index": -1}, "`start_index` must be 0 or greater"),
    ({"start_index": 10}, "`start_index` must be lower than the length"),
    ({"start_index": 5, "end_index": 4}, "`end_index` must be higher than `start_index`"),
    ({"end_index": 10}, "`end_index` must be lower than the length"),
    ({"end_index": -2}, "`end_index` must be higher than 0"),
    ({"sampling_rate": 0}, "`sampling_rate` must be higher than 0"),
    ({"sequence_stride": 10}, "`sequence_stride` must be lower than the length"),
    ({"format": "torch"}, '`format` should be either "tf" or "grain"'),
])
def test_timeseries_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        timeseries_dataset_from_array(np.arange(10), None, sequence_length=2, **kwargs)


# --- get_source_inputs --------------------------------------------------------------------------
def test_get_source_inputs_follows_the_graph_back_to_each_input_once():
    a, b = keras.Input((3,)), keras.Input((3,))
    h = keras.layers.Dense(2)(a)
    out = keras.layers.Add()([h, keras.layers.Dense(2)(b), keras.layers.Dense(2)(a)])
    sources = get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert get_source_inputs(a)[0] is a
    x = np.ones(3)
    assert get_source_inputs(x) is x  # no history: returned as is


# --- Config -------------------------------------------------------------------------------------
def test_config_attribute_and_item_access_json_and_freeze():
    config = Config(learning_rate=0.1, momentum=0.9)
    config.seed = 123
    config["zeta"] = 1
    assert config.seed == config["seed"] == 123
    assert list(config.keys()) == ["learning_rate", "momentum", "seed", "zeta"]
    assert list(config) == ["learning_rate", "momentum", "seed", "zeta"]  # iteration is sorted
    assert json.loads(config.to_json())["learning_rate"] == 0.1
    assert config.as_dict() == {"learning_rate": 0.1, "momentum": 0.9, "seed": 123, "zeta": 1}
    assert len(config) == 4 and "seed" in config and config.get("missing", 5) == 5
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        config.momentun  # noqa: B018
    config.freeze()
    assert config.frozen
    for mutate in (lambda: setattr(config, "x", 1), lambda: config.update(a=1),
                   lambda: config.pop("seed"), lambda: config.__delitem__("seed")):
        with pytest.raises(ValueError, match="frozen"):
            mutate()
    config.unfreeze()
    del config["zeta"]
    assert repr(config) == "<Config {'learning_rate': 0.1, 'momentum': 0.9, 'seed': 123}>"


# --- text_dataset_from_directory ----------------------------------------------------------------
@pytest.fixture
def text_dir(tmp_path):
    """neg/ (3 texts, one in a nested folder), pos/ (2 texts), a .md file and a hidden folder
    that are skipped."""
    files = {"neg/a.txt": "bad", "neg/b.txt": "awful film", "neg/deep/c.TXT": "meh",
             "pos/x.txt": "good", "pos/y.txt": "gr\u00e9at", "pos/notes.md": "skip",
             ".hidden/z.txt": "skip"}
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_text_dataset_infers_labels_from_sorted_subfolders(text_dir, capsys):
    ds = text_dataset_from_directory(text_dir, batch_size=2, shuffle=False)
    assert capsys.readouterr().out == "Found 5 files belonging to 2 classes.\n"
    assert isinstance(ds, keras.utils.PyDataset) and ds.class_names == ["neg", "pos"]
    batches = list(ds)
    assert [b[0] for b in batches] == [["bad", "awful film"], ["meh", "good"], ["gr\u00e9at"]]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), [0, 0, 0, 1, 1])
    assert batches[0][1].dtype == np.int32


def test_text_dataset_label_modes_max_length_and_no_labels(text_dir):
    ds = text_dataset_from_directory(text_dir, label_mode="categorical", batch_size=None,
                                     shuffle=False, max_length=3, verbose=False)
    text, label = ds[4]
    assert text == "gr" and label.tolist() == [0.0, 1.0]  # "é" is 2 bytes, cut: dropped
    texts, labels = text_dataset_from_directory(text_dir, label_mode="binary", shuffle=False,
                                                verbose=False)[0]
    assert labels.shape == (5, 1) and labels.dtype == np.float32
    only_texts = text_dataset_from_directory(text_dir, labels=None, shuffle=False, verbose=False)
    # without class folders every .txt below counts, hidden folders included (as in Keras)
    assert only_texts.class_names is None and len(only_texts[0]) == 6
    manual = text_dataset_from_directory(text_dir / "neg", labels=[2, 0, 2], shuffle=False,
                                         verbose=False)
    assert manual.class_names == ["0", "2"] and manual[0][1].tolist() == [2, 0, 2]


def test_text_dataset_shuffle_and_validation_subsets(text_dir):
    train, val = text_dataset_from_directory(text_dir, validation_split=0.4, subset="both",
                                             seed=1, verbose=False)
    paths = [f"{d}/{f}" for d, f in [("neg", "a.txt"), ("neg", "b.txt"), ("neg", "deep/c.TXT"),
                                     ("pos", "x.txt"), ("pos", "y.txt")]]
    np.random.RandomState(1).shuffle(paths)
    assert [os.path.relpath(p, text_dir) for p in train.file_paths + val.file_paths] == paths
    assert (len(train.file_paths), len(val.file_paths)) == (3, 2)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"labels": "folders"}, "`labels` argument should be a list/tuple"),
    ({"label_mode": "sparse"}, "`label_mode` argument must be one of"),
    ({"label_mode": "binary", "class_names": ["neg"]}, "there must be exactly 2 class_names"),
    ({"class_names": ["neg", "other"]}, "did not match the names of the subdirectories"),
    ({"labels": None, "label_mode": "int", "class_names": ["a"]}, "cannot be specified"),
    ({"validation_split": 0.2}, "If `subset` is set, `validation_split` must be set"),
    ({"validation_split": 0.2, "subset": "training"}, "you must provide a `seed`"),
    ({"labels": [0, 1]}, "Expected the lengths of `labels` to match"),
])
def test_text_dataset_errors(text_dir, kwargs, match):
    with pytest.raises(ValueError, match=match):
        text_dataset_from_directory(text_dir, verbose=False, **kwargs)
