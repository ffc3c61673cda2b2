"""Unit tests of minikeras.callbacks, driven by scripted hooks and logs on small fake models.

Expected values follow from the rules in each callback's docstring (the derivation is written next
to each one); compat_tests/test_callbacks_parity.py checks the same scripts against real Keras.
"""

import io
import os
import time
from contextlib import redirect_stdout

import numpy as np
import pytest

from minikeras import callbacks


class FakeOptimizer:
    """Stores the learning rate in float32, like an optimizer's ``learning_rate`` variable."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    @property
    def learning_rate(self):
        return float(self._lr)

    @learning_rate.setter
    def learning_rate(self, value):
        self._lr = np.float32(value)


class FakeModel:
    """What callbacks use of a model: stop_training, weights, optimizer, save/save_weights."""

    def __init__(self, learning_rate=0.1, metrics=None):
        self.stop_training = False
        self.weights = [np.zeros((2, 2), "float32"), np.zeros((2,), "float32")]
        self.optimizer = FakeOptimizer(learning_rate)
        self.saved = []
        if metrics is not None:
            self.metrics = metrics

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, filepath, overwrite=True):
        self.saved.append(("save", filepath, overwrite))

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(("save_weights", filepath, overwrite))


def run_fit(cbs, model, epoch_logs, params=None):
    """Drive the fit hooks: one epoch per logs dict, stopping when ``model.stop_training``. Before
    each epoch end the weights are set to that epoch's number, so restored weights show the epoch.
    Returns the number of epochs run."""
    cbl = callbacks.CallbackList(cbs, add_history=True, model=model, **(params or {}))
    model.stop_training = False
    cbl.on_train_begin()
    epochs_run = 0
    for epoch, logs in enumerate(epoch_logs):
        cbl.on_epoch_begin(epoch)
        model.weights = [np.full_like(w, epoch) for w in model.weights]
        cbl.on_epoch_end(epoch, dict(logs))
        epochs_run += 1
        if model.stop_training:
            break
    cbl.on_train_end(dict(epoch_logs[epochs_run - 1]))
    return epochs_run


def losses(*values, key="val_loss"):
    return [{key: v} for v in values]


# --- Callback and CallbackList -----------------------------------------------------------------
def test_base_callback_hooks_do_nothing_and_train_batch_forwards_to_batch():
    seen = []

    class Recorder(callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch, logs))

        def on_batch_end(self, batch, logs=None):
            seen.append(("end", batch, logs))

    cb = Recorder()
    for hook in ("train", "test", "predict"):
        assert getattr(cb, f"on_{hook}_begin")() is None
        assert getattr(cb, f"on_{hook}_end")({"a": 1}) is None
        getattr(cb, f"on_{hook}_batch_begin")(3)
        getattr(cb, f"on_{hook}_batch_end")(3, {"loss": 1.0})
    assert cb.on_epoch_begin(0) is None and cb.on_epoch_end(0, {}) is None
    # Only the train batch hooks forward to the old names.
    assert seen == [("begin", 3, None), ("end", 3, {"loss": 1.0})]

    model = FakeModel()
    cb.set_model(model)
    cb.set_params({"epochs": 2})
    assert cb.model is model and cb.params == {"epochs": 2}


def test_callback_list_adds_history_and_progbar_once_and_passes_params():
    model = FakeModel()
    cbl = callbacks.CallbackList(None, add_history=True, add_progbar=True, model=model,
                                 verbose=2, epochs=3, steps=5)
    kinds = [type(cb) for cb in cbl.callbacks]
    assert kinds == [callbacks.History, callbacks.ProgbarLogger]
    assert model.history is cbl.callbacks[0]
    assert cbl.callbacks[0].params == {"verbose": 2, "epochs": 3, "steps": 5}
    assert cbl.callbacks[1].verbose == 2 and cbl.callbacks[1].target == 5

    history, progbar = callbacks.History(), callbacks.ProgbarLogger()
    cbl = callbacks.CallbackList([[progbar], (history,)], add_history=True, add_progbar=True,
                                 model=model, verbose=1, epochs=1, steps=1)
    assert cbl.callbacks == [progbar, history]  # nested lists are flattened, nothing added
    assert model.history is history

    fresh = callbacks.History()
    cbl = callbacks.CallbackList([fresh])
    assert cbl.callbacks == [fresh] and fresh.params is None  # no params: set_params skipped


def test_callback_list_logs_are_sorted_flat_python_floats_and_batch_logs_are_keywords():
    received = []
    cb = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: received.append(logs),
        on_train_batch_end=lambda batch, logs: received.append(logs))
    cbl = callbacks.CallbackList([cb], model=FakeModel())
    logs = {"z": np.float32(0.5), "a": np.array(2.0), "nested": {"m": 3}, "v": np.ones(2)}
    cbl.on_epoch_end(0, logs)
    cbl.on_train_batch_end(0, logs=logs)
    for got in received:
        assert list(got) == ["a", "m", "v", "z"]
        assert type(got["a"]) is float and got["a"] == 2.0
        assert type(got["z"]) is float and got["z"] == 0.5 and got["m"] == 3.0
        assert isinstance(got["v"], np.ndarray)  # float() fails: left as it is
    assert received[0] is not logs


def test_callback_list_end_without_begin_raises():
    cbl = callbacks.CallbackList([])
    cbl.on_test_begin()
    cbl.on_test_end()
    with pytest.raises(ValueError, match="without corresponding"):
        cbl.on_predict_end()


# --- History -----------------------------------------------------------------------------------
def test_history_records_epochs_and_keeps_growing_across_fits():
    model = FakeModel()
    history = callbacks.History()
    run_fit([history], model, [{"loss": 1.0, "val_loss": 2.0}, {"val_loss": 1.5, "loss": 0.5}],
            params={"verbose": 0, "epochs": 2, "steps": 3})
    assert history.history == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}
    assert list(history.history) == ["loss", "val_loss"]
    assert history.epoch == [0, 1] and history.params == {"verbose": 0, "epochs": 2, "steps": 3}
    assert model.history is history
    run_fit([history], model, [{"loss": 0.25}])
    assert history.epoch == [0]  # restarts each fit
    assert history.history["loss"] == [1.0, 0.5, 0.25]  # keeps growing


# --- EarlyStopping -----------------------------------------------------------------------------
def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    model = FakeModel()
    es = callbacks.EarlyStopping()
    # epoch 0 sets best=1.0; epoch 1 improves (0.9); epoch 2 does not: wait=1 >= 0 -> stop.
    assert run_fit([es], model, losses(1.0, 0.9, 0.95, 0.1)) == 3
    assert (es.stopped_epoch, es.best, es.wait, es.best_epoch) == (2, 0.9, 1, 1)


def test_early_stopping_patience_counts_epochs_without_improvement():
    model = FakeModel()
    es = callbacks.EarlyStopping(monitor="loss", patience=2)
    # waits: e0 0, e1 0 (improved), e2 1, e3 0 (improved), e4 1, e5 2 -> stop at epoch 5.
    assert run_fit([es], model, losses(1.0, 0.9, 0.95, 0.8, 0.85, 0.9, 0.1, key="loss")) == 6
    assert (es.stopped_epoch, es.best, es.wait) == (5, 0.8, 2)


def test_early_stopping_min_delta_and_mode_max():
    es = callbacks.EarlyStopping(monitor="val_loss", min_delta=0.1)
    # 0.95 is below best 1.0 but by less than min_delta: no improvement -> stop at epoch 1.
    assert run_fit([es], FakeModel(), losses(1.0, 0.95, 0.5)) == 2
    assert es.best == 1.0 and es.min_delta == -0.1  # negated for 'min'

    es = callbacks.EarlyStopping(monitor="val_acc", mode="max", patience=2, min_delta=-0.05)
    # |min_delta| is used: improvement means current > best + 0.05. 0.62 isn't (wait 1), 0.7 is,
    # then 0.72 (wait 1) and 0.71 (wait 2 >= 2) -> stop at epoch 4.
    assert run_fit([es], FakeModel(), losses(0.6, 0.62, 0.7, 0.72, 0.71, key="val_acc")) == 5
    assert (es.stopped_epoch, es.best) == (4, 0.7)


def test_early_stopping_improvement_is_judged_in_float32():
    # Keras compares with ops.less, which turns Python floats into float32 tensors:
    # 0.3 - 1e-9 rounds to the same float32 as 0.3, so it is not an improvement.
    es = callbacks.EarlyStopping()
    assert run_fit([es], FakeModel(), losses(0.3, 0.3 - 1e-9)) == 2
    assert es.best == 0.3
    es = callbacks.EarlyStopping()
    assert run_fit([es], FakeModel(), losses(0.3, 0.3 - 1e-7, 0.5)) == 3


def test_early_stopping_baseline():
    # Values keep improving on best but never beat the baseline: wait is never reset, yet an
    # improving epoch returns before the stop test. The first non-improvement stops at once.
    es = callbacks.EarlyStopping(baseline=0.5, patience=2)
    assert run_fit([es], FakeModel(), losses(1.0, 0.9, 0.8, 0.85, 0.1)) == 4
    assert (es.stopped_epoch, es.wait, es.best) == (3, 4, 0.8)
    # Beating the baseline resets wait like a normal improvement.
    es = callbacks.EarlyStopping(baseline=0.5, patience=1)
    assert run_fit([es], FakeModel(), losses(0.4, 0.45, 0.3, 0.35, 0.36)) == 2
    assert es.stopped_epoch == 1


def test_early_stopping_start_from_epoch_and_first_epoch_never_stops():
    es = callbacks.EarlyStopping(start_from_epoch=2)
    # Epochs 0 and 1 are ignored (no best, no wait); epoch 2 sets best; epoch 3 stops.
    assert run_fit([es], FakeModel(), losses(0.1, 0.2, 1.0, 1.1, 0.0)) == 4
    assert (es.stopped_epoch, es.best) == (3, 1.0)
    es = callbacks.EarlyStopping()
    assert run_fit([es], FakeModel(), losses(0.5, 0.6)) == 2  # stops at 1 (needs epoch > 0)
    es = callbacks.EarlyStopping(start_from_epoch=1)
    # Epoch 1 is the first monitored one; wait=0 >= patience is only checked after a
    # non-improvement, and epoch 1 always improves on best=None.
    assert run_fit([es], FakeModel(), losses(0.5, 0.6, 0.7)) == 3


def test_early_stopping_restore_best_weights_and_messages():
    model = FakeModel()
    es = callbacks.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    out = io.StringIO()
    with redirect_stdout(out):
        assert run_fit([es], model, losses(1.0, 0.5, 0.7, 0.8, 0.1)) == 4
    # run_fit sets every weight to the epoch number: epoch 1 was the best.
    assert all(np.all(w == 1) for w in model.weights)
    assert out.getvalue() == ("Epoch 4: early stopping\n"
                              "Restoring model weights from the end of the best epoch: 2.\n")

    # Restored even without an early stop; weights are taken at the first monitored epoch.
    model = FakeModel()
    es = callbacks.EarlyStopping(patience=5, restore_best_weights=True, start_from_epoch=1)
    run_fit([es], model, losses(0.1, 0.9, 0.95))
    assert es.stopped_epoch == 0 and es.best_epoch == 1
    assert all(np.all(w == 1) for w in model.weights)


def test_early_stopping_missing_monitor_warns_and_instance_is_reusable():
    es = callbacks.EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match="`val_loss` which is not available. Available metrics "
                                         "are: loss"):
        assert run_fit([es], FakeModel(), losses(1.0, 2.0, key="loss")) == 2
    run_fit([es], FakeModel(), losses(1.0, 0.5, 0.7))
    assert (es.stopped_epoch, es.best, es.wait) == (2, 0.5, 1)
    run_fit([es], FakeModel(), losses(3.0))
    assert (es.stopped_epoch, es.best, es.wait) == (0, 3.0, 0)  # reset by on_train_begin


class _Metric:
    def __init__(self, name, direction):
        self.name, self._direction = name, direction


class _Container:
    def __init__(self, *metrics):
        self.metrics = list(metrics)


def test_monitor_auto_mode_uses_loss_name_or_compiled_metric_direction():
    metrics = [_Metric("loss", "down"), _Container(_Metric("acc", "up"), _Metric("mse", "down"))]
    model = FakeModel(metrics=metrics)
    es = callbacks.EarlyStopping(monitor="val_acc")
    run_fit([es], model, losses(0.5, 0.6, 0.55, key="val_acc"))
    assert (es.stopped_epoch, es.best) == (2, 0.6)  # 'up' -> maximise
    es = callbacks.EarlyStopping(monitor="mse")
    run_fit([es], model, losses(0.5, 0.6, key="mse"))
    assert (es.stopped_epoch, es.best) == (1, 0.5)  # 'down' -> minimise

    # A top-level metric (not in a container) is not looked at, nor is an unknown name.
    for monitor in ("top", "val_accuracy"):
        model = FakeModel(metrics=[_Metric("top", "up")])
        with pytest.raises(ValueError, match=f"monitor={monitor}, but Keras isn't able"):
            run_fit([callbacks.EarlyStopping(monitor=monitor)], model, losses(1.0, key=monitor))
    with pytest.warns(UserWarning, match="mode 'maximum' is unknown, fallback to auto mode"):
        es = callbacks.EarlyStopping(mode="maximum")
    assert es.mode == "auto"


# --- ReduceLROnPlateau -------------------------------------------------------------------------
def test_reduce_lr_on_plateau_with_cooldown_and_min_lr():
    model = FakeModel(learning_rate=1.0)
    history = callbacks.History()
    cb = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=2,
                                     min_lr=0.2)
    run_fit([cb, history], model, losses(*[1.0] * 9, key="loss"))
    # e0: best=1. e1: wait 1 -> lr 0.5, cooldown 2. e2: cooldown 1, skipped. e3: cooldown 0,
    # wait 1 -> 0.25. e4 skipped. e5 -> max(0.125, 0.2) = 0.2. e6 skipped. e7, e8: lr is no longer
    # above float32(min_lr): nothing. The log holds the rate before that epoch's reduction.
    f32 = float(np.float32(0.2))
    assert history.history["learning_rate"] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, f32, f32, f32]
    assert model.optimizer.learning_rate == f32
    assert cb.wait == 2 and cb.cooldown_counter == 0


def test_reduce_lr_on_plateau_min_delta_verbose_and_errors():
    model = FakeModel(learning_rate=0.1)
    cb = callbacks.ReduceLROnPlateau(patience=2, verbose=1, min_delta=0.01)
    out = io.StringIO()
    with redirect_stdout(out):
        # 0.995 improves on 1.0 by less than 0.01: waits 1, 2 -> reduce at epoch 2.
        run_fit([cb], model, losses(1.0, 0.995, 0.992, 0.5))
    # The message shows old_lr * factor before float32 storage; old_lr is the stored float32.
    new_lr = float(np.float32(0.1)) * 0.1
    assert out.getvalue() == f"\nEpoch 3: ReduceLROnPlateau reducing learning rate to {new_lr}.\n"
    assert model.optimizer.learning_rate == float(np.float32(0.1 * 0.1)) and cb.best == 0.5
    with pytest.raises(ValueError, match="does not support a factor >= 1.0. Received factor=1.5"):
        callbacks.ReduceLROnPlateau(factor=1.5)
    with pytest.warns(UserWarning, match="conditioned on metric `val_loss` which is not available"):
        run_fit([callbacks.ReduceLROnPlateau()], model, losses(1.0, key="loss"))


# --- LearningRateScheduler ---------------------------------------------------------------------
def test_learning_rate_scheduler_sets_rate_at_epoch_begin_and_logs_it():
    model = FakeModel(learning_rate=0.1)
    history = callbacks.History()
    seen = []
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: seen.append(lr) or lr * 0.5, verbose=1)
    out = io.StringIO()
    with redirect_stdout(out):
        run_fit([cb, history], model, losses(1.0, 1.0, 1.0, key="loss"))
    lrs = [float(np.float32(0.1 / 2 ** k)) for k in range(1, 4)]
    # schedule gets the stored (float32) rate as a Python float; it returns lr * 0.5 unrounded.
    assert seen == [float(np.float32(0.1)), *lrs[:2]]
    assert history.history["learning_rate"] == lrs
    assert out.getvalue() == "".join(
        f"\nEpoch {e + 1}: LearningRateScheduler setting learning rate to {seen[e] * 0.5}.\n"
        for e in range(3))

    model = FakeModel()
    run_fit([callbacks.LearningRateScheduler(lambda epoch: np.float64(0.01 * (epoch + 1)))],
            model, losses(1.0, 1.0, key="loss"))
    assert model.optimizer.learning_rate == float(np.float32(0.02))


def test_learning_rate_scheduler_errors():
    with pytest.raises(ValueError, match="should be a float. Got: 1"):
        run_fit([callbacks.LearningRateScheduler(lambda epoch, lr: 1)], FakeModel(),
                losses(1.0))
    model = FakeModel()
    model.optimizer = object()
    with pytest.raises(ValueError, match='must have a "learning_rate" attribute'):
        run_fit([callbacks.LearningRateScheduler(lambda epoch, lr: lr)], model, losses(1.0))


# --- CSVLogger ---------------------------------------------------------------------------------
def test_csv_logger_text(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "val_loss": 0.25, "acc": np.float32(0.75)},
            {"loss": 0.125, "acc": 1.0}]
    run_fit([callbacks.CSVLogger(path)], FakeModel(), logs)
    # Excel dialect: rows end in \r\n; floats are written with str(); missing -> NA.
    assert path.read_bytes() == (b"epoch,acc,loss,val_loss\r\n0,0.75,0.5,0.25\r\n"
                                 b"1,1.0,0.125,NA\r\n")

    # No val_ key in the first logs: val_<key> columns are added for each key.
    run_fit([callbacks.CSVLogger(str(path), separator=";")], FakeModel(),
            [{"loss": 0.5, "vec": [1, 2]}])
    # The list becomes '"[1, 2]"', which the csv module quotes again (doubling the quotes).
    assert path.read_bytes() == b'epoch;loss;vec;val_loss;val_vec\r\n0;0.5;"""[1, 2]""";NA;NA\r\n'


def test_csv_logger_append(tmp_path):
    path = tmp_path / "log.csv"
    run_fit([callbacks.CSVLogger(path, append=True)], FakeModel(), [{"loss": 1.0}])
    run_fit([callbacks.CSVLogger(path, append=True)], FakeModel(), [{"loss": 2.0}])
    assert path.read_bytes() == b"epoch,loss,val_loss\r\n0,1.0,NA\r\n0,2.0,NA\r\n"
    run_fit([callbacks.CSVLogger(path)], FakeModel(), [{"loss": 3.0}])
    assert path.read_bytes() == b"epoch,loss,val_loss\r\n0,3.0,NA\r\n"


# --- ModelCheckpoint ---------------------------------------------------------------------------
def test_model_checkpoint_filepath_rules():
    with pytest.raises(ValueError, match="must end in `.weights.h5`.*filepath=w.h5"):
        callbacks.ModelCheckpoint("w.h5", save_weights_only=True)
    with pytest.raises(ValueError, match="must end in `.keras`.*filepath=model.weights"):
        callbacks.ModelCheckpoint("model.weights")
    with pytest.raises(ValueError, match="Unrecognized save_freq: batch"):
        callbacks.ModelCheckpoint("m.keras", save_freq="batch")
    callbacks.ModelCheckpoint("m.h5")
    callbacks.ModelCheckpoint("m.weights.h5")  # ends in .h5: a full model is allowed too


def test_model_checkpoint_formats_names_and_saves_every_epoch(tmp_path):
    model = FakeModel()
    template = os.path.join(tmp_path, "sub", "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    run_fit([callbacks.ModelCheckpoint(template)], model, losses(0.5, 0.75, 0.123))
    names = [os.path.basename(p) for _, p, _ in model.saved]
    assert names == ["ckpt-01-0.50.keras", "ckpt-02-0.75.keras", "ckpt-03-0.12.keras"]
    assert {(kind, overwrite) for kind, _, overwrite in model.saved} == {("save", True)}
    assert os.path.isdir(tmp_path / "sub")  # the folder is created

    with pytest.raises(KeyError, match='Failed to format this callback filepath: "{acc}.keras"'):
        run_fit([callbacks.ModelCheckpoint("{acc}.keras")], FakeModel(), losses(1.0))


def test_model_checkpoint_save_best_only_weights_and_threshold(tmp_path):
    model = FakeModel()
    path = str(tmp_path / "best.weights.h5")
    cb = callbacks.ModelCheckpoint(path, save_best_only=True, save_weights_only=True, verbose=1)
    out = io.StringIO()
    with redirect_stdout(out):
        run_fit([cb], model, losses(1.0, 1.5, 0.5))
    assert model.saved == [("save_weights", path, True)] * 2  # epochs 1 and 3
    assert out.getvalue() == (
        f"\nEpoch 1: val_loss improved from None to 1.00000, saving model to {path}\n"
        f"\nEpoch 1: finished saving model to {path}\n"
        "\nEpoch 2: val_loss did not improve from 1.00000\n"
        f"\nEpoch 3: val_loss improved from 1.00000 to 0.50000, saving model to {path}\n"
        f"\nEpoch 3: finished saving model to {path}\n")

    model = FakeModel()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), monitor="acc", mode="max",
                                   save_best_only=True, initial_value_threshold=0.7)
    run_fit([cb], model, losses(0.6, 0.8, 0.75, key="acc"))
    assert len(model.saved) == 1 and cb.best == 0.8
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        run_fit([callbacks.ModelCheckpoint("m.keras", save_best_only=True)], model,
                losses(1.0, key="loss"))
    assert len(model.saved) == 2


def test_model_checkpoint_integer_save_freq_counts_batches(tmp_path):
    model = FakeModel()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.keras"), save_freq=3)
    cbl = callbacks.CallbackList([cb], model=model)
    cbl.on_train_begin()
    for epoch in range(2):
        cbl.on_epoch_begin(epoch)
        for batch in range(5):
            cbl.on_train_batch_end(batch, {"loss": 1.0})
        cbl.on_epoch_end(epoch, {"loss": 1.0})
    # One save per 3 batches seen, counting across epochs (a batch index that does not grow
    # starts a new epoch): epoch 1 batch 3; epoch 2 batch 1 (2 left from epoch 1); epoch 2 batch 4.
    names = [os.path.basename(p) for _, p, _ in model.saved]
    assert names == ["e1-b3.keras", "e2-b1.keras", "e2-b4.keras"]


# --- TerminateOnNaN, LambdaCallback --------------------------------------------------------------
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -np.inf])
def test_terminate_on_nan(bad):
    model = FakeModel()
    cbl = callbacks.CallbackList([callbacks.TerminateOnNaN()], model=model)
    cbl.on_train_batch_end(0, {"loss": 1.0})
    assert model.stop_training is False
    out = io.StringIO()
    with redirect_stdout(out):
        cbl.on_train_batch_end(4, {"loss": np.float32(bad)})
    assert model.stop_training is True
    assert out.getvalue() == "Batch 4: Invalid loss, terminating training\n"
    cbl = callbacks.CallbackList([callbacks.TerminateOnNaN(raise_error=True)], model=model)
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 2"):
        cbl.on_train_batch_end(2, {"loss": bad})


def test_lambda_callback_replaces_given_hooks():
    calls = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs["loss"])),
        on_test_end=lambda logs: calls.append("test_end"))
    run_fit([cb], FakeModel(), losses(0.5, key="loss"))
    cb.on_test_end({})
    cb.on_predict_end()  # not given: the default no-op
    assert calls == ["train_begin", ("epoch_end", 0, 0.5), "test_end"]


# --- ProgbarLogger -------------------------------------------------------------------------------
@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 100.0)


def _fit_output(verbose, epochs, steps=2):
    model = FakeModel()
    cbl = callbacks.CallbackList(None, add_progbar=True, model=model, verbose=verbose,
                                 epochs=epochs, steps=steps)
    out = io.StringIO()
    with redirect_stdout(out):
        cbl.on_train_begin()
        for epoch in range(epochs):
            cbl.on_epoch_begin(epoch)
            for batch in range(2):
                cbl.on_train_batch_begin(batch)
                cbl.on_train_batch_end(batch, {"loss": 0.5})
            cbl.on_test_begin()  # validation inside fit prints nothing
            cbl.on_test_batch_end(0, {"loss": 9.0})
            cbl.on_test_end({"loss": 9.0})
            cbl.on_epoch_end(epoch, {"loss": 0.5, "val_loss": 0.25})
        cbl.on_train_end()
    return out.getvalue()


def test_progbar_logger_verbose2_one_line_per_epoch(frozen_clock):
    # Format from keras-facts 8.2: "{step}/{steps} - {elapsed}s - {time}/step - key: value".
    line = "2/2 - 0s - 0s/step - loss: 0.5000 - val_loss: 0.2500\n"
    assert _fit_output(verbose=2, epochs=1) == line
    assert _fit_output(verbose="auto", epochs=1).endswith(
        "2/2\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m0s\x1b[0m 0s/step"
        " - loss: 0.5000 - val_loss: 0.2500\n")
    assert _fit_output(verbose=2, epochs=2) == f"Epoch 1/2\n{line}Epoch 2/2\n{line}"


def test_progbar_logger_verbose1_bars_and_predict(frozen_clock):
    text = _fit_output(verbose=1, epochs=3)
    assert text.count("Epoch ") == 3 and text.startswith("Epoch 1/3\n")
    assert text.count("\n") == 6 and "9.0" not in text  # one bar line per epoch, no validation
    cbl = callbacks.CallbackList([callbacks.ProgbarLogger()], model=FakeModel(), verbose=1,
                                 epochs=1, steps=None)
    out = io.StringIO()
    with redirect_stdout(out):
        cbl.on_predict_begin()
        for batch in range(3):
            cbl.on_predict_batch_end(batch, {"outputs": np.zeros(2)})
        cbl.on_predict_end()
    # Unknown target: "seen/Unknown" while running, then the bar with target = batches seen.
    assert "      1/Unknown" in out.getvalue()
    assert out.getvalue().endswith("3/3\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m"
                                   "\x1b[37m\x1b[0m \x1b[1m0s\x1b[0m 0s/step\n")
