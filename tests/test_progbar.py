"""Progbar and model summary text, checked against the captures of real Keras 3 in keras-facts.

The progress-bar captures came from ``fit``/``evaluate``/``predict`` with real timings; here the
same calls are replayed on a fake clock whose times reproduce the printed durations, and the
output must equal the capture byte for byte. The summary captures are compared the same way,
using small stand-in model objects.
"""

import os
from types import SimpleNamespace

import pytest

from minikeras.utils import progbar as progbar_module
from minikeras.utils import summary_utils
from minikeras.utils.progbar import Progbar

DUMPS = "/work/shared/keras-facts/dumps"
needs_dumps = pytest.mark.skipif(not os.path.isdir(DUMPS), reason="keras-facts dumps not found")


def read_dump(name):
    with open(os.path.join(DUMPS, name), encoding="utf-8", newline="") as f:
        return f.read()


class Clock:
    """Stands in for ``time.time``: returns ``self.now``, which the test sets."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(progbar_module.time, "time", clock)
    return clock


def replay(clock, target, steps, verbose=1, start=0.0, **kwargs):
    """Create a bar at time ``start`` and apply ``steps``: (time, current, values, finalize)."""
    clock.now = start
    bar = Progbar(target, verbose=verbose, **kwargs)
    for now, current, values, finalize in steps:
        clock.now = now
        bar.update(current, values, finalize=finalize)
    return bar


def fit_logs(acc, loss, *val):
    logs = [("accuracy", acc), ("loss", loss)]
    if val:
        logs += [("val_accuracy", val[0]), ("val_loss", val[1])]
    return logs


def keras_run(clock, verbose):
    """What ProgbarLogger does in the e08 experiment (fit 2 epochs, evaluate, predict, fit 1
    epoch), with times chosen to give the durations Keras printed; returns the 'Epoch' lines and
    markers that the experiment printed itself, interleaved."""
    print("Epoch 1/2")
    one = verbose == 1  # with verbose=2, ProgbarLogger only finalizes
    replay(clock, 3, [
        *([(0.9762, 1, fit_logs(0.53125, 0.8382), False),
           (0.99, 2, fit_logs(0.52, 0.84), False)] if one else []),  # 2nd update: throttled
        (0.9762 + 2 * 0.1812 if one else 3 * 0.7041, 3,
         fit_logs(*((0.525, 0.8342, 0.6, 0.7898) if one else (0.4875, 0.6609, 0.5, 0.6688))),
         True),
    ], verbose=verbose, stateless_metrics=set())
    print("Epoch 2/2")
    replay(clock, 3, [
        *([(10.1902, 1, fit_logs(0.53125, 0.8163), False)] if one else []),
        (10.1902 + 2 * 0.0312 if one else 10 + 3 * 0.0342, 3,
         fit_logs(*((0.525, 0.8321, 0.6, 0.7881) if one else (0.4875, 0.6597, 0.5, 0.6675))),
         True),
    ], start=10.0, verbose=verbose, stateless_metrics=set())
    print("=== evaluate verbose=1")
    replay(clock, 4, [
        *([(20.0562, 1, fit_logs(0.59375, 0.7830), False)] if one else []),
        (20.0562 + 3 * 0.0062 if one else 20 + 4 * 0.0122, 4,
         fit_logs(*((0.54, 0.8221) if one else (0.5, 0.6607))), True),
    ], start=20.0, verbose=verbose, stateless_metrics=set())
    print("=== predict verbose=1")
    replay(clock, 4, [
        *([(30.0872, 1, None, False)] if one else []),
        (30.0872 + 3 * 0.0302 if one else 30 + 4 * 0.0552, 4, None, True),
    ], start=30.0, verbose=verbose, stateless_metrics=set())
    print("=== fit epochs=1")
    replay(clock, 4, [
        *([(40.0812, 1, fit_logs(0.59375, 0.7765), False)] if one else []),
        (40.0812 + 3 * 0.0212 if one else 40 + 4 * 0.0102, 4,
         fit_logs(*((0.54, 0.8213) if one else (0.5, 0.6603))), True),
    ], start=40.0, verbose=verbose, stateless_metrics=set())


@needs_dumps
def test_verbose1_bytes_equal_keras_capture(clock, capsys):
    keras_run(clock, verbose=1)
    assert capsys.readouterr().out == read_dump("progbar_verbose1_raw.txt")


@needs_dumps
def test_verbose2_bytes_equal_keras_capture(clock, capsys):
    keras_run(clock, verbose=2)
    assert capsys.readouterr().out == read_dump("progbar_verbose2_raw.txt")


def bar(current, target, width=20):
    """The counter and bar as Keras writes them (bold counter, green done, grey to do)."""
    done = width * current // target
    green = f"\x1b[32m{'━' * done}\x1b[0m" if done else ""
    return f"\x1b[1m{current}/{target}\x1b[0m {green}\x1b[37m{'━' * (width - done)}\x1b[0m"


def test_line_layout_and_erasing(clock, capsys):
    replay(clock, 5, [(1.0, 1, [("loss", 2.0)], False), (2.0, 2, [("loss", 4.0)], False)])
    first = f"\r{bar(1, 5)} \x1b[1m4s\x1b[0m 1s/step - loss: 2.0000"
    width = len(first) - 1 - 34  # \r and the escape codes take no room on screen
    second = "\b" * width + f"\r{bar(2, 5)} \x1b[1m3s\x1b[0m 1s/step - loss: 3.0000"
    assert capsys.readouterr().out == first + second


def test_stateless_values_are_averaged_over_steps(clock, capsys):
    # (2 * 1 + 5 * 3) / 4 steps, where the second update covers steps 2..4
    replay(clock, 10, [(1.0, 1, [("loss", 2.0)], False), (2.0, 4, [("loss", 5.0)], False)])
    assert capsys.readouterr().out.endswith(f" - loss: {17 / 4:.4f}")


def test_stateful_values_shown_as_given(clock, capsys):
    replay(clock, 10, [(1.0, 1, [("acc", 0.2)], False), (2.0, 4, [("acc", 0.7)], False)],
           stateful_metrics=["acc"])
    assert capsys.readouterr().out.endswith(" - acc: 0.7000")


def test_final_update_replaces_average(clock, capsys):
    replay(clock, 2, [(1.0, 1, [("loss", 2.0)], False), (2.0, 2, [("loss", 9.0)], None)])
    assert capsys.readouterr().out.endswith(" - loss: 9.0000\n")


@pytest.mark.parametrize("value, text", [(0.5, "0.5000"), (-2.25, "-2.2500"),
                                         (0.001, "1.0000e-03"), (-0.0005, "-5.0000e-04"),
                                         (0.0, "0.0000e+00"), (12345.678, "12345.6780")])
def test_value_format(clock, capsys, value, text):
    replay(clock, 1, [(1.0, 1, [("m", value)], None)])
    assert capsys.readouterr().out.endswith(f" - m: {text}\n")


@pytest.mark.parametrize("seconds_per_step, eta, per_step", [
    (0.0004, "0s", "400us/step"), (0.02, "0s", "20ms/step"), (2.0, "18s", "2s/step"),
    (10.0, "1:30", "10s/step"), (500.0, "1:15:00", "500s/step"),
])
def test_eta_and_time_per_step(clock, capsys, seconds_per_step, eta, per_step):
    replay(clock, 10, [(100.0 + seconds_per_step, 1, None, False)], start=100.0)
    assert capsys.readouterr().out.endswith(f" \x1b[1m{eta}\x1b[0m {per_step}")


def test_first_step_left_out_of_the_estimate(clock, capsys):
    # step 1 took 5 s (setup), steps 2..3 took 0.2 s each: 200ms/step, ETA 7 * 0.2 = 1.4 s
    replay(clock, 10, [(5.0, 1, None, False), (5.4, 3, None, False)])
    assert capsys.readouterr().out.endswith(" \x1b[1m1s\x1b[0m 200ms/step")


def test_throttling(clock, capsys):
    replay(clock, 10, [(1.0, 1, None, False), (1.03, 2, None, False), (1.06, 3, None, False)])
    out = capsys.readouterr().out
    assert out.count("\r") == 2 and "3/10" in out and "2/10" not in out


def test_final_update_is_never_throttled_and_ends_the_line(clock, capsys):
    replay(clock, 2, [(1.0, 1, None, False), (1.01, 2, None, None)])
    out = capsys.readouterr().out
    assert out.endswith(f"\r{bar(2, 2)} \x1b[1m1s\x1b[0m 10ms/step\n")


def test_shorter_line_is_padded_with_spaces(clock, capsys):
    replay(clock, 2, [(1.0, 1, [("m", 123.0)], False), (2.0, 2, [("m", -1.0)], None)])
    out = capsys.readouterr().out  # "m: -1.0000" is one character shorter than "m: 123.0000"
    assert out.endswith(" - m: -1.0000 \n")


def test_unknown_target(clock, capsys):
    replay(clock, None, [(2.0, 4, None, False)])
    assert capsys.readouterr().out == "\r      4/Unknown \x1b[1m2s\x1b[0m 500ms/step"


def test_add_and_verbose0(clock, capsys):
    clock.now = 0.0
    quiet = Progbar(4, verbose=0)
    clock.now = 1.0
    quiet.add(2, [("loss", 1.0)])
    quiet.add(2)
    assert quiet._seen_so_far == 4 and capsys.readouterr().out == ""


def test_verbose2_line(clock, capsys):
    replay(clock, 12, [(3.0, 5, [("loss", 0.5)], False), (6.0, 12, [("loss", -0.25)], None)],
           verbose=2)
    # one line when finished; Keras's verbose=2 tests avg > 1e-3, so negatives use %.4e
    assert capsys.readouterr().out == "12/12 - 6s - 500ms/step - loss: -2.5000e-01\n"


def test_both_metric_lists_rejected():
    with pytest.raises(ValueError, match="stateful_metrics"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


# --- model.summary() -----------------------------------------------------------------------------
class Dense(SimpleNamespace):
    """A stand-in layer: ``type(layer).__name__`` is what the summary prints."""


def variable(shape, dtype="float32"):
    return SimpleNamespace(shape=shape, dtype=dtype)


def fake_model(built=True, optimizer=None):
    """The captured model: Sequential([Input((2,)), Dense(3), Dense(1)]), as seen by summary."""
    weights = [variable((2, 3)), variable((3,)), variable((3, 1)), variable((1,))]
    layers = []
    for name, ws, units in [("dense", weights[:2], 3), ("dense_1", weights[2:], 1)]:
        layer = Dense(name=name, built=built, trainable=True, weights=ws if built else [],
                      count_params=lambda ws=ws: summary_utils.count_params(ws))
        if built:
            layer.output_shape = (None, units)
        layers.append(layer)
    weights = weights if built else []
    return SimpleNamespace(name="sequential", layers=layers, trainable_weights=weights,
                           non_trainable_weights=[], optimizer=optimizer)


def adam_after_fit():
    """Adam's variables after fit: iteration (int64), learning_rate, then m and v per weight."""
    slots = [variable(s) for s in [(2, 3), (2, 3), (3,), (3,), (3, 1), (3, 1), (1,), (1,)]]
    return SimpleNamespace(built=True, variables=[variable((), "int64"), variable(())] + slots)


def summary_text(model, **kwargs):
    out = []
    summary_utils.print_summary(model, print_fn=out.append, **kwargs)
    assert len(out) == 1  # print_fn receives the whole text at once, as in Keras 3
    return out[0]


@needs_dumps
def test_summary_equals_keras_capture(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # line length min(88, 200 - 4)
    assert summary_text(fake_model()) == read_dump("summary_COLUMNS200.txt")
    assert repr([summary_text(fake_model())]) + "\n" == read_dump("summary_print_fn_repr.txt")


@needs_dumps
def test_summary_80_columns_equals_keras_capture(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # a pipe: 80 columns, line length 76
    assert summary_text(fake_model()) == read_dump("summary_default_pipe_80cols.txt")


@needs_dumps
def test_summary_after_fit_equals_keras_capture(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    text = summary_text(fake_model(optimizer=adam_after_fit()))
    assert text == read_dump("summary_after_fit_COLUMNS200.txt")


@needs_dumps
def test_summary_prints_to_stdout(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")
    summary_utils.print_summary(fake_model())
    assert capsys.readouterr().out == read_dump("summary_COLUMNS200.txt")


def test_unbuilt_model(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    lines = summary_text(fake_model(built=False)).split("\n")
    # cell widths 38 / 29 / 17 as in the capture; '?' shapes and '0 (unbuilt)' counts
    assert lines[4] == f"│ {'dense (Dense)':<37}│ {'?':<28}│ {'0 (unbuilt)':>15} │"
    assert lines[-4:] == [" Total params: 0 (0.00 B)", " Trainable params: 0 (0.00 B)",
                          " Non-trainable params: 0 (0.00 B)", ""]


def test_unbuilt_optimizer_adds_no_line(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    model = fake_model(optimizer=SimpleNamespace(built=False, variables=[]))
    assert "Optimizer" not in summary_text(model)


@pytest.mark.parametrize("size, text", [(0, "0.00 B"), (52, "52.00 B"), (1023, "1023.00 B"),
                                        (1024, "1.00 KB"), (1536 * 1024, "1.50 MB"),
                                        (3 * 1024**3, "3.00 GB"), (2 * 1024**6, "2.00 PB")])
def test_readable_memory_size(size, text):
    # the last case is Keras's loop dividing once more after PB: 2048 PB prints as "2.00 PB"
    assert summary_utils.readable_memory_size(size) == text


def test_memory_counts_bits_per_dtype_and_shared_weights_once():
    w = variable((10,), "float64")
    weights = [w, w, variable((4,), "bool"), variable((2,), "int8")]
    assert summary_utils.weight_memory_size(weights) == (10 * 64 + 4 * 1 + 2 * 8) / 8


def test_thousands_separators(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    big = variable((1000, 12345))
    layer = Dense(name="big", built=True, weights=[big], output_shape=(None, 12345),
                  count_params=lambda: 12_345_000)
    model = SimpleNamespace(name="m", layers=[layer], trainable_weights=[big],
                            non_trainable_weights=[])
    text = summary_text(model)
    assert "│      12,345,000 │" in text
    assert " Total params: 12,345,000 (47.09 MB)" in text


def test_wrap_like_rich():
    wrap = summary_utils._wrap
    assert wrap("dense (Dense)", 10, "left") == ["dense     ", "(Dense)   "]
    assert wrap("a_very_long_layer_name (Dense)", 10, "left") == ["a_very_lo…", "(Dense)   "]
    assert wrap("1,234", 8, "right") == ["   1,234"]
    assert wrap("Y", 5, "center") == ["  Y  "]
    assert wrap("", 3, "left") == ["   "]


def test_fit_widths_like_rich():
    # 88 columns: content widths 39/31/18 plus padding, minus 10 taken evenly (3, 4, 3)
    assert summary_utils._fit_widths([41, 33, 20], 84) == [38, 29, 17]
    # narrower than the line: the room left is shared in proportion, rounded up
    assert summary_utils._fit_widths([28, 20, 28], 84) == [31, 23, 30]


def test_layer_range(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    text = summary_text(fake_model(), layer_range=["dense_1", "dense_1"])
    assert "dense_1 (Dense)" in text and "dense (Dense)" not in text
    with pytest.raises(ValueError, match="do not match"):
        summary_text(fake_model(), layer_range=["conv", "dense"])
    with pytest.raises(ValueError, match="length 2"):
        summary_text(fake_model(), layer_range=["dense"])


def test_show_trainable_column(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    lines = summary_text(fake_model(), show_trainable=True).split("\n")
    assert len(lines[1]) == 100  # 88 + 12
    # the last column gets 10 - 3 characters: the header is cut, as rich (and Keras) cut it
    assert lines[2].endswith("┃ Traina… ┃") and lines[4].endswith("│    Y    │")


def test_too_narrow():
    with pytest.raises(ValueError, match="Insufficient console width"):
        summary_text(fake_model(), line_length=8)
