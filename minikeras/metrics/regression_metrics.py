"""Regression metrics: running means of per-sample errors (``keras.metrics.MeanSquaredError``...).

The per-sample functions reduce the last axis, like the Keras loss functions of the same names;
``y_true (N,)`` against ``y_pred (N, 1)`` is matched by ``squeeze_or_expand_to_same_rank``.
"""

import warnings

import numpy as np

from minikeras import backend
from minikeras.metrics.metric import Metric
from minikeras.metrics.metrics_utils import (
    broadcast_weights,
    check_2d_inputs,
    float_pair,
    squeeze_or_expand_to_same_rank,
    to_float_array,
)
from minikeras.metrics.reduction_metrics import Mean, MeanMetricWrapper


def mean_squared_error(y_true, y_pred):
    """``mean((y - p)²)`` over the last axis."""
    y_true, y_pred = float_pair(y_true, y_pred)
    return np.mean(np.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y - p|)`` over the last axis."""
    y_true, y_pred = float_pair(y_true, y_pred)
    return np.mean(np.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 · mean(|(y - p) / max(|y|, ε)|)`` over the last axis."""
    y_true, y_pred = float_pair(y_true, y_pred)
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), backend.epsilon()))
    return 100.0 * np.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(p, ε) + 1) - log(max(y, ε) + 1))²)`` over the last axis."""
    y_true, y_pred = float_pair(y_true, y_pred)
    epsilon = backend.epsilon()
    first_log = np.log(np.maximum(y_pred, epsilon) + 1.0)
    second_log = np.log(np.maximum(y_true, epsilon) + 1.0)
    return np.mean(np.square(first_log - second_log), axis=-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(p - y)))``, computed stably as ``x + softplus(-2x) - log 2``."""
    y_true, y_pred = float_pair(y_true, y_pred)
    x = y_pred - y_true
    return np.mean(x + np.logaddexp(0.0, -2.0 * x) - np.log(2.0).astype(x.dtype), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """``Σ ŷ·p̂`` along ``axis``, with ``x̂ = x / max(‖x‖₂, ε)`` (a zero vector stays zero).

    The metric is the plain cosine in [-1, 1]; the *loss* ``keras.losses.cosine_similarity`` is its
    negative.
    """
    y_true, y_pred = float_pair(y_true, y_pred)
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


_CLASS_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """The coefficient of determination, one score per output column (the last axis):

    ``R² = 1 - Σ w·(y - p)² / Σ w·(y - ȳ)²`` with the weighted mean ``ȳ = Σ w·y / Σ w``, kept as
    running sums (``Σ w·(y - ȳ)² = Σ w·y² - (Σ w·y)·ȳ``); a column of constant labels scores 0.
    ``class_aggregation`` averages the columns (``"uniform_average"``), weights them by their
    variance (``"variance_weighted_average"``) or returns them all (``None``).
    ``num_regressors = k > 0`` gives the adjusted score ``1 - (1 - R²)(n - 1) / (n - k - 1)``,
    with n the number of values seen.
    """

    _direction = "up"

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in _CLASS_AGGREGATIONS:
            raise ValueError(
                "Invalid value for argument `class_aggregation`. Expected one of "
                f"{_CLASS_AGGREGATIONS}. Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a value >= 0. "
                             f"Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(shape=(), initializer="zeros", name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        """The per-column sums, created once the number of columns is known."""
        check_2d_inputs("R2Score", y_true_shape, y_pred_shape)
        num_classes = y_pred_shape[-1]
        self.squared_sum = self.add_variable((num_classes,), "zeros", name="squared_sum")
        self.sum = self.add_variable((num_classes,), "zeros", name="sum")
        self.total_mse = self.add_variable((num_classes,), "zeros", name="residual")
        self.count = self.add_variable((num_classes,), "zeros", name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """``sample_weight`` of shape ``(N,)`` weighs rows; ``(N, C)`` weighs single values."""
        y_true = to_float_array(y_true, self.dtype)
        y_pred = to_float_array(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        weight = to_float_array(1 if sample_weight is None else sample_weight, self.dtype)
        if weight.ndim == 1:
            weight = weight[:, None]
        weight = broadcast_weights(weight, y_true.shape)
        weighted_y_true = y_true * weight
        self.sum.assign_add(np.sum(weighted_y_true, axis=0))
        self.squared_sum.assign_add(np.sum(y_true * weighted_y_true, axis=0))
        self.total_mse.assign_add(np.sum(np.square(y_true - y_pred) * weight, axis=0))
        self.count.assign_add(np.sum(weight, axis=0))
        self.num_samples.assign_add(y_true.size)

    def result(self):
        with np.errstate(divide="ignore", invalid="ignore"):  # nothing seen yet: NaN, as Keras
            mean = self.sum.value / self.count.value
            total = self.squared_sum.value - self.sum.value * mean
            raw_scores = 1 - self.total_mse.value / total
        raw_scores = np.where(np.isinf(raw_scores), 0, raw_scores).astype(raw_scores.dtype)
        if self.class_aggregation == "uniform_average":
            r2_score = np.mean(raw_scores)
        elif self.class_aggregation == "variance_weighted_average":
            r2_score = np.sum(total * raw_scores) / np.sum(total)
        else:
            r2_score = raw_scores
        return self._adjusted(r2_score)

    def _adjusted(self, r2_score):
        """The adjusted score when ``num_regressors`` is set and there are enough samples."""
        if self.num_regressors == 0:
            return r2_score
        n = np.float32(self.num_samples.value)
        if self.num_regressors > n - 1:
            warnings.warn("More independent predictors than datapoints in adjusted R2 score. "
                          "Falling back to standard R2 score.", stacklevel=3)
        elif self.num_regressors == n - 1:
            warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 "
                          "score.", stacklevel=3)
        else:
            p = np.float32(self.num_regressors)
            r2_score = 1 - (1 - r2_score) * (n - 1) / (n - p - 1)
        return r2_score

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
