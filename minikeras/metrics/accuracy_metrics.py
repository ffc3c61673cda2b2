"""Accuracy metrics: the running mean of per-sample 0/1 matches (``keras.metrics.*Accuracy``)."""

import numpy as np

from minikeras import backend
from minikeras.metrics.metrics_utils import (
    in_top_k,
    squeeze_or_expand_to_same_rank,
    to_float_array,
)
from minikeras.metrics.reduction_metrics import MeanMetricWrapper


def accuracy(y_true, y_pred):
    """``float(y_true == y_pred)``, element-wise (exact equality)."""
    y_pred = to_float_array(y_pred)
    y_true = to_float_array(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return np.equal(y_true, y_pred).astype(backend.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """``float(y_true == (y_pred > threshold))``, element-wise; strict ``>``, so 0.5 is class 0."""
    y_pred = to_float_array(y_pred)
    y_true = np.asarray(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = (y_pred > threshold).astype(y_true.dtype)
    return np.equal(y_true, y_pred).astype(backend.floatx())


def categorical_accuracy(y_true, y_pred):
    """``float(argmax(y_true) == argmax(y_pred))`` over the last axis (ties: the first index)."""
    y_pred = to_float_array(y_pred)
    y_true = np.argmax(y_true, axis=-1).astype(y_pred.dtype)
    true_shape = y_true.shape
    reshape_matches = y_true.ndim == y_pred.ndim
    if reshape_matches:  # only when y_true had one more axis than y_pred
        y_true = np.squeeze(y_true, -1)
    matches = np.equal(y_true, np.argmax(y_pred, axis=-1)).astype(backend.floatx())
    return matches.reshape(true_shape) if reshape_matches else matches


def sparse_categorical_accuracy(y_true, y_pred):
    """``float(y_true == argmax(y_pred))``, with integer labels of shape ``(N,)`` or ``(N, 1)``."""
    y_pred = to_float_array(y_pred)
    y_true = to_float_array(y_true, y_pred.dtype)
    true_shape = y_true.shape
    reshape_matches = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    if reshape_matches:
        y_true = np.squeeze(y_true, -1)
    matches = np.equal(y_true, np.argmax(y_pred, axis=-1)).astype(backend.floatx())
    if reshape_matches:
        matches = matches.reshape(true_shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = np.squeeze(matches, -1)
    return matches


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """``float(argmax(y_true) in top-k(y_pred))``; ties with the k-th score count as in."""
    y_pred = to_float_array(y_pred)
    return _in_top_k_matches(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """``float(y_true in top-k(y_pred))`` for integer labels.

    With ``from_sorted_ids=True``, ``y_pred`` already holds the ids of the best categories, best
    first, and the test is ``y_true in y_pred[:, :k]``.
    """
    y_pred = to_float_array(y_pred) if not from_sorted_ids else np.asarray(y_pred)
    if from_sorted_ids:
        y_true = np.asarray(y_true).astype(y_pred.dtype)
        true_shape = y_true.shape
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1])
        matches = np.any(y_true[:, None] == y_pred[:, :k], axis=1)
        return matches.astype(backend.floatx()).reshape(true_shape)
    return _in_top_k_matches(np.asarray(y_true).astype(np.int32), y_pred, k)


def _in_top_k_matches(targets, y_pred, k):
    """``in_top_k`` for any leading shape; the matches take the targets' shape."""
    matches = in_top_k(targets.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return matches.astype(backend.floatx()).reshape(targets.shape)


class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly (``keras.metrics.get('accuracy')``)."""

    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``(y_pred > threshold)`` matches the 0/1 label (strict ``>``)."""

    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of ``y_pred`` matches the one-hot label's argmax."""

    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of ``y_pred`` equals the integer label."""

    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the ``k`` highest scores."""

    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest scores."""

    _direction = "up"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
