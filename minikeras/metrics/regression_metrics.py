"""Regression metrics: running means of per-sample errors (``keras.metrics.MeanSquaredError``...).

The per-sample functions reduce the last axis, like the Keras loss functions of the same names;
``y_true (N,)`` against ``y_pred (N, 1)`` is matched by ``squeeze_or_expand_to_same_rank``.
"""

import numpy as np

from minikeras import backend
from minikeras.metrics.metrics_utils import squeeze_or_expand_to_same_rank, to_float_array
from minikeras.metrics.reduction_metrics import Mean, MeanMetricWrapper


def _prepare(y_true, y_pred):
    """Both as float arrays of ``y_pred``'s dtype, with ranks matched."""
    y_pred = to_float_array(y_pred)
    y_true = to_float_array(y_true, y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    """``mean((y - p)²)`` over the last axis."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return np.mean(np.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y - p|)`` over the last axis."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return np.mean(np.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 · mean(|(y - p) / max(|y|, ε)|)`` over the last axis."""
    y_true, y_pred = _prepare(y_true, y_pred)
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), backend.epsilon()))
    return 100.0 * np.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(p, ε) + 1) - log(max(y, ε) + 1))²)`` over the last axis."""
    y_true, y_pred = _prepare(y_true, y_pred)
    epsilon = backend.epsilon()
    first_log = np.log(np.maximum(y_pred, epsilon) + 1.0)
    second_log = np.log(np.maximum(y_true, epsilon) + 1.0)
    return np.mean(np.square(first_log - second_log), axis=-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(p - y)))``, computed stably as ``x + softplus(-2x) - log 2``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    x = y_pred - y_true
    return np.mean(x + np.logaddexp(0.0, -2.0 * x) - np.log(2.0).astype(x.dtype), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """``Σ ŷ·p̂`` along ``axis``, with ``x̂ = x / max(‖x‖₂, ε)`` (a zero vector stays zero).

    The metric is the plain cosine in [-1, 1]; the *loss* ``keras.losses.cosine_similarity`` is its
    negative.
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return np.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def _l2_normalize(x, axis):
    """``x / max(‖x‖₂, ε)`` (Keras: ``x · min(rsqrt(Σx²), 1/ε)``, the same value)."""
    norm = np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True))
    return x / np.maximum(norm, backend.epsilon())


class MeanSquaredError(MeanMetricWrapper):
    """Running mean of ``mean((y - p)²)``."""

    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(fn=mean_squared_error, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanAbsoluteError(MeanMetricWrapper):
    """Running mean of ``mean(|y - p|)``."""

    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Running mean of ``100 · mean(|(y - p) / max(|y|, ε)|)``."""

    _direction = "down"

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Running mean of ``mean((log(max(p, ε) + 1) - log(max(y, ε) + 1))²)``."""

    _direction = "down"

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class RootMeanSquaredError(Mean):
    """``sqrt(Σ w·(y - p)² / Σ w)``: the square root of the running mean of squared errors.

    The mean is over every element (not per sample first), and the root is taken at the end.
    """

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = to_float_array(y_true, self.dtype)
        y_pred = to_float_array(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return np.sqrt(super().result())


class CosineSimilarity(MeanMetricWrapper):
    """Running mean of the cosine of the angle between ``y_true`` and ``y_pred`` along ``axis``.

    Its ``get_config`` leaves out ``axis``, exactly like Keras's.
    """

    _direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name, dtype=dtype, axis=axis)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class LogCoshError(MeanMetricWrapper):
    """Running mean of ``mean(log(cosh(p - y)))`` (default name ``"logcosh"``, as in Keras)."""

    _direction = "down"

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
