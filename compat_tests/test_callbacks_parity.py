"""Parity of minikeras.callbacks with keras.callbacks.

Both libraries' callbacks are driven by the same scripted sequence of hooks and logs, through
each library's own ``CallbackList``, on duck-typed fake models (Keras's callbacks only use
``stop_training``, ``get_weights``/``set_weights``, ``optimizer.learning_rate`` and
``save``/``save_weights``). The Keras side gets a real ``keras.optimizers.SGD`` so its float32
learning-rate variable is the real one. Then states, saved paths, files and stdout are compared
exactly.
"""

import io
import os
import time
import warnings
from contextlib import redirect_stdout

import keras
import numpy as np
import pytest

from minikeras import callbacks as mk_callbacks

LIBS = {"keras": keras.callbacks, "minikeras": mk_callbacks}


class FakeOptimizer:
    """minikeras side: the learning rate stored in float32, like an optimizer variable."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    @property
    def learning_rate(self):
        return float(self._lr)

    @learning_rate.setter
    def learning_rate(self, value):
        self._lr = np.float32(value)


class FakeModel:
    def __init__(self, lib, learning_rate=0.1):
        self.stop_training = False
        self.weights = [np.zeros((2, 3), "float32"), np.zeros((3,), "float32")]
        if lib == "keras":
            self.optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
        else:
            self.optimizer = FakeOptimizer(learning_rate)
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, filepath, overwrite=True):
        self.saved.append(("save", filepath, overwrite))

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(("save_weights", filepath, overwrite))


def drive_fit(lib, cbs, epoch_logs, model, batch_logs=None, params=None):
    """The hook order of ``fit``: train begin; per epoch: epoch begin, the train batches (each
    with ``batch_logs[epoch][b]``), a silent validation pass, epoch end; stop when asked.
    Weights are set to the epoch number before each epoch end. Returns (history, stdout)."""
    cbl = LIBS[lib].CallbackList(cbs, add_history=True, model=model, **(params or {}))
    out = io.StringIO()
    with redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cbl.on_train_begin()
        for epoch, logs in enumerate(epoch_logs):
            cbl.on_epoch_begin(epoch)
            for batch, blogs in enumerate((batch_logs or {}).get(epoch, [])):
                cbl.on_train_batch_begin(batch)
                cbl.on_train_batch_end(batch, dict(blogs))
                if model.stop_training:
                    break
            cbl.on_test_begin()
            cbl.on_test_batch_begin(0)
            cbl.on_test_batch_end(0, {"loss": 123.0})
            cbl.on_test_end({"loss": 123.0})
            model.weights = [np.full_like(w, epoch) for w in model.weights]
            cbl.on_epoch_end(epoch, dict(logs))
            if model.stop_training:
                break
        cbl.on_train_end(dict(logs))
    return model.history, out.getvalue()


def history_state(history):
    return history.history, history.epoch, history.params


def monitored_sequence(rng, n=14):
    """A noisy walk with exact plateaus, steps below float32 resolution and steps near min_delta:
    the cases where a comparison detail would show."""
    values = [float(np.float32(rng.uniform(0.5, 1.0)))]
    for _ in range(n - 1):
        prev, r = values[-1], rng.random()
        if r < 0.2:
            values.append(prev)
        elif r < 0.3:
            values.append(prev - 1e-9)
        elif r < 0.45:
            values.append(prev - 1.5e-4 * rng.random())
        else:
            values.append(prev + float(rng.normal(0, 0.05)))
    return values


def run_both(make_cbs, epoch_logs, learning_rate=0.1, batch_logs=None, params=None, state=None):
    """Run the script with both libraries; return {lib: (history, stdout, model, state(cbs))}."""
    results = {}
    for lib in LIBS:
        cbs = make_cbs(LIBS[lib])
        model = FakeModel(lib, learning_rate)
        history, out = drive_fit(lib, cbs, epoch_logs, model, batch_logs, params)
        results[lib] = (history_state(history), out, model, state(cbs) if state else None)
    return results


# --- EarlyStopping -------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {},
    {"patience": 2},
    {"patience": 1, "min_delta": 0.01},
    {"patience": 2, "baseline": 0.7},
    {"patience": 1, "start_from_epoch": 3},
    {"patience": 3, "restore_best_weights": True, "verbose": 1},
    {"patience": 2, "restore_best_weights": True, "start_from_epoch": 2, "verbose": 1},
    {"monitor": "val_acc", "mode": "max", "patience": 2, "min_delta": 1e-4},
    {"monitor": "loss", "mode": "min", "patience": 4, "baseline": 0.9},
])
def test_early_stopping_parity(kwargs, rng):
    def state(cbs):
        es = cbs[0]
        return es.stopped_epoch, es.best, es.wait, es.best_epoch, es.min_delta

    for _ in range(6):
        values = monitored_sequence(rng)
        epoch_logs = [{"loss": v + 0.1, "val_loss": v, "val_acc": 1.0 - v} for v in values]
        results = run_both(lambda lib: [lib.EarlyStopping(**kwargs)], epoch_logs, state=state)
        (k_hist, k_out, k_model, k_state), (m_hist, m_out, m_model, m_state) = results.values()
        assert m_state == k_state, values
        assert m_hist == k_hist and m_out == k_out
        assert m_model.stop_training == k_model.stop_training
        for m_w, k_w in zip(m_model.weights, k_model.weights, strict=True):
            np.testing.assert_array_equal(m_w, k_w)


def test_early_stopping_reuse_and_unknown_monitor_parity():
    values = [1.0, 0.9, 0.95, 0.97, 0.5]
    states = {}
    for lib in LIBS:
        es = LIBS[lib].EarlyStopping(patience=1)
        model = FakeModel(lib)
        drive_fit(lib, [es], [{"val_loss": v} for v in values], model)
        drive_fit(lib, [es], [{"val_loss": v} for v in values[::-1]], model)
        states[lib] = (es.stopped_epoch, es.best, es.wait, es.best_epoch)
    assert states["minikeras"] == states["keras"]

    messages = {}
    for lib in LIBS:
        with pytest.raises(ValueError) as err:
            drive_fit(lib, [LIBS[lib].EarlyStopping(monitor="val_f1")], [{"val_f1": 1.0}],
                      FakeModel(lib))
        messages[lib] = str(err.value)
    assert messages["minikeras"] == messages["keras"]


# --- ReduceLROnPlateau ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"patience": 0},
    {"patience": 1, "factor": 0.5, "cooldown": 2, "verbose": 1},
    {"patience": 2, "factor": 0.3, "min_lr": 0.004, "verbose": 1},
    {"patience": 1, "factor": 0.2, "min_delta": 0.02, "cooldown": 1, "min_lr": 1e-3},
    {"monitor": "val_acc", "mode": "max", "patience": 1, "factor": 0.7},
])
def test_reduce_lr_on_plateau_parity(kwargs, rng):
    def state(cbs):
        cb = cbs[0]
        return cb.best, cb.wait, cb.cooldown_counter

    for _ in range(5):
        values = monitored_sequence(rng, n=16)
        epoch_logs = [{"loss": v, "val_loss": v, "val_acc": 1.0 - v} for v in values]
        results = run_both(lambda lib: [lib.ReduceLROnPlateau(**kwargs)], epoch_logs,
                           learning_rate=0.05, state=state)
        (k_hist, k_out, k_model, k_state), (m_hist, m_out, m_model, m_state) = results.values()
        assert m_hist == k_hist, values  # includes the logged learning_rate per epoch
        assert m_state == k_state and m_out == k_out
        assert m_model.optimizer.learning_rate == float(k_model.optimizer.learning_rate)


# --- LearningRateScheduler -----------------------------------------------------------------------
@pytest.mark.parametrize("schedule", [
    lambda epoch, lr: lr * 0.9,
    lambda epoch: 0.1 / (epoch + 1),
    lambda epoch, lr: np.float32(lr * 0.5) if epoch % 2 else lr,
    lambda epoch, lr: np.float64(0.3 - 0.01 * epoch),
])
def test_learning_rate_scheduler_parity(schedule):
    seen = {lib: [] for lib in LIBS}

    def make(lib):
        name = "keras" if lib is keras.callbacks else "minikeras"

        def recording(epoch, *lr):
            seen[name].append((epoch, *lr))
            return schedule(epoch, *lr)

        recording_schedule = recording if schedule.__code__.co_argcount == 2 else (
            lambda epoch: recording(epoch))
        return [lib.LearningRateScheduler(recording_schedule, verbose=1)]

    epoch_logs = [{"loss": 1.0 / (e + 1)} for e in range(5)]
    results = run_both(make, epoch_logs, learning_rate=0.2)
    (k_hist, k_out, k_model, _), (m_hist, m_out, m_model, _) = results.values()
    assert m_hist == k_hist and m_out == k_out
    assert seen["minikeras"] == seen["keras"]
    assert m_model.optimizer.learning_rate == float(k_model.optimizer.learning_rate)


def test_learning_rate_scheduler_error_parity():
    messages = {}
    for lib in LIBS:
        with pytest.raises(ValueError) as err:
            drive_fit(lib, [LIBS[lib].LearningRateScheduler(lambda epoch, lr: 1)], [{}],
                      FakeModel(lib))
        messages[lib] = str(err.value)
    assert messages["minikeras"] == messages["keras"]


# --- CSVLogger -----------------------------------------------------------------------------------
@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_csv_logger_bytes_parity(tmp_path, rng, separator):
    scripts = [
        [{"loss": float(v), "acc": np.float32(v / 2), "val_loss": float(v) * 2}
         for v in rng.uniform(0, 1, 4)],
        [{"loss": 0.5, "vec": [1, 2.5], "note": "a,b"}, {"loss": np.float64(0.25)}],
        [{"val_loss": 1e-9, "loss": 1e20}, {"val_loss": float("nan"), "loss": float("inf")}],
    ]
    contents = {}
    for lib in LIBS:
        path = tmp_path / f"{lib}.csv"
        for logs in scripts:
            drive_fit(lib, [LIBS[lib].CSVLogger(path, separator=separator, append=True)], logs,
                      FakeModel(lib))
        appended = path.read_bytes()
        drive_fit(lib, [LIBS[lib].CSVLogger(str(path), separator=separator)], scripts[0],
                  FakeModel(lib))
        contents[lib] = (appended, path.read_bytes())
    assert contents["minikeras"] == contents["keras"]


# --- ModelCheckpoint -----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"filepath": "{epoch:02d}-{val_loss:.2f}.keras", "verbose": 1},
    {"filepath": "best.weights.h5", "save_best_only": True, "save_weights_only": True,
     "verbose": 1},
    {"filepath": "m-{epoch}.h5", "monitor": "val_acc", "mode": "max", "save_best_only": True,
     "initial_value_threshold": "median", "verbose": 1},
    {"filepath": "e{epoch}-b{batch}.keras", "save_freq": 3, "verbose": 1},
    {"filepath": "sub/dir/{epoch}-{loss:.3f}.weights.h5", "save_weights_only": True,
     "save_freq": 2},
])
def test_model_checkpoint_parity(kwargs, tmp_path, rng, monkeypatch):
    monkeypatch.chdir(tmp_path)
    values = monitored_sequence(rng, n=8)
    epoch_logs = [{"loss": v, "val_loss": v, "val_acc": 1.0 - v} for v in values]
    batch_logs = {e: [{"loss": v + 0.01 * b} for b in range(4)] for e, v in enumerate(values)}
    if kwargs.get("initial_value_threshold") == "median":  # some epochs beat it, some don't
        kwargs = {**kwargs, "initial_value_threshold": float(np.median(1.0 - np.array(values)))}
    results = run_both(lambda lib: [lib.ModelCheckpoint(**kwargs)], epoch_logs,
                       batch_logs=batch_logs)
    (_, k_out, k_model, _), (_, m_out, m_model, _) = results.values()
    assert m_model.saved == k_model.saved and m_out == k_out
    assert len(m_model.saved) > 0
    assert os.path.isdir("sub/dir") == ("sub" in kwargs["filepath"])


@pytest.mark.parametrize("kwargs", [
    {"filepath": "w.h5", "save_weights_only": True},
    {"filepath": "model.tf"},
    {"filepath": "m.keras", "save_freq": "batch"},
])
def test_model_checkpoint_error_parity(kwargs):
    messages = {}
    for lib in LIBS:
        with pytest.raises(ValueError) as err:
            LIBS[lib].ModelCheckpoint(**kwargs)
        messages[lib] = str(err.value)
    assert messages["minikeras"] == messages["keras"]


# --- TerminateOnNaN, History, CallbackList logs ------------------------------------------------
def test_terminate_on_nan_parity():
    batch_logs = {0: [{"loss": 1.0}, {"loss": 0.5}], 1: [{"loss": 0.4}, {"loss": np.nan},
                                                         {"loss": 0.3}]}
    epoch_logs = [{"loss": 0.7}, {"loss": 0.4}, {"loss": 0.2}]
    results = run_both(lambda lib: [lib.TerminateOnNaN()], epoch_logs, batch_logs=batch_logs,
                       params={"verbose": 0, "epochs": 3, "steps": 3})
    (k_hist, k_out, k_model, _), (m_hist, m_out, m_model, _) = results.values()
    assert m_out == k_out and "Batch 1" in m_out
    assert m_hist == k_hist and m_model.stop_training is k_model.stop_training is True


def test_callback_list_logs_parity():
    received = {}
    logs = {"z": np.float32(0.1), "b": np.array(3), "nested": {"y": np.float64(2.5)},
            "arr": np.arange(3.0), "s": "text"}
    for lib in LIBS:
        got = []
        cb = LIBS[lib].LambdaCallback(
            on_epoch_end=lambda epoch, logs, got=got: got.append(logs),
            on_train_batch_end=lambda batch, logs, got=got: got.append(logs),
            on_predict_end=lambda logs, got=got: got.append(logs))
        cbl = LIBS[lib].CallbackList([cb], model=FakeModel(lib))
        cbl.on_epoch_end(0, logs)
        cbl.on_train_batch_end(0, logs=logs)
        cbl.on_predict_begin()
        cbl.on_predict_end(logs)
        received[lib] = [(list(d), [type(v).__name__ for v in d.values()],
                          [np.asarray(v).tolist() for v in d.values()]) for d in got]
    assert received["minikeras"] == received["keras"]


# --- ProgbarLogger -------------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def progbar_script(lib, clock, rng_seed, verbose, epochs, steps, mode):
    """fit (with silent validation), evaluate or predict, with the clock advancing by a random
    (seeded, so identical for both libraries) amount before each batch. Returns stdout."""
    rng = np.random.default_rng(rng_seed)
    clock.now = 1000.0
    n_batches = steps or 4
    cbl = LIBS[lib].CallbackList([LIBS[lib].ProgbarLogger()], model=FakeModel(lib),
                                 verbose=verbose, epochs=epochs, steps=steps)
    out = io.StringIO()

    def batches(begin, end, with_logs):
        for batch in range(n_batches):
            getattr(cbl, begin)(batch)
            clock.now += float(rng.choice([0.004, 0.03, 0.2, 1.7, 75.0]))
            logs = {"loss": float(rng.uniform(-1, 1)) * 10.0 ** rng.integers(-5, 3),
                    "acc": float(rng.uniform())} if with_logs else {"outputs": np.ones(2)}
            getattr(cbl, end)(batch, logs)
        return logs

    with redirect_stdout(out):
        if mode == "fit":
            cbl.on_train_begin()
            for epoch in range(epochs):
                cbl.on_epoch_begin(epoch)
                logs = batches("on_train_batch_begin", "on_train_batch_end", True)
                cbl.on_test_begin()
                batches("on_test_batch_begin", "on_test_batch_end", True)
                cbl.on_test_end({"loss": 9.0})
                cbl.on_epoch_end(epoch, {**logs, "val_loss": 0.5, "val_acc": 0.25})
            cbl.on_train_end()
        elif mode == "evaluate":
            cbl.on_test_begin()
            logs = batches("on_test_batch_begin", "on_test_batch_end", True)
            cbl.on_test_end(logs)
        else:
            cbl.on_predict_begin()
            batches("on_predict_batch_begin", "on_predict_batch_end", False)
            cbl.on_predict_end()
    return out.getvalue()


@pytest.mark.parametrize("mode", ["fit", "evaluate", "predict"])
def test_progbar_logger_stdout_parity(monkeypatch, mode):
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    # (verbose, epochs, steps); steps=None: the number of steps is learnt from the first epoch.
    for config in [(1, 1, 3), (1, 3, 12), ("auto", 2, None), (2, 1, 5), (2, 3, 10), (2, 2, None)]:
        outputs = {lib: progbar_script(lib, clock, 7, *config, mode) for lib in LIBS}
        assert outputs["minikeras"] == outputs["keras"], config
        assert outputs["keras"]  # something was printed
