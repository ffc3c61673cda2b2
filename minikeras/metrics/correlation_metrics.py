"""Correlation metrics: running means of per-sample correlations between labels and predictions.

Each sample's values along ``axis`` (the last by default) are correlated, and the metric averages
the per-sample coefficients over the samples seen, like every ``MeanMetricWrapper``.
"""

import numpy as np

from minikeras import backend
from minikeras.metrics.metrics_utils import float_pair
from minikeras.metrics.reduction_metrics import MeanMetricWrapper


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's r along ``axis``: ``mean(ŷ·p̂)`` with ``x̂ = (x - mean x) / std(x - mean x)``
    (population std). Constant values give NaN, as in Keras."""
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true_norm = y_true - np.mean(y_true, axis=axis, keepdims=True)
    y_pred_norm = y_pred - np.mean(y_pred, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_true_norm = y_true_norm / np.std(y_true_norm, axis=axis, keepdims=True)
        y_pred_norm = y_pred_norm / np.std(y_pred_norm, axis=axis, keepdims=True)
    return np.mean(y_true_norm * y_pred_norm, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance along ``axis``, as Keras computes it:
    ``mean(2·(y - p̄)(p - p̄) / (var y + var p + (ȳ - p̄)² + ε))``.

    The textbook numerator is the covariance, ``2·mean((y - ȳ)(p - p̄))``; Keras centres ``y`` on
    the mean of the *predictions*, and so does this function, to give Keras's values.
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true_mean = np.mean(y_true, axis=axis, keepdims=True)
    y_pred_mean = np.mean(y_pred, axis=axis, keepdims=True)
    y_true_var = np.var(y_true - y_true_mean, axis=axis, keepdims=True)
    y_pred_var = np.var(y_pred - y_pred_mean, axis=axis, keepdims=True)
    covar = (y_true - y_pred_mean) * (y_pred - y_pred_mean)
    norm = y_true_var + y_pred_var + np.square(y_true_mean - y_pred_mean)
    return np.mean(2 * covar / (norm + backend.epsilon()), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Running mean of the per-sample ``pearson_correlation`` along ``axis``."""

    _direction = "up"

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(fn=pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """Running mean of the per-sample ``concordance_correlation`` along ``axis``."""

    _direction = "up"

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(fn=concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}
