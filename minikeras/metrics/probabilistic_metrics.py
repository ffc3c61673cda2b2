"""Probabilistic metrics: running means of crossentropies, KL divergence and Poisson deviance.

The logits hook (Keras's TF-backend shortcut, see keras-facts 1.3): when ``y_pred`` carries a
non-None ``_keras_logits`` attribute (set by ``sigmoid``/``softmax`` on their output), the three
crossentropies ignore the probabilities and use those pre-activation logits with the stable logits
formula, as if ``from_logits=True``. Plain arrays (e.g. ``predict()`` output) take the clipped
probability path.
"""

import warnings

import numpy as np

from minikeras import backend
from minikeras.metrics.metrics_utils import squeeze_or_expand_to_same_rank, to_float_array
from minikeras.metrics.reduction_metrics import MeanMetricWrapper


def _use_keras_logits(y_pred, from_logits, fn_name):
    """``(logits, True)`` if ``y_pred`` remembers the logits it came from, else unchanged."""
    logits = getattr(y_pred, "_keras_logits", None)
    if logits is None:
        return y_pred, from_logits
    if from_logits:
        warnings.warn(
            f'"`{fn_name}` received `from_logits=True`, but the `output` argument was produced '
            "by a sigmoid or softmax activation and thus does not represent logits. Was this "
            'intended?"', stacklevel=3)
    return logits, True


def _check_same_shape(y_true, y_pred):
    if y_true.ndim != y_pred.ndim:
        raise ValueError(
            "Arguments `target` and `output` must have the same rank (ndim). Received: "
            f"target.shape={y_true.shape}, output.shape={y_pred.shape}")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={y_true.shape}, output.shape={y_pred.shape}")


def _log_softmax(z, axis):
    """``z - logsumexp(z)``, shifted by the max so nothing overflows."""
    z = z - np.max(z, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``mean(-[y·log p + (1-y)·log(1-p)])`` over ``axis``, y smoothed to ``y(1-ls) + ls/2``.

    Probabilities are clipped to ``[ε, 1-ε]`` (1-ε rounded in the input's float type: 0.99999988 in
    float32). Logits use ``max(z, 0) - z·y + log1p(exp(-|z|))``. The shapes must match.
    """
    y_pred, from_logits = _use_keras_logits(y_pred, from_logits, "binary_crossentropy")
    y_pred = to_float_array(y_pred)
    y_true = to_float_array(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    _check_same_shape(y_true, y_pred)
    if from_logits:
        z = y_pred
        bce = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
    else:
        epsilon = backend.epsilon()
        p = np.clip(y_pred, epsilon, 1.0 - epsilon)
        bce = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    return np.mean(bce, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``-Σ y·log q`` over ``axis``, y smoothed to ``y(1-ls) + ls/C``.

    Probabilities are renormalised and clipped: ``q = clip(p / Σp, ε, 1-ε)``. Logits use
    ``q = softmax(z)`` in log space (``log_softmax``). The shapes must match.
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type "
                         f"{type(axis)}")
    y_pred, from_logits = _use_keras_logits(y_pred, from_logits, "categorical_crossentropy")
    y_pred = to_float_array(y_pred)
    y_true = to_float_array(y_true, y_pred.dtype)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "In loss categorical_crossentropy, expected y_pred.shape to be (batch_size, "
            f"num_classes) with num_classes > 1. Received: y_pred.shape={y_pred.shape}. Consider "
            "using 'binary_crossentropy' if you only have 2 classes.", SyntaxWarning, stacklevel=2)
    if label_smoothing:
        num_classes = y_true.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    _check_same_shape(y_true, y_pred)
    if from_logits:
        return -np.sum(y_true * _log_softmax(y_pred, axis), axis=axis)
    epsilon = backend.epsilon()
    with np.errstate(invalid="ignore", divide="ignore"):  # all-zero rows give NaN, as in Keras
        q = y_pred / np.sum(y_pred, axis=axis, keepdims=True)
    q = np.clip(q, epsilon, 1.0 - epsilon)
    return -np.sum(y_true * np.log(q), axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """``-log q[y]`` for integer labels ``y`` of shape ``(N,)`` or ``(N, 1)``.

    Probabilities: ``r = clip(p, ε, 1-ε)``, ``q[y] = r[y] / Σr`` (implicit renormalisation).
    Logits: ``q = softmax(z)``. Positions whose label is ``ignore_class`` get 0.
    """
    y_pred, from_logits = _use_keras_logits(y_pred, from_logits,
                                            "sparse_categorical_crossentropy")
    y_pred = to_float_array(y_pred)
    y_true = np.asarray(y_true)
    if axis not in (-1, y_pred.ndim - 1):
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = np.squeeze(y_true, -1)
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(
            "Argument `output` must have rank (ndim) `target.ndim - 1` and the same shape up "
            f"until the last dimension. Received: target.shape={y_true.shape}, "
            f"output.shape={y_pred.shape}")
    valid = np.ones(y_true.shape, dtype=bool) if ignore_class is None else y_true != ignore_class
    labels = np.where(valid, y_true, 0).astype(np.int64)
    num_classes = y_pred.shape[-1]
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ValueError(f"Received a label value of {bad[0]} which is outside the valid range "
                         f"of [0, {num_classes}). Label values: {y_true.ravel().tolist()}")
    y_pred = np.where(valid[..., None], y_pred, 0)
    if not from_logits:
        epsilon = backend.epsilon()
        y_pred = np.log(np.clip(y_pred, epsilon, 1 - epsilon))
    log_q = np.take_along_axis(_log_softmax(y_pred, -1), labels[..., None], axis=-1)[..., 0]
    return np.where(valid, -log_q, 0)


def kl_divergence(y_true, y_pred):
    """``Σ y·log(y / p)`` over the last axis, with y and p clipped to ``[ε, 1]``."""
    y_pred = to_float_array(y_pred)
    y_true = to_float_array(y_true, y_pred.dtype)
    epsilon = backend.epsilon()
    y_true = np.clip(y_true, epsilon, 1)
    y_pred = np.clip(y_pred, epsilon, 1)
    return np.sum(y_true * np.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """``mean(p - y·log(p + ε))`` over the last axis."""
    y_pred = to_float_array(y_pred)
    y_true = to_float_array(y_true, y_pred.dtype)
    return np.mean(y_pred - y_true * np.log(y_pred + backend.epsilon()), axis=-1)


class KLDivergence(MeanMetricWrapper):
    """Running mean of ``Σ y·log(y / p)`` (both clipped to ``[ε, 1]``)."""

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(fn=kl_divergence, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class Poisson(MeanMetricWrapper):
    """Running mean of ``mean(p - y·log(p + ε))``."""

    def __init__(self, name="poisson", dtype=None):
        super().__init__(fn=poisson, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryCrossentropy(MeanMetricWrapper):
    """Running mean of ``binary_crossentropy``; honours the ``_keras_logits`` hook (module doc)."""

    _direction = "down"

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(binary_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    """Running mean of ``categorical_crossentropy`` (one-hot labels); honours the logits hook."""

    _direction = "down"

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(categorical_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Running mean of ``sparse_categorical_crossentropy`` (integer labels); honours the hook.

    With ``ignore_class``, ignored positions count as 0 in the mean, unless a ``sample_weight`` is
    given: then they are left out (their weight becomes 0). This is Keras's behaviour.
    """

    _direction = "down"

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.ignore_class is not None and sample_weight is not None:
            labels = np.asarray(y_true)
            if labels.ndim == np.ndim(y_pred) and labels.shape[-1] == 1:
                labels = np.squeeze(labels, -1)
            valid = (labels != self.ignore_class).astype(self.dtype)
            valid, sample_weight = squeeze_or_expand_to_same_rank(
                valid, to_float_array(sample_weight, self.dtype))
            sample_weight = sample_weight * valid
        return super().update_state(y_true, y_pred, sample_weight=sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis}
