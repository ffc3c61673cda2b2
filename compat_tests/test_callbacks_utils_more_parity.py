"""Parity of BackupAndRestore, SwapEMAWeights, RemoteMonitor and the data utilities
(split_dataset, timeseries_dataset_from_array, text_dataset_from_directory, get_source_inputs,
Config) with Keras 3.

The callbacks run the same small model in both libraries (same initial weights, shuffle=False);
Keras's tf.data results are turned into NumPy arrays before comparing.
"""

import json
import sys
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import keras
import numpy as np
import pytest

import minikeras

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_callbacks_more import http_server  # noqa: E402, F401  (a pytest fixture)
from test_utils_more import text_dir  # noqa: E402, F401  (a pytest fixture)

LIBS = {"keras": keras, "minikeras": minikeras}


def twin_models(use_ema=False):
    """The same Dense(4, tanh) -> Dense(1) model in both libraries, with the same weights."""
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(3, 4)).astype("float32"), np.zeros(4, "float32"),
               rng.normal(size=(4, 1)).astype("float32"), np.zeros(1, "float32")]
    models = {}
    for name, lib in LIBS.items():
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, activation="tanh"),
                                lib.layers.Dense(1)])
        model.set_weights(weights)
        model.compile(lib.optimizers.SGD(0.05, use_ema=use_ema, ema_momentum=0.9), "mse")
        models[name] = model
    return models


def data():
    x = np.random.RandomState(0).rand(16, 3).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def interrupt_at(lib, at_epoch):
    class InterruptAt(lib.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == at_epoch:
                raise RuntimeError("Interrupting!")

    return InterruptAt()


@pytest.mark.parametrize(("save_freq", "resumed_epochs"), [
    ("epoch", [3, 4, 5]),
    # 4 batches an epoch, a backup every 3: the last one before the interruption is taken after
    # batch 3 of epoch 2, before that epoch ends, so it still says "epoch": 2
    (3, [2, 3, 4, 5]),
])
def test_backup_and_restore_resumes_at_the_same_epoch(tmp_path, save_freq, resumed_epochs):
    x, y = data()
    results = {}
    for name, model in twin_models().items():
        lib = LIBS[name]
        backup_dir = str(tmp_path / name)
        callback = lib.callbacks.BackupAndRestore(backup_dir, save_freq=save_freq)
        with pytest.raises(RuntimeError, match="Interrupting"):
            model.fit(x, y, epochs=6, batch_size=4, shuffle=False, verbose=0,
                      callbacks=[callback, interrupt_at(lib, 3)])
        with open(f"{backup_dir}/training_metadata.json") as f:
            metadata = f.read()
        fresh = twin_models()[name]
        history = fresh.fit(x, y, epochs=6, batch_size=4, shuffle=False, verbose=0,
                            callbacks=[callback])
        results[name] = (metadata, history.epoch, history.history["loss"], fresh.get_weights())
    k, m = results["keras"], results["minikeras"]
    assert m[0] == k[0]  # the metadata file, byte for byte
    assert m[1] == k[1] == resumed_epochs
    np.testing.assert_allclose(m[2], k[2], rtol=1e-5)
    for wm, wk in zip(m[3], k[3], strict=True):
        np.testing.assert_allclose(wm, wk, rtol=1e-5, atol=1e-6)


def test_swap_ema_weights_gives_the_same_validation_losses():
    x, y = data()
    histories = {}
    for name, model in twin_models(use_ema=True).items():
        history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                            validation_data=(x, y),
                            callbacks=[LIBS[name].callbacks.SwapEMAWeights()])
        histories[name] = history.history
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(histories["minikeras"][key], histories["keras"][key],
                                   rtol=1e-5)


def test_a_later_fit_of_the_resumed_model_still_starts_at_the_restored_epoch(tmp_path):
    """Keras never resets ``model._initial_epoch``; minikeras keeps that."""
    x, y = data()
    epochs = {}
    for name, model in twin_models().items():
        lib = LIBS[name]
        callback = lib.callbacks.BackupAndRestore(str(tmp_path / name))
        with pytest.raises(RuntimeError):
            model.fit(x, y, epochs=6, verbose=0, callbacks=[callback, interrupt_at(lib, 3)])
        model.fit(x, y, epochs=6, verbose=0, callbacks=[callback])
        epochs[name] = model.fit(x, y, epochs=6, verbose=0).epoch
    assert epochs["minikeras"] == epochs["keras"] == [3, 4, 5]


def test_swap_ema_weights_does_not_swap_back_after_predict_as_in_keras():
    x, y = data()
    changed = {}
    for name, model in twin_models(use_ema=True).items():
        lib = LIBS[name]
        model.fit(x, y, epochs=2, verbose=0, shuffle=False)
        model.set_weights([w + 1 for w in model.get_weights()])  # weights != their averages
        row = []
        for method, args in (("evaluate", (x, y)), ("predict", (x,))):
            before = model.get_weights()
            getattr(model, method)(*args, verbose=0, callbacks=[lib.callbacks.SwapEMAWeights()])
            row.append(any(not np.array_equal(a, b)
                           for a, b in zip(before, model.get_weights(), strict=True)))
        changed[name] = row
    assert changed["minikeras"] == changed["keras"] == [False, True]


# --- split_dataset ------------------------------------------------------------------------------
def as_numpy(dataset):
    """A tf.data dataset of samples -> one array, or a tuple of arrays for tuple samples."""
    samples = list(dataset.as_numpy_iterator())
    if isinstance(samples[0], tuple):
        return tuple(np.array(column) for column in zip(*samples, strict=True))
    return np.array(samples)


SPLIT_DATA = [
    np.arange(20.0).reshape(10, 2),
    (np.arange(20.0).reshape(10, 2).astype("float32"), np.arange(10)),
    [np.arange(10), np.arange(10) * 2],
]


@pytest.mark.parametrize("data", SPLIT_DATA, ids=["array", "tuple", "list"])
@pytest.mark.parametrize("sizes", [{"left_size": 0.8}, {"right_size": 3},
                                   {"left_size": 2, "right_size": 3}, {"left_size": 0.25}])
@pytest.mark.parametrize("shuffle", [False, True])
def test_split_dataset_matches_keras(data, sizes, shuffle):
    expected = keras.utils.split_dataset(data, shuffle=shuffle, seed=42, **sizes)
    result = minikeras.utils.split_dataset(data, shuffle=shuffle, seed=42, **sizes)
    for tf_part, part in zip(expected, result, strict=True):
        tf_part = as_numpy(tf_part)
        assert type(part) is type(tf_part)
        for a, b in zip(tree_leaves(part), tree_leaves(tf_part), strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def tree_leaves(x):
    return list(x) if isinstance(x, tuple) else [x]


@pytest.mark.parametrize("sizes", [{}, {"left_size": 10}, {"left_size": 0.6, "right_size": 0.6},
                                   {"left_size": 6, "right_size": 6}, {"left_size": 0.01},
                                   {"left_size": np.int64(3)}])
def test_split_dataset_errors_match_keras(sizes):
    with pytest.raises((ValueError, TypeError)) as expected:
        keras.utils.split_dataset(np.arange(10), **sizes)
    with pytest.raises(expected.type) as result:
        minikeras.utils.split_dataset(np.arange(10), **sizes)
    assert str(result.value) == str(expected.value)


# --- timeseries_dataset_from_array --------------------------------------------------------------
def batches(dataset):
    return [tuple(np.asarray(t) for t in b) if isinstance(b, tuple) else (np.asarray(b),)
            for b in dataset]


@pytest.mark.parametrize("options", [
    {"sequence_length": 5},
    {"sequence_length": 4, "sequence_stride": 3, "sampling_rate": 2, "batch_size": 4},
    {"sequence_length": 3, "start_index": 4, "end_index": 41, "batch_size": 5},
    {"sequence_length": 6, "sampling_rate": 3, "batch_size": None},
    {"sequence_length": 2, "sequence_stride": 7, "batch_size": 3, "with_targets": False},
])
def test_timeseries_windows_match_keras(options):
    options = dict(options)
    data = np.arange(100, dtype="float32").reshape(50, 2)
    targets = None if options.pop("with_targets", True) is False else np.arange(50) * 10
    expected = batches(keras.utils.timeseries_dataset_from_array(data, targets, **options))
    result = batches(minikeras.utils.timeseries_dataset_from_array(data, targets, **options))
    assert len(result) == len(expected)
    for got, want in zip(result, expected, strict=True):
        for a, b in zip(got, want, strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_timeseries_shuffle_gives_the_same_windows_as_keras():
    data, targets = np.arange(60).reshape(30, 2), np.arange(30)
    options = {"sequence_length": 3, "batch_size": 4, "shuffle": True, "seed": 5}
    expected = batches(keras.utils.timeseries_dataset_from_array(data, targets, **options))
    result = batches(minikeras.utils.timeseries_dataset_from_array(data, targets, **options))
    # Keras adds a local tf.data shuffle: the same windows, in another order
    assert [len(b[0]) for b in result] == [len(b[0]) for b in expected]
    for index in (0, 1):
        got = np.concatenate([b[index] for b in result])
        want = np.concatenate([b[index] for b in expected])
        np.testing.assert_array_equal(np.sort(got, axis=0), np.sort(want, axis=0))


# --- get_source_inputs, Config ------------------------------------------------------------------
def test_get_source_inputs_matches_keras():
    found = {}
    for name, lib in LIBS.items():
        a, b, c = lib.Input((3,), name="a"), lib.Input((3,), name="b"), lib.Input((3,), name="c")
        h = lib.layers.Dense(2)(b)
        out = lib.layers.Add()([h, lib.layers.Dense(2)(a), lib.layers.Dense(2)(b)])
        sources = lib.utils.get_source_inputs(out)
        found[name] = [s.name for s in sources], lib.utils.get_source_inputs(c)[0] is c
    assert found["minikeras"] == found["keras"] == (["b", "a"], True)


def test_config_matches_keras():
    results = {}
    for name, lib in LIBS.items():
        config = lib.utils.Config(b=1, a=2)
        config.c = 3
        config["d"] = [1]
        row = [list(config), list(config.keys()), config.to_json(), repr(config), len(config)]
        try:
            config.bb  # noqa: B018
        except AttributeError as e:
            row.append(str(e))
        config.freeze()
        try:
            config.x = 1
        except ValueError as e:
            row.append(str(e))
        results[name] = row
    assert results["minikeras"] == results["keras"]


# --- RemoteMonitor ------------------------------------------------------------------------------
@pytest.mark.parametrize("send_as_json", [False, True])
def test_remote_monitor_sends_the_same_request_as_keras(http_server, send_as_json):  # noqa: F811
    root = f"http://127.0.0.1:{http_server.server_port}"
    logs = {"loss": np.float32(0.25), "val_loss": 0.5, "acc": np.array(1.0)}
    for lib in LIBS.values():
        monitor = lib.callbacks.RemoteMonitor(root=root, field="f", send_as_json=send_as_json,
                                              headers={"X-Run": "7"})
        monitor.on_epoch_end(2, dict(logs))
    (k_path, k_headers, k_body), (m_path, m_headers, m_body) = http_server.requests
    assert m_path == k_path
    assert m_body == k_body
    for key in ("Content-Type", "X-Run", "Content-Length"):
        assert m_headers[key] == k_headers[key]
    if send_as_json:
        assert json.loads(m_body) == {"epoch": 2, "loss": 0.25, "val_loss": 0.5, "acc": 1.0}


# --- text_dataset_from_directory ----------------------------------------------------------------
def text_batches(dataset):
    """Keras's batches as ([str], labels) or [str]; minikeras's as they are."""
    result = []
    for batch in dataset:
        texts, labels = batch if isinstance(batch, tuple) else (batch, None)
        texts = np.asarray(texts)
        if texts.dtype == object:
            texts = [t.decode("utf-8", errors="ignore") for t in texts.reshape(-1)]
        result.append((list(np.atleast_1d(texts)),
                       None if labels is None else np.asarray(labels)))
    return result


@pytest.mark.parametrize("options", [
    {"batch_size": 2},
    {"label_mode": "categorical", "batch_size": 3, "max_length": 3},
    {"label_mode": "binary"},
    {"label_mode": None},
    {"class_names": ["pos", "neg"]},
    {"validation_split": 0.4, "subset": "validation", "seed": 3},
])
def test_text_dataset_from_directory_matches_keras(text_dir, options):  # noqa: F811
    out = {}
    for name, lib in LIBS.items():
        with redirect_stdout(StringIO()) as stdout:
            dataset = lib.utils.text_dataset_from_directory(str(text_dir), shuffle=False,
                                                            **options)
        out[name] = stdout.getvalue(), dataset.class_names, text_batches(dataset)
    (k_out, k_names, k_batches), (m_out, m_names, m_batches) = out["keras"], out["minikeras"]
    assert (m_out, m_names) == (k_out, k_names)
    assert len(m_batches) == len(k_batches)
    for (m_texts, m_labels), (k_texts, k_labels) in zip(m_batches, k_batches, strict=True):
        assert m_texts == k_texts
        if k_labels is None:
            assert m_labels is None
        else:
            assert m_labels.dtype == k_labels.dtype
            np.testing.assert_array_equal(m_labels, k_labels)


def test_text_dataset_shuffle_splits_the_same_files_as_keras(text_dir):  # noqa: F811
    found = {}
    for name, lib in LIBS.items():
        with redirect_stdout(StringIO()):
            train, val = lib.utils.text_dataset_from_directory(
                str(text_dir), validation_split=0.4, subset="both", seed=11)
        # Keras shuffles the training files again in tf.data: compare them as sets
        found[name] = (sorted(t for texts, _ in text_batches(train) for t in texts),
                       [t for texts, _ in text_batches(val) for t in texts])
    assert found["minikeras"] == found["keras"]
