"""F-scores: the weighted harmonic mean of precision and recall, per class or averaged.

``F_β = (1 + β²) · P·R / (β²·P + R)``, with ``P = TP / (TP + FP + ε)`` and
``R = TP / (TP + FN + ε)`` (and ``+ε`` in the denominator of F_β too), from counts summed over
every batch. ``y_true`` and ``y_pred`` are ``(batch_size, num_classes)`` arrays.
"""

import numpy as np

from minikeras import backend
from minikeras.metrics.metric import Metric
from minikeras.metrics.metrics_utils import check_2d_inputs, to_float_array


class FBetaScore(Metric):
    """F_β per class (``average=None``), or averaged: ``"micro"`` (counts pooled over the classes),
    ``"macro"`` (the plain mean of the per-class scores) or ``"weighted"`` (the mean weighted by
    each class's number of true labels).

    A prediction is positive when ``y_pred > threshold``; with ``threshold=None`` it is the
    largest score of its row (ties all count), if that score is not 0.
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: "
                             "{None, 'micro', 'macro', 'weighted'}. "
                             f"Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: "
                             f"beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value. It should be a Python "
                                 f"float. Received: threshold={threshold} of type "
                                 f"'{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify "
                                 f"0 < threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        """The four counters: one per class, or scalars for ``"micro"``."""
        check_2d_inputs("FBetaScore", y_true_shape, y_pred_shape)
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives",
                     "intermediate_weights"):
            setattr(self, name, self.add_variable(shape, "zeros", dtype=self.dtype, name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """``sample_weight`` has one weight per row, shape ``(N,)``."""
        y_true = to_float_array(y_true, self.dtype)
        y_pred = to_float_array(y_pred, self.dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            top = np.max(y_pred, axis=-1, keepdims=True)
            y_pred = (y_pred >= top) & (np.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(self.dtype)
        if sample_weight is not None:
            sample_weight = np.expand_dims(to_float_array(sample_weight, self.dtype), 1)

        def weighted_sum(values):
            if sample_weight is not None:
                values = values * sample_weight
            return np.sum(values, axis=self.axis)

        self.true_positives.assign_add(weighted_sum(y_pred * y_true))
        self.false_positives.assign_add(weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.assign_add(weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self):
        epsilon = backend.epsilon()
        tp = self.true_positives.value
        precision = tp / (tp + self.false_positives.value + epsilon)
        recall = tp / (tp + self.false_negatives.value + epsilon)
        beta_squared = self.beta**2
        f_score = precision * recall / (beta_squared * precision + recall + epsilon)
        f_score = f_score * (1 + beta_squared)
        if self.average == "weighted":
            support = self.intermediate_weights.value
            return np.sum(f_score * (support / (np.sum(support) + epsilon)))
        if self.average is not None:  # "micro" or "macro"
            return np.mean(f_score)
        return f_score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F_1 = 2·P·R / (P + R): ``FBetaScore`` with ``beta=1.0``."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
