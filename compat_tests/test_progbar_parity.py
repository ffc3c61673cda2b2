"""Console output parity: Progbar bytes and model.summary() text, minikeras vs real Keras.

Both progress bars are driven with the same calls on the same fake clock (``time.time`` patched)
and their stdout compared byte for byte. For the summary, real Keras models are printed by Keras
and, through stand-in objects exposing what minikeras's summary reads, by minikeras.
"""

import contextlib
import io
import time
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from minikeras.utils import summary_utils
from minikeras.utils.progbar import Progbar


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def run_script(progbar_cls, script, monkeypatch, **kwargs):
    """stdout of ``progbar_cls(**kwargs)`` created at t=start then updated per ``script``."""
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        clock.now = script["start"]
        bar = progbar_cls(**kwargs)
        for now, method, args in script["calls"]:
            clock.now = now
            getattr(bar, method)(*args)
    monkeypatch.undo()
    return out.getvalue()


def random_script(rng, target, n_updates, metrics, finalize_last=True):
    """Irregular timings (some closer than the 0.05 s throttle), jumps of several steps, metric
    values spanning many magnitudes and signs."""
    now = float(rng.uniform(0, 1000))
    script = {"start": now, "calls": []}
    current = 0
    for i in range(n_updates):
        now += float(rng.choice([rng.uniform(0, 0.06), rng.exponential(2.0),
                                 rng.exponential(500.0), rng.uniform(1e-5, 1e-3)]))
        last = i == n_updates - 1
        step = int(rng.integers(1, 4))
        current = target if (last and target) else current + step
        values = [(name, float(rng.choice([-1, 1]) * 10.0 ** rng.uniform(-6, 4)))
                  for name in metrics if rng.random() < 0.9]
        finalize = True if (last and finalize_last) else (False if rng.random() < 0.5 else None)
        script["calls"].append((now, "update", (current, values, finalize)))
    return script


@pytest.mark.parametrize("kwargs", [
    {"stateless_metrics": set()},  # what fit/evaluate/predict use
    {},  # all metrics averaged by the bar
    {"stateful_metrics": ["acc"]},
    {"stateless_metrics": ["loss"], "width": 30, "unit_name": "sample"},
    {"verbose": 2},
    {"verbose": 2, "stateless_metrics": set()},
    {"interval": 0.0},
])
def test_random_scripts_same_bytes(kwargs, monkeypatch):
    # one test per setting, 50 scripts each (each test pays for the conftest's clear_session)
    for seed in range(50):
        rng = np.random.default_rng(seed)
        target = int(rng.choice([1, 3, 9, 10, 57, 1000, 12345]))
        script = random_script(rng, target, int(rng.integers(1, 12)), ["loss", "acc", "val_loss"])
        ours = run_script(Progbar, script, monkeypatch, target=target, **kwargs)
        theirs = run_script(keras.utils.Progbar, script, monkeypatch, target=target, **kwargs)
        assert ours == theirs, (seed, script)


def test_unknown_target_same_bytes(monkeypatch):
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        script = random_script(rng, None, int(rng.integers(1, 8)), ["loss"], finalize_last=False)
        ours = run_script(Progbar, script, monkeypatch, target=None)
        theirs = run_script(keras.utils.Progbar, script, monkeypatch, target=None)
        assert ours == theirs, (seed, script)


def test_add_same_bytes(monkeypatch):
    script = {"start": 5.0, "calls": [(5.2, "add", (2, [("loss", 1.5)])),
                                      (5.21, "add", (1, [("loss", 0.5)])),
                                      (9.0, "add", (3, [("loss", 2.0)])),
                                      (12.0, "add", (4,))]}
    for kwargs in ({"target": 10}, {"target": 10, "verbose": 2}):
        ours = run_script(Progbar, script, monkeypatch, **kwargs)
        assert ours == run_script(keras.utils.Progbar, script, monkeypatch, **kwargs)


# --- model.summary() -----------------------------------------------------------------------------
def stand_in_variables(variables):
    return [SimpleNamespace(shape=tuple(v.shape), dtype=v.dtype) for v in variables]


def stand_in_layer(layer):
    """What minikeras's summary reads from a layer, copied from a Keras layer (same class name)."""
    fields = {"name": layer.name, "built": layer.built, "trainable": layer.trainable,
              "count_params": layer.count_params, "weights": stand_in_variables(layer.weights)}
    try:
        fields["output_shape"] = tuple(layer.output.shape)
    except (AttributeError, ValueError):  # unbuilt: Keras prints '?'
        pass
    if hasattr(layer, "layers"):
        fields["layers"] = [stand_in_layer(inner) for inner in layer.layers]
    return type(type(layer).__name__, (SimpleNamespace,), {})(**fields)


def stand_in_model(model):
    optimizer = None
    if model.compiled and model.optimizer is not None:
        optimizer = SimpleNamespace(built=model.optimizer.built,
                                    variables=stand_in_variables(model.optimizer.variables))
    return SimpleNamespace(
        name=model.name, layers=[stand_in_layer(layer) for layer in model.layers],
        trainable_weights=stand_in_variables(model.trainable_weights),
        non_trainable_weights=stand_in_variables(model.non_trainable_weights),
        optimizer=optimizer)


@pytest.fixture(scope="module")
def models():
    """Built once for the module: compiling and fitting costs seconds."""
    layers = keras.layers
    frozen = layers.Dense(7, name="frozen")
    frozen.trainable = False
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(5), layers.Dense(6)], name="inner")
    fitted = keras.Sequential([keras.Input((2,)), layers.Dense(3, activation="sigmoid"),
                               layers.Dense(1, activation="sigmoid")])
    fitted.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    fitted.fit(x, (x[:, :1] > 0).astype("float32"), epochs=1, verbose=0)
    return {
        "long": keras.Sequential([
            keras.Input((20,)), layers.Dense(1000, name="a_really_long_layer_name_that_never_ends"),
            layers.Dense(12345, name="x y z with spaces in the name of it"), layers.Dropout(0.5),
            layers.BatchNormalization(), frozen, layers.Dense(3)], name="my_model_name"),
        "unbuilt": keras.Sequential([layers.Dense(3), layers.Dense(1)]),
        "nested": keras.Sequential([keras.Input((4,)), inner, layers.Dense(2)]),
        "fitted": fitted,
        "empty": keras.Sequential([], name="empty"),
    }


SUMMARY_KWARGS = [{}, {"line_length": 40}, {"line_length": 60, "show_trainable": True},
                  {"show_trainable": True}, {"expand_nested": True},
                  {"expand_nested": True, "show_trainable": True},
                  {"positions": [0.3, 0.6, 1.0]}, {"positions": [0.3, 0.5, 0.8]},
                  {"line_length": 130}, {"line_length": 25}, {"layer_range": [".*", "dense.*"]}]


@pytest.mark.parametrize("columns", ["200", "80", "60"])
def test_summary_text_equals_keras(columns, models, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    for name, model in models.items():
        for kwargs in SUMMARY_KWARGS:
            if name == "empty" and "layer_range" in kwargs:
                continue
            theirs, ours = [], []
            model.summary(print_fn=theirs.append, **kwargs)
            summary_utils.print_summary(stand_in_model(model), print_fn=ours.append, **kwargs)
            assert ours == theirs, (name, kwargs)


def test_summary_to_stdout_equals_keras(models, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "100")
    model = models["long"]
    model.summary()
    theirs = capsys.readouterr().out
    summary_utils.print_summary(stand_in_model(model))
    assert capsys.readouterr().out == theirs


def test_summary_errors_like_keras(models, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    model = models["unbuilt"]
    for kwargs in ({"line_length": 8}, {"layer_range": ["conv", "dense"]},
                   {"layer_range": ["dense"]}):
        with pytest.raises(ValueError):
            model.summary(print_fn=lambda *a, **k: None, **kwargs)
        with pytest.raises(ValueError):
            summary_utils.print_summary(stand_in_model(model), print_fn=print, **kwargs)
