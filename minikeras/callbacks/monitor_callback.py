"""MonitorCallback: the shared "did the monitored value improve?" logic of EarlyStopping,
ModelCheckpoint and ReduceLROnPlateau (``keras.src.callbacks.monitor_callback``)."""

import warnings

import numpy as np

from minikeras import backend
from minikeras.callbacks.callback import Callback


def _as_tensor(x):
    """Keras compares with ``ops.less``/``ops.greater``, which first turn a Python number into a
    ``floatx`` tensor: 0.3 - 1e-9 < 0.3 is False in float32. NumPy values keep their dtype."""
    if isinstance(x, (int, float)):
        return np.asarray(x, dtype=backend.floatx())
    return x


def _less(x, y):
    return bool(np.less(_as_tensor(x), _as_tensor(y)))


def _greater(x, y):
    return bool(np.greater(_as_tensor(x), _as_tensor(y)))


class MonitorCallback(Callback):
    """``MonitorCallback(monitor='val_loss', mode='auto', baseline=None, min_delta=0)``.

    improvement: ``monitor_op(current - min_delta, best)`` with ``min_delta`` negated in 'min'
    mode, i.e. ``current < best - |min_delta|`` ('min') or ``current > best + |min_delta|``
    ('max'); anything is an improvement over ``best=None``.

    ``mode='auto'`` picks 'min' for ``loss``/``val_loss``; for another name it looks for a compiled
    metric of that name (``val_`` removed) in ``model.metrics`` and follows its ``_direction``
    ('up' → max, 'down' → min); otherwise it raises ValueError. The choice is made at the first
    ``on_epoch_end``, when the metrics exist.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{self.__class__.__name__} mode '{mode}' is unknown, fallback to auto "
                          "mode.", stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = _less
        elif self.mode == "max":
            self.monitor_op = _greater
        else:
            metric_name = self.monitor.removeprefix("val_")
            if metric_name == "loss":
                self.monitor_op = _less
            for metric in self._compiled_metrics():
                if metric.name == metric_name and hasattr(metric, "_direction"):
                    self.monitor_op = _greater if metric._direction == "up" else _less
            if self.monitor_op is None:
                raise ValueError(
                    f"{self.__class__.__name__} callback received monitor={self.monitor}, but "
                    "Keras isn't able to automatically determine whether that metric should be "
                    "maximized or minimized. Pass `mode='max'` in order to monitor based on the "
                    "highest metric value, or pass `mode='min'` in order to use the lowest value.")
        if self.monitor_op is _less:
            self.min_delta *= -1

    def _compiled_metrics(self):
        """The metrics inside the model's metric containers (the objects in ``model.metrics``
        that hold a ``.metrics`` list, like Keras's ``CompileMetrics``); the loss tracker is not
        one of them."""
        found = []
        for container in getattr(self.model, "metrics", None) or []:
            found.extend(getattr(container, "metrics", None) or [])
        return found

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return self.monitor_op(monitor_value - self.min_delta, reference_value)
