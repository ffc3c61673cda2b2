"""Metrics built on confusion-matrix counts: TP/FP/TN/FN, Precision, Recall, the rates at a
fixed other rate (SensitivityAtSpecificity, ...), AUC.

Each keeps weighted counts per threshold: a prediction is positive at threshold t when
``y_pred > t`` (strict), a label is positive when it is non-zero (see
``metrics_utils.update_confusion_matrix_variables``).
"""

import numpy as np

from minikeras import backend
from minikeras.metrics import metrics_utils
from minikeras.metrics.metric import Metric
from minikeras.metrics.metrics_utils import divide_no_nan


class _ConfusionMatrixConditionCount(Metric):
    """One weighted count per threshold (default threshold 0.5)."""

    _condition = None  # "tp", "fp", "tn" or "fn"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = metrics_utils.parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = metrics_utils.is_evenly_distributed_thresholds(
            self.thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), initializer="zeros",
                                             name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        metrics_utils.update_confusion_matrix_variables(
            {self._condition: self.accumulator}, y_true, y_pred, thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight)

    def result(self):
        counts = self.accumulator.numpy()
        return counts[0] if len(self.thresholds) == 1 else counts

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """``Σ w·[y != 0]·[p > t]`` for each threshold t."""

    _condition = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    """``Σ w·[y == 0]·[p > t]`` for each threshold t."""

    _condition = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    """``Σ w·[y == 0]·[p <= t]`` for each threshold t."""

    _condition = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    """``Σ w·[y != 0]·[p <= t]`` for each threshold t."""

    _condition = "fn"


class _PrecisionRecallBase(Metric):
    """Shared by Precision and Recall: thresholds, ``top_k``, ``class_id`` and two counters."""

    _direction = "up"
    _counters = ()  # the two confusion-matrix keys this metric keeps

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default_threshold = 0.5 if top_k is None else metrics_utils.NEG_INF
        self.thresholds = metrics_utils.parse_init_thresholds(thresholds, default_threshold)
        self._thresholds_distributed_evenly = metrics_utils.is_evenly_distributed_thresholds(
            self.thresholds)
        names = {"tp": "true_positives", "fp": "false_positives", "fn": "false_negatives"}
        for key in self._counters:
            setattr(self, names[key], self.add_variable(
                shape=(len(self.thresholds),), initializer="zeros", name=names[key]))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """With ``top_k``, only the k highest scores of each row can be positive; with
        ``class_id``, only that column of ``y_true``/``y_pred`` is used."""
        metrics_utils.update_confusion_matrix_variables(
            dict(zip(self._counters, self.variables, strict=True)), y_true, y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            top_k=self.top_k, class_id=self.class_id, sample_weight=sample_weight)

    def _result_from(self, numerator, other):
        result = divide_no_nan(numerator, numerator + other)
        return result[0] if len(self.thresholds) == 1 else result

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecallBase):
    """``TP / (TP + FP)`` (0 when there are no predicted positives); one value per threshold."""

    _counters = ("tp", "fp")

    def result(self):
        return self._result_from(self.true_positives.value, self.false_positives.value)


class Recall(_PrecisionRecallBase):
    """``TP / (TP + FN)`` (0 when there are no actual positives); one value per threshold."""

    _counters = ("tp", "fn")

    def result(self):
        return self._result_from(self.true_positives.value, self.false_negatives.value)


class SensitivitySpecificityBase(Metric):
    """The best value of one rate among the thresholds where another rate reaches ``value``.

    TP/FP/TN/FN are counted at ``num_thresholds`` evenly spaced thresholds ``0, 1/(n-1), ..., 1``
    (just 0.5 when ``num_thresholds=1``). A subclass names the rate it constrains and the rate it
    maximises: ``result = max(rate[constrained >= value], default 0)``, with
    ``sensitivity = recall = TP / (TP + FN)``, ``specificity = TN / (TN + FP)`` and
    ``precision = TP / (TP + FP)`` (0 where a denominator is 0).
    """

    _direction = "up"
    _constrained = None  # the name of the constructor's argument, e.g. "specificity"
    _maximised = None

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if value < 0 or value > 1:
            raise ValueError(f"Argument `{self._constrained}` must be in the range [0, 1]. "
                             f"Received: {self._constrained}={value}")
        super().__init__(name=name, dtype=dtype)
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        setattr(self, self._constrained, value)
        self.value = value
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
        self._thresholds_distributed_evenly = num_thresholds > 1
        for counter in ("true_positives", "false_positives", "true_negatives",
                        "false_negatives"):
            setattr(self, counter, self.add_variable(shape=(len(self.thresholds),),
                                                     initializer="zeros", name=counter))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """With ``class_id``, only that column of ``y_true``/``y_pred`` is counted."""
        metrics_utils.update_confusion_matrix_variables(
            {"tp": self.true_positives, "tn": self.true_negatives, "fp": self.false_positives,
             "fn": self.false_negatives},
            y_true, y_pred, thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            class_id=self.class_id, sample_weight=sample_weight)

    def result(self):
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        rates = {"sensitivity": divide_no_nan(tp, tp + fn), "recall": divide_no_nan(tp, tp + fn),
                 "specificity": divide_no_nan(tn, tn + fp),
                 "precision": divide_no_nan(tp, tp + fp)}
        feasible = rates[self._constrained] >= self.value
        return np.max(np.where(feasible, rates[self._maximised], 0), initial=0)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._constrained: self.value}


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity (recall) at a specificity of at least ``specificity``."""

    _constrained, _maximised = "specificity", "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity at a sensitivity (recall) of at least ``sensitivity``."""

    _constrained, _maximised = "sensitivity", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)


class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision at a recall of at least ``recall``."""

    _constrained, _maximised = "recall", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name,
                         dtype=dtype)


class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall at a precision of at least ``precision``."""

    _constrained, _maximised = "precision", "recall"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id, name=name,
                         dtype=dtype)


_CURVES = {"ROC": "ROC", "roc": "ROC", "PR": "PR", "pr": "PR", "PRGAIN": "PRGAIN",
           "prgain": "PRGAIN"}
_SUMMATION_METHODS = {"interpolation": "interpolation", "Interpolation": "interpolation",
                      "majoring": "majoring", "Majoring": "majoring", "minoring": "minoring",
                      "Minoring": "minoring"}


class AUC(Metric):
    """Area under the ROC or PR curve, from TP/FP/TN/FN counted at ``num_thresholds`` thresholds.

    Thresholds: ``i/(num_thresholds-1)`` for the inner points, plus ``-ε`` and ``1+ε`` at the ends
    so that predictions of exactly 0 and 1 fall inside. ROC: trapezoids of ``TPR`` over ``FPR``.
    PR with ``"interpolation"``: the Davis & Goadrich interpolation, exact when TP grows linearly
    with the number of predicted positives P between two thresholds:
    ``Σ slope·(ΔTP + intercept·log(P_i / P_{i+1})) / (TP+FN)``, ``slope = ΔTP/ΔP``,
    ``intercept = TP_{i+1} - slope·P_{i+1}``.
    """

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        if curve not in _CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". '
                             'Expected values are ["PR", "ROC", "PRGAIN"]')
        if summation_method not in _SUMMATION_METHODS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._thresholds_distributed_evenly = metrics_utils.is_evenly_distributed_thresholds(
                [0.0] + thresholds + [1.0])
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        epsilon = backend.epsilon()
        self._thresholds = np.array([0.0 - epsilon] + list(thresholds) + [1.0 + epsilon])
        self.curve = _CURVES[curve]
        self.summation_method = _SUMMATION_METHODS[summation_method]
        super().__init__(name=name, dtype=dtype)

        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (None if label_weights is None
                              else np.array(label_weights, dtype=self.dtype))
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build((None, num_labels))
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        """The thresholds, including the ``-ε`` and ``1+ε`` endpoints."""
        return [float(t) for t in self._thresholds]

    def _build(self, shape):
        """Create the four counters: ``(num_thresholds,)``, or ``(num_thresholds, num_labels)``."""
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    "`y_pred` must have rank 2 when `multi_label=True`. Found rank "
                    f"{len(shape)}. Full shape received for `y_pred`: {shape}")
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, name, self.add_variable(shape=variable_shape, initializer="zeros",
                                                  name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """``from_logits=True`` applies a sigmoid to ``y_pred`` first."""
        y_pred = np.asarray(y_pred)
        if not self._built:
            self._build(y_pred.shape)
        if self._from_logits:
            y_pred = 0.5 * (1.0 + np.tanh(0.5 * y_pred))  # sigmoid, overflow-free
        metrics_utils.update_confusion_matrix_variables(
            {"tp": self.true_positives, "tn": self.true_negatives, "fp": self.false_positives,
             "fn": self.false_negatives},
            y_true, y_pred, self._thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights)

    def result(self):
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._average_over_labels(self._interpolated_pr_terms(tp, fp, fn))
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:
            x, y = _pr_gain_coordinates(tp, fp, tn, fn)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average_over_labels((x[:-1] - x[1:]) * heights)

    @staticmethod
    def _interpolated_pr_terms(tp, fp, fn):
        """The area of each slice of the PR curve (Davis & Goadrich, see the class docstring)."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        safe_p_ratio = np.where(both_positive, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return divide_no_nan(prec_slope * (dtp + intercept * np.log(safe_p_ratio)),
                             np.maximum(tp[1:] + fn[1:], 0))

    def _average_over_labels(self, terms):
        """Sum the slices; with ``multi_label``, average the per-label areas (weighted by
        ``label_weights`` if given)."""
        if not self.multi_label:
            return np.sum(terms).astype(self.dtype)[()]
        by_label = np.sum(terms, axis=0)
        if self.label_weights is None:
            return np.mean(by_label).astype(self.dtype)[()]
        weighted = divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights))
        return weighted.astype(self.dtype)[()]

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self.label_weights,
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


def _pr_gain_coordinates(tp, fp, tn, fn):
    """Recall gain and precision gain (Flach & Kull), with Keras's fixes for TP = 0."""
    scaling_factor = divide_no_nan(tp + fn, tn + fp)
    recall_gain = 1.0 - scaling_factor * divide_no_nan(fn, tp)
    precision_gain = 1.0 - scaling_factor * divide_no_nan(fp, tp)
    recall_gain = np.maximum(np.where(tp == 0, 0.0, recall_gain), 0.0)
    precision_gain = np.where(tp == 0, 1.0, precision_gain)
    return recall_gain, precision_gain
