"""Unit tests of BackupAndRestore and SwapEMAWeights on small real minikeras models, and of
RemoteMonitor against a local http.server thread (NumPy and the standard library only).

compat_tests/test_callbacks_utils_more_parity.py runs the same scenarios against real Keras.
"""

import http.server
import json
import os
import socket
import threading
import urllib.parse

import numpy as np
import pytest

import minikeras as keras


def make_model(use_ema=False):
    """A small deterministic regression model (no dropout), compiled with Adam."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01, use_ema=use_ema, ema_momentum=0.9), "mse")
    return model


def data():
    x = np.random.RandomState(0).rand(16, 3).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


class InterruptAt(keras.callbacks.Callback):
    """Raises at the start of epoch ``epoch`` (or of training batch ``batch`` of that epoch)."""

    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if epoch == self.epoch and self.batch is None:
            raise RuntimeError("Interrupting!")

    def on_train_batch_begin(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise RuntimeError("Interrupting!")


def fit(model, callbacks, epochs=6):
    x, y = data()
    return model.fit(x, y, epochs=epochs, batch_size=4, shuffle=False, verbose=0,
                     callbacks=callbacks)


def assert_same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


# --- BackupAndRestore ---------------------------------------------------------------------------
def test_interrupted_fit_resumes_at_epoch_3_and_ends_like_an_uninterrupted_fit(tmp_path):
    backup_dir = str(tmp_path / "backup")
    reference = make_model()
    fit(reference, [])

    callback = keras.callbacks.BackupAndRestore(backup_dir)
    with pytest.raises(RuntimeError, match="Interrupting"):
        fit(make_model(), [callback, InterruptAt(3)])
    assert sorted(os.listdir(backup_dir)) == ["latest.weights.h5", "training_metadata.json"]
    with open(os.path.join(backup_dir, "training_metadata.json")) as f:
        assert json.load(f) == {"epoch": 3, "batch": 0}

    resumed = make_model()  # a fresh process: fresh weights, unbuilt optimizer
    history = fit(resumed, [callback])
    assert history.epoch == [3, 4, 5]
    assert len(history.history["loss"]) == 3
    # weights *and* optimizer state (Adam's moments, iterations) were restored: bit-identical
    assert_same_weights(resumed, reference)
    assert int(resumed.optimizer.iterations.numpy()) == 24
    assert not os.path.exists(backup_dir)  # deleted at the end of a successful fit


def test_integer_save_freq_backs_up_batches_and_repeats_the_unfinished_epoch(tmp_path):
    backup_dir = str(tmp_path / "backup")
    callback = keras.callbacks.BackupAndRestore(backup_dir, save_freq=2)
    with pytest.raises(RuntimeError):
        fit(make_model(), [callback, InterruptAt(2, batch=3)])
    with open(os.path.join(backup_dir, "training_metadata.json")) as f:
        # saved after batches 0-1 and 2-3 of each epoch; the last one after batch 1 of epoch 2
        assert json.load(f) == {"epoch": 2, "batch": 1}
    history = fit(make_model(), [keras.callbacks.BackupAndRestore(backup_dir, save_freq=2)])
    assert history.epoch == [2, 3, 4, 5]


def test_delete_checkpoint_false_keeps_the_backup_and_no_temporary_files(tmp_path):
    backup_dir = str(tmp_path / "backup")
    fit(make_model(), [keras.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False)],
        epochs=2)
    assert sorted(os.listdir(backup_dir)) == ["latest.weights.h5", "training_metadata.json"]
    with open(os.path.join(backup_dir, "training_metadata.json")) as f:
        assert json.load(f)["epoch"] == 2


def test_a_backup_that_fails_midway_leaves_the_previous_one_whole(tmp_path, monkeypatch):
    backup_dir = str(tmp_path / "backup")
    callback = keras.callbacks.BackupAndRestore(backup_dir)
    with pytest.raises(RuntimeError):
        fit(make_model(), [callback, InterruptAt(1)])
    paths = [os.path.join(backup_dir, name) for name in sorted(os.listdir(backup_dir))]
    before = [open(p, "rb").read() for p in paths]

    def broken_dumps(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("minikeras.callbacks.backup_and_restore.json.dumps", broken_dumps)
    with pytest.raises(OSError, match="disk full"):
        fit(make_model(), [callback])  # resumes at 1, then the backup of epoch 1 fails
    assert [open(p, "rb").read() for p in paths] == before  # weights and metadata of epoch 1
    assert sorted(os.listdir(backup_dir)) == ["latest.weights.h5", "training_metadata.json"]


def test_double_checkpoint_falls_back_to_the_previous_backup_when_the_latest_is_corrupt(
        tmp_path):
    backup_dir = str(tmp_path / "backup")
    callback = keras.callbacks.BackupAndRestore(backup_dir, double_checkpoint=True)
    with pytest.raises(RuntimeError):
        fit(make_model(), [callback, InterruptAt(3)])
    assert sorted(os.listdir(backup_dir)) == [
        "latest.weights.h5", "latest.weights.h5.bkp", "training_metadata.json",
        "training_metadata.json.bkp"]
    with open(os.path.join(backup_dir, "latest.weights.h5"), "wb") as f:
        f.write(b"not an hdf5 file")
    history = fit(make_model(), [callback])
    assert history.epoch == [2, 3, 4, 5]  # the previous backup was taken after epoch index 1


def test_corrupt_backup_without_a_previous_one_is_an_error(tmp_path):
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    (backup_dir / "latest.weights.h5").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="HDF5"):
        fit(make_model(), [keras.callbacks.BackupAndRestore(str(backup_dir))])


def test_backup_and_restore_argument_errors():
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="Invalid value for argument `save_freq`"):
        keras.callbacks.BackupAndRestore("/tmp/x", save_freq="batch")
    callback = keras.callbacks.BackupAndRestore("/tmp/x")
    model = keras.Sequential([keras.layers.Dense(1)])
    callback.set_model(model)
    with pytest.raises(ValueError, match="must be built before you call `fit\\(\\)`"):
        callback.on_train_begin()


# --- SwapEMAWeights -----------------------------------------------------------------------------
def test_swap_ema_weights_validates_with_the_averages_and_trains_with_the_raw_weights():
    x, y = data()
    swapped = make_model(use_ema=True)
    history = swapped.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                          validation_data=(x, y), callbacks=[keras.callbacks.SwapEMAWeights()])
    plain = make_model(use_ema=True)
    plain.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    # the swaps are undone after each evaluation: training itself is unchanged
    assert_same_weights(swapped, plain)
    # fit ends with the averages in the model (finalize_variable_values, as in Keras), and the
    # last val_loss is their loss
    averages = [v.numpy() for v in plain.optimizer._model_variables_moving_average]
    for weight, average in zip(plain.get_weights(), averages, strict=True):
        np.testing.assert_array_equal(weight, average)
    ema_loss = plain.evaluate(x, y, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(ema_loss, rel=1e-6)
    raw = make_model(use_ema=False)  # the same training without averages: the raw weights
    raw.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert ema_loss != pytest.approx(raw.evaluate(x, y, verbose=0), rel=1e-3)


def test_swap_ema_weights_on_epoch_leaves_the_averages_in_the_model_for_later_callbacks():
    x, y = data()
    seen = []
    model = make_model(use_ema=True)
    spy = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(model.get_weights()[0].copy()))
    model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0,
              callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True), spy])
    averages = model.optimizer._model_variables_moving_average
    # after the last epoch, weights and averages both hold the averages
    np.testing.assert_array_equal(seen[-1], averages[0].numpy())
    np.testing.assert_array_equal(model.get_weights()[0], averages[0].numpy())


def test_swap_ema_weights_needs_an_ema_optimizer():
    x, y = data()
    model = make_model(use_ema=False)
    with pytest.raises(ValueError, match="Received: use_ema=False"):
        model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y),
                  callbacks=[keras.callbacks.SwapEMAWeights()])


# --- RemoteMonitor ------------------------------------------------------------------------------
class Recorder(http.server.BaseHTTPRequestHandler):
    """Keeps each POST's path, headers and body in ``server.requests``."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, dict(self.headers), body))
        self.send_response(500 if self.path == "/fail/" else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_remote_monitor_posts_each_epoch_as_a_form_field(http_server):
    root = f"http://127.0.0.1:{http_server.server_port}"
    x, y = data()
    model = make_model()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[keras.callbacks.RemoteMonitor(root=root)])
    assert len(http_server.requests) == 2
    path, headers, body = http_server.requests[1]
    assert path == "/publish/epoch/end/"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    sent = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
    assert sent == {"epoch": 1, "loss": model.history.history["loss"][1]}


def test_remote_monitor_json_body_headers_and_numpy_values(http_server):
    root = f"http://127.0.0.1:{http_server.server_port}"
    monitor = keras.callbacks.RemoteMonitor(root=root, path="/p", send_as_json=True,
                                            headers={"X-Run": "7"})
    monitor.on_epoch_end(3, {"loss": np.float32(0.5), "acc": np.array(1.0)})
    path, headers, body = http_server.requests[0]
    assert (path, headers["Content-Type"], headers["X-Run"]) == ("/p", "application/json", "7")
    assert json.loads(body) == {"epoch": 3, "loss": 0.5, "acc": 1.0}


def test_remote_monitor_warns_when_unreachable_or_not_json_and_ignores_error_status(
        http_server):
    root = f"http://127.0.0.1:{http_server.server_port}"
    keras.callbacks.RemoteMonitor(root=root, path="/fail/").on_epoch_end(0, {})  # no warning
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        keras.callbacks.RemoteMonitor(root=root, send_as_json=True).on_epoch_end(
            0, {"loss": float("nan")})
    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.warns(UserWarning, match=f"at http://127.0.0.1:{port}"):
        keras.callbacks.RemoteMonitor(root=f"http://127.0.0.1:{port}").on_epoch_end(0, {})
