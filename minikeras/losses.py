"""Losses (``keras.losses``): a number that says how wrong the predictions are.

Every loss exists twice, as in Keras: a function that returns one value per sample
(``mean_squared_error(y_true, y_pred)``: the last axis is reduced), and a class whose instances
are called the way ``fit`` calls them, ``loss(y_true, y_pred, sample_weight=None)``:

1. both inputs become tensors of the loss dtype (``floatx``, float32);
2. ``call`` matches their ranks (``(N,)`` labels against ``(N, 1)`` predictions) and runs the
   function, giving per-sample values;
3. sample weights (and the mask of ``ignore_class``) multiply the values;
4. the values are reduced, by default to ``Σ w·l / size(l)`` ("sum_over_batch_size").

Everything is computed with ``minikeras.ops``, so a ``GradientTape`` differentiates the loss with
respect to ``y_pred`` and, through the model, its weights.

The cross-entropies use the logits when they can: a tensor produced by ``ops.sigmoid`` or
``ops.softmax`` remembers its input as ``_keras_logits``, and binary, categorical and sparse
categorical cross-entropy then compute from those logits (the stable formula, no clipping), as
Keras's TensorFlow backend does. A plain NumPy array (``model.predict`` output) takes the clipped
probability path, so a saturated sigmoid gives 50.0 in one case and 15.942385 in the other.
"""

import inspect
import warnings

import numpy as np

from minikeras import backend, ops
from minikeras.quiet import quietly
from minikeras.saving import serialization
from minikeras.tensor import ArrayLike, Tensor

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# --- masks ------------------------------------------------------------------------------------
# Keras keeps a mask on a tensor as ``tensor._keras_mask``; so does minikeras (a Tensor slot).


def set_keras_mask(x, mask):
    """Attach a boolean ``mask`` to the tensor ``x`` (True = counts in the loss)."""
    x._keras_mask = mask


def get_keras_mask(x):
    """The mask attached to ``x``, or None (NumPy arrays and Variables carry none)."""
    return getattr(x, "_keras_mask", None)


# --- the Loss base class ----------------------------------------------------------------------


class Loss:
    """Base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample losses.

    ``reduction``: "sum_over_batch_size" (default) and "mean" give Σ w·l / size(l); "sum" gives
    Σ w·l; "mean_with_sample_weight" gives Σ w·l / Σ w; None or "none" return the values.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or backend.unique_name(backend.to_snake_case(type(self).__name__))
        self.reduction = standardize_reduction(reduction)
        self._dtype = backend.standardize_dtype(dtype or backend.floatx())

    @property
    def dtype(self):
        return self._dtype

    @quietly
    def __call__(self, y_true, y_pred, sample_weight=None):
        dtype = self._dtype
        in_mask = getattr(y_pred, "_keras_mask", None)
        y_pred = _convert(y_pred, dtype)
        y_true = _convert(y_true, dtype)
        losses = self.call(y_true, y_pred)
        out_mask = getattr(losses, "_keras_mask", None)
        if in_mask is not None and out_mask is not None:
            mask = np.logical_and(in_mask, out_mask)
        else:
            mask = out_mask if in_mask is None else in_mask
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask,
                                      reduction=self.reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def standardize_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of "
                         f"{set(REDUCTIONS)}. Received: reduction={reduction}")
    return reduction


def _convert(x, dtype):
    """``x`` as a tensor of ``dtype``; a tensor that already is one is returned unchanged (so it
    keeps its ``_keras_logits``)."""
    if isinstance(x, ArrayLike):
        if backend.dtype_name(x._value.dtype) == dtype:
            return x
    elif type(x) is np.ndarray and backend.dtype_name(x.dtype) == dtype:  # e.g. float32 labels
        return Tensor(x)
    return ops.convert_to_tensor(x, dtype=dtype)


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """If the ranks differ by one and the longer shape ends in 1: expand a rank-1 partner to
    ``(N, 1)``, otherwise squeeze that last axis. So labels ``(N,)`` meet predictions ``(N, 1)``
    as ``(N, 1)`` and ``(N, 1)``, never broadcast to ``(N, N)``."""
    x1_rank, x2_rank = len(x1.shape), len(x2.shape)
    if x1_rank == x2_rank + 1 and x1.shape[-1] == 1:
        if x2_rank == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, axis=-1)
        else:
            x1 = ops.squeeze(x1, axis=-1)
    if x2_rank == x1_rank + 1 and x2.shape[-1] == 1:
        if x1_rank == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, axis=-1)
        else:
            x2 = ops.squeeze(x2, axis=-1)
    return x1, x2


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None):
    """Multiply in the sample weights (and mask weights), then reduce."""
    reduction = standardize_reduction(reduction)
    values = _convert(values, dtype or ops.dtype(values))
    if sample_weight is not None:
        sample_weight = _convert(sample_weight, values.dtype)
    if mask is not None:
        sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


def apply_mask(sample_weight, mask, dtype, reduction):
    """Fold a boolean mask into the sample weights.

    For "sum_over_batch_size"/"mean" a valid entry weighs total/valid, so Σ(w·l·total/valid)/total
    is the mean over the valid entries only; for the other reductions the mask weighs 0 or 1.
    """
    if mask is None:
        return sample_weight
    mask = np.asarray(mask, dtype=bool)
    if reduction in ("mean", "sum_over_batch_size"):
        valid = np.sum(mask, dtype=dtype)
        mask_weight = np.asarray(mask.size, dtype) / valid if valid else np.zeros((), dtype)
        float_mask = ops.convert_to_tensor(np.where(mask, mask_weight, 0).astype(dtype))
    else:
        float_mask = ops.convert_to_tensor(mask, dtype=dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Σ values, divided by their number of elements or by Σ sample_weight (0 when that is 0)."""
    if reduction in (None, "none") or tuple(values.shape) in ((), (0,)):
        return values
    if sample_weight is None and reduction in ("sum_over_batch_size", "mean") and values.size:
        return ops.mean(values)  # Σ values / size, as one op
    loss = ops.sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = ops.sum(sample_weight)
        is_zero = ops.equal(divisor, 0)
        return ops.where(is_zero, 0.0, loss / ops.where(is_zero, 1.0, divisor))
    size = int(np.prod(values.shape))
    return loss / size if size else loss


# --- wrapping a per-sample function into a Loss -----------------------------------------------


class LossFunctionWrapper(Loss):
    """A ``Loss`` that calls ``fn(y_true, y_pred, **kwargs)`` after matching the ranks."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), "fn": serialize(self.fn), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        if "fn" in config:
            config = {**config, "fn": deserialize(config["fn"])}
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


class _PerSampleLoss(LossFunctionWrapper):
    """A built-in loss class around one of the per-sample functions below: its config is its
    name and reduction only, as Keras writes it (the function is implied by the class)."""

    def get_config(self):
        return Loss.get_config(self)


class MeanSquaredError(_PerSampleLoss):
    """mean((y_true - y_pred)²) over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsoluteError(_PerSampleLoss):
    """mean(|y_true - y_pred|) over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsolutePercentageError(_PerSampleLoss):
    """100 · mean(|(y_true - y_pred) / max(|y_true|, ε)|) over the last axis."""

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction,
                         dtype=dtype)


class MeanSquaredLogarithmicError(_PerSampleLoss):
    """mean((log(max(y_pred, ε) + 1) - log(max(y_true, ε) + 1))²) over the last axis."""

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction,
                         dtype=dtype)


class CosineSimilarity(_PerSampleLoss):
    """-Σ ŷ_true · ŷ_pred over ``axis``, with x̂ = x / max(‖x‖, ε): from -1 (same direction)
    to 1. (Keras's config does not record ``axis``; neither does this one.)"""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype,
                         axis=axis)


class Huber(_PerSampleLoss):
    """mean(0.5 e² if |e| ≤ δ else δ|e| - 0.5 δ²) with e = y_pred - y_true. (Keras's config does
    not record ``delta``; neither does this one.)"""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)


class LogCosh(_PerSampleLoss):
    """mean(log(cosh(y_pred - y_true))) over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)


class Hinge(_PerSampleLoss):
    """mean(max(1 - y_true · y_pred, 0)); labels in {0, 1} are first mapped to {-1, 1}."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)


class SquaredHinge(_PerSampleLoss):
    """mean(max(1 - y_true · y_pred, 0)²); labels in {0, 1} are first mapped to {-1, 1}."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)


class CategoricalHinge(_PerSampleLoss):
    """max(max((1 - y_true) · y_pred) - Σ y_true · y_pred + 1, 0)."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)


class KLDivergence(_PerSampleLoss):
    """Σ y_true · log(y_true / y_pred), both clipped to [ε, 1]."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)


class Poisson(_PerSampleLoss):
    """mean(y_pred - y_true · log(y_pred + ε)) over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """mean(-[y log p + (1 - y) log(1 - p)]) over ``axis``, with y smoothed to
    y(1 - ls) + 0.5 ls; from logits z: mean(max(z, 0) - z·y + log(1 + e^-|z|))."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """mean((1 - p_t)^γ · BCE) with p_t = y·p + (1 - y)(1 - p), optionally weighted by
    α (positives) and 1 - α (negatives) when ``apply_class_balancing``."""

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(binary_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis,
                "apply_class_balancing": self.apply_class_balancing, "alpha": self.alpha,
                "gamma": self.gamma}


class CategoricalCrossentropy(LossFunctionWrapper):
    """-Σ y log q over ``axis`` with one-hot (or soft) labels smoothed to y(1 - ls) + ls/C;
    q = p / Σp clipped to [ε, 1 - ε], or q = softmax(z) from logits."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """-log q[label] for integer labels ``(N,)`` or ``(N, 1)``; labels equal to ``ignore_class``
    count neither in the sum nor in the number of samples."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """-Σ α·(1 - q)^γ·y·log q over ``axis``, with q = p / Σp clipped to [ε, 1 - ε] (from logits:
    p = softmax(z)) and y smoothed to y(1 - ls) + ls/C."""

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(categorical_focal_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.alpha = alpha
        self.gamma = gamma

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis, "alpha": self.alpha,
                "gamma": self.gamma}


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """(1 - p_y^q) / q for integer labels y, p_y the predicted probability of the label: a
    noise-robust cross-entropy (q → 0 gives -log p_y, q = 1 gives 1 - p_y, the MAE)."""

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError("q must be in the interval (0, 1)")
        super().__init__(categorical_generalized_cross_entropy, name=name, reduction=reduction,
                         dtype=dtype, q=q)
        self.q = q

    def get_config(self):
        return {**Loss.get_config(self), "q": self.q}


class Dice(LossFunctionWrapper):
    """1 - 2·Σ y·p / (Σ y + Σ p + ε), the sums over ``axis`` (None: the whole batch, one value)."""

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "axis": self.axis}


class Tversky(LossFunctionWrapper):
    """1 - TP / (TP + α·FP + β·FN + ε) with TP = Σ y·p, FP = Σ (1 - p)·y, FN = Σ p·(1 - y) over
    ``axis`` (Keras's naming; α = β = 0.5 is the Dice loss)."""

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha,
                         beta=beta, axis=axis)
        self.alpha = alpha
        self.beta = beta
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "alpha": self.alpha, "beta": self.beta,
                "axis": self.axis}


class Circle(LossFunctionWrapper):
    """The circle loss of unit-norm embeddings ``y_pred`` with integer labels ``y_true`` (see the
    function ``circle``); samples whose loss is 0 are left out of the mean."""

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(circle, name=name, reduction=reduction, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal)
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def get_config(self):
        return {**Loss.get_config(self), "gamma": self.gamma, "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}


class CTC(LossFunctionWrapper):
    """Connectionist temporal classification: -log p(y_true | y_pred) per sample (see
    ``minikeras/ops/ctc.py``). ``y_true``: ``(batch, max_label_length)`` integer labels, 0 is the
    blank and pads; ``y_pred``: ``(batch, time, num_classes)`` logits (not softmax)."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


# --- the per-sample functions -----------------------------------------------------------------


def _pair(y_true, y_pred, same_rank=False):
    """``y_pred`` as a tensor and ``y_true`` in its dtype; with ``same_rank``, also squeezed or
    expanded to matching ranks."""
    if not isinstance(y_pred, ArrayLike):
        y_pred = ops.convert_to_tensor(y_pred)
    y_true = _convert(y_true, backend.dtype_name(y_pred._value.dtype))
    if same_rank:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return y_true, y_pred


@quietly
def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)²) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, same_rank=True)
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


@quietly
def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, same_rank=True)
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


@quietly
def mean_absolute_percentage_error(y_true, y_pred):
    """100 · mean(|(y_true - y_pred) / max(|y_true|, ε)|) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, same_rank=True)
    diff = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), backend.epsilon()))
    return 100.0 * ops.mean(diff, axis=-1)


@quietly
def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, ε) + 1) - log(max(y_true, ε) + 1))²) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, same_rank=True)
    first_log = ops.log(ops.maximum(y_pred, backend.epsilon()) + 1.0)
    second_log = ops.log(ops.maximum(y_true, backend.epsilon()) + 1.0)
    return ops.mean(ops.square(first_log - second_log), axis=-1)


def _l2_normalize(x, axis):
    """x / max(‖x‖, ε) (Keras writes it x · min(1/√Σx², 1/ε)), as x / √max(Σx², ε²) so that a
    zero vector never divides by zero."""
    square_sum = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return x / ops.sqrt(ops.maximum(square_sum, backend.epsilon() ** 2))


@quietly
def cosine_similarity(y_true, y_pred, axis=-1):
    """-Σ ŷ_true · ŷ_pred over ``axis``, with x̂ = x / max(‖x‖, ε)."""
    y_true, y_pred = _pair(y_true, y_pred, same_rank=True)
    return -ops.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


@quietly
def huber(y_true, y_pred, delta=1.0):
    """mean(0.5 e² if |e| ≤ δ else δ|e| - 0.5 δ²) with e = y_pred - y_true.

    Computed as 0.5 q² + δ(|e| - q) with q = min(|e|, δ): the same value, but e² is never
    formed for large errors (where it would overflow although it is not used).
    """
    y_true, y_pred = _pair(y_true, y_pred, same_rank=True)
    delta = np.asarray(delta, dtype=ops.dtype(y_pred))
    abs_error = ops.abs(y_pred - y_true)
    quadratic = ops.minimum(abs_error, delta)
    return ops.mean(0.5 * ops.square(quadratic) + delta * (abs_error - quadratic), axis=-1)


@quietly
def log_cosh(y_true, y_pred):
    """mean(log cosh e) with e = y_pred - y_true, computed as e + softplus(-2e) - log 2."""
    y_true, y_pred = _pair(y_true, y_pred, same_rank=True)
    error = y_pred - y_true
    log2 = np.log(np.asarray(2.0, dtype=ops.dtype(y_pred)))
    return ops.mean(error + ops.softplus(error * -2.0) - log2, axis=-1)


def _convert_binary_labels_to_hinge(y_true):
    """Labels that are all 0 or 1 (the whole tensor) become -1 or 1; others stay as they are."""
    labels = ops.convert_to_numpy(y_true)
    if np.all((labels == 0) | (labels == 1)):
        return 2.0 * y_true - 1.0
    return y_true


@quietly
def hinge(y_true, y_pred):
    """mean(max(1 - y_true · y_pred, 0)) over the last axis, labels in {-1, 1} (or {0, 1})."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _convert_binary_labels_to_hinge(y_true)
    return ops.mean(ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


@quietly
def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true · y_pred, 0)²) over the last axis, labels in {-1, 1} (or {0, 1})."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _convert_binary_labels_to_hinge(y_true)
    return ops.mean(ops.square(ops.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


@quietly
def categorical_hinge(y_true, y_pred):
    """max(neg - pos + 1, 0) with pos = Σ y_true · y_pred, neg = max((1 - y_true) · y_pred)."""
    y_true, y_pred = _pair(y_true, y_pred)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


@quietly
def kl_divergence(y_true, y_pred):
    """Σ y_true · log(y_true / y_pred) over the last axis, both clipped to [ε, 1]."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = ops.clip(y_true, backend.epsilon(), 1)
    y_pred = ops.clip(y_pred, backend.epsilon(), 1)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


@quietly
def poisson(y_true, y_pred):
    """mean(y_pred - y_true · log(y_pred + ε)) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + backend.epsilon()), axis=-1)


# --- cross-entropies --------------------------------------------------------------------------


def _get_logits(output, from_logits, activation, fn_name):
    """The logits behind a sigmoid/softmax output (and from_logits=True), else the output itself.

    Keras's TensorFlow backend does this: it is what makes ``BinaryCrossentropy()(y, model(x))``
    exact for a saturated sigmoid, where the probability has rounded to 1.
    """
    logits = getattr(output, "_keras_logits", None)
    if logits is None:
        return output, from_logits
    if from_logits:
        warnings.warn(f'"`{fn_name}` received `from_logits=True`, but the `output` argument was '
                      f"produced by a {activation} activation and thus does not represent "
                      "logits. Was this intended?", stacklevel=4)
    return logits, True


def _check_same_shape(target, output, at_least_rank_1=False):
    target_shape, output_shape = tuple(target.shape), tuple(output.shape)
    if target_shape == output_shape and (target_shape or not at_least_rank_1):
        return
    if at_least_rank_1 and not target_shape:
        problem = "must be at least rank 1"
    elif len(target_shape) != len(output_shape):
        problem = "must have the same rank (ndim)"
    else:
        problem = "must have the same shape"
    raise ValueError(f"Arguments `target` and `output` {problem}. Received: "
                     f"target.shape={target_shape}, output.shape={output_shape}")


def _binary_crossentropy(target, output, from_logits):
    """Elementwise BCE, from the logits whenever ``output`` came out of a sigmoid."""
    _check_same_shape(target, output)
    output, from_logits = _get_logits(output, from_logits, "Sigmoid", "binary_crossentropy")
    return ops.binary_crossentropy(target, output, from_logits=from_logits)


@quietly
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean(-[y log p + (1 - y) log(1 - p)]) over ``axis``; y smoothed to y(1 - ls) + 0.5 ls.

    p is clipped to [ε, 1 - ε]; from logits z: max(z, 0) - z·y + log(1 + e^-|z|), unclipped.
    y_true and y_pred must have the same shape.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return ops.mean(_binary_crossentropy(y_true, y_pred, from_logits), axis=axis)


@quietly
def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """mean((1 - p_t)^γ · BCE) over ``axis``, p_t = y·p + (1 - y)(1 - p); with class balancing
    each term is also weighted by α·y + (1 - α)(1 - y)."""
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = _binary_crossentropy(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal_bce = ops.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal_bce
    return ops.mean(focal_bce, axis=axis)


@quietly
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-Σ y log q over ``axis``; y smoothed to y(1 - ls) + ls/C.

    q = p / Σp clipped to [ε, 1 - ε]; from logits z: q = softmax(z), unclipped. y_true must be
    one-hot (or soft) labels of y_pred's shape: integer labels need the sparse version.
    """
    y_true, y_pred = _categorical_pair(y_true, y_pred, axis, label_smoothing,
                                       "categorical_crossentropy")
    _check_same_shape(y_true, y_pred, at_least_rank_1=True)
    y_pred, from_logits = _get_logits(y_pred, from_logits, "Softmax", "categorical_crossentropy")
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def _categorical_pair(y_true, y_pred, axis, label_smoothing, fn_name):
    """The checks and label smoothing shared by the categorical cross-entropies: ``axis`` must
    be an int, one class only warns, y becomes y(1 - ls) + ls/C."""
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type "
                         f"{type(axis)}")
    y_true, y_pred = _pair(y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn(f"In loss {fn_name}, expected y_pred.shape to be (batch_size, num_classes) "
                      f"with num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. "
                      "Consider using 'binary_crossentropy' if you only have 2 classes.",
                      SyntaxWarning, stacklevel=3)
    if label_smoothing:
        num_classes = np.asarray(y_true.shape[-1], dtype=ops.dtype(y_pred))
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return y_true, y_pred


@quietly
def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """-Σ α·(1 - q)^γ·y·log q over ``axis``; y smoothed to y(1 - ls) + ls/C.

    q = p / Σp clipped to [ε, 1 - ε], where p = softmax(z) from logits (Keras applies the softmax
    and then the clip here, unlike categorical_crossentropy's unclipped log_softmax).
    """
    y_true, y_pred = _categorical_pair(y_true, y_pred, axis, label_smoothing,
                                       "categorical_focal_crossentropy")
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    output = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
    output = ops.clip(output, backend.epsilon(), 1.0 - backend.epsilon())
    cce = -y_true * ops.log(output)
    focal_cce = ops.power(1.0 - output, gamma) * alpha * cce
    return ops.sum(focal_cce, axis=axis)


@quietly
def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p_y^q) / q, with p_y = y_pred[label] for integer labels of shape y_pred.shape[:-1]."""
    y_pred = ops.convert_to_tensor(y_pred)
    labels = ops.convert_to_numpy(y_true).astype(np.int32)
    one_hot = ops.one_hot(labels, y_pred.shape[-1], dtype=ops.dtype(y_pred))
    p = ops.sum(y_pred * one_hot, axis=-1)
    return (1 - ops.power(p, q)) / q


@quietly
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """-log q[label] for integer labels of shape y_pred.shape[:-1] (or with a trailing 1).

    q = p clipped to [ε, 1 - ε] and renormalised, or softmax(z) from logits. Entries whose label
    is ``ignore_class`` get loss 0 and a mask, so a ``Loss`` averages over the others only.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[axis] == 1:
        y_true = ops.squeeze(y_true, axis=axis)
    if ignore_class is not None:
        valid_mask = ops.convert_to_numpy(y_true) != np.asarray(ignore_class, ops.dtype(y_pred))
        y_true = ops.where(valid_mask, y_true, 0)
        y_pred = ops.where(np.expand_dims(valid_mask, axis), y_pred, 0.0)
    y_pred, from_logits = _get_logits(y_pred, from_logits, "Softmax",
                                      "sparse_categorical_crossentropy")
    _check_sparse_labels(y_true, y_pred)
    res = ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)
    if ignore_class is not None:
        res = ops.where(valid_mask, res, 0.0)
        set_keras_mask(res, valid_mask)
    return res


def _check_sparse_labels(target, output):
    target_shape, output_shape = tuple(target.shape), tuple(output.shape)
    if not output_shape:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: "
                         f"output.shape={output_shape}")
    if target_shape != output_shape[:-1]:
        problem = ("Argument `output` must have rank (ndim) `target.ndim - 1`. Received:"
                   if len(target_shape) != len(output_shape) - 1 else
                   "Arguments `target` and `output` must have the same shape up until the last "
                   "dimension:")
        raise ValueError(f"{problem} target.shape={target_shape}, output.shape={output_shape}")
    labels = ops.convert_to_numpy(target).astype(np.int64, copy=False)
    num_classes = output_shape[-1]
    if labels.size and (np.minimum.reduce(labels, axis=None) < 0
                        or np.maximum.reduce(labels, axis=None) >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        raise ValueError(f"Received a label value of {bad[0]} which is outside the valid range "
                         f"of [0, {num_classes}). Label values: {labels.ravel()[:10].tolist()}")


# --- segmentation and metric learning --------------------------------------------------------


@quietly
def dice(y_true, y_pred, axis=None):
    """1 - 2·Σ y·p / (Σ y + Σ p + ε), summed over ``axis`` (None: everything, one value)."""
    y_true, y_pred = _pair(y_true, y_pred)
    intersection = ops.sum(y_true * y_pred, axis=axis)
    union = ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis)
    return 1 - 2.0 * intersection / (union + backend.epsilon())


@quietly
def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 - TP / (TP + α·FP + β·FN + ε) over ``axis``, with Keras's TP = Σ y·p,
    FP = Σ (1 - p)·y and FN = Σ p·(1 - y)."""
    y_true, y_pred = _pair(y_true, y_pred)
    intersection = ops.sum(y_true * y_pred, axis=axis)
    fp = ops.sum((1 - y_pred) * y_true, axis=axis)
    fn = ops.sum(y_pred * (1 - y_true), axis=axis)
    return 1 - intersection / (intersection + fp * alpha + fn * beta + backend.epsilon())


@quietly
def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80,
           margin=0.4):
    """The circle loss (Sun et al., 2020) of unit-norm embeddings ``y_pred`` with labels ``y_true``.

    With the cosine distances d = max(1 - y_pred·refᵀ, 0) to the reference embeddings (default:
    the batch itself; ``remove_diagonal`` drops each sample's pair with itself):

        positives (same label):  s_p = -γ·max(m + d, 0)·(m - d)
        negatives:               s_n =  γ·max(1 + m - d, 0)·(1 - m - d)
        loss = softplus(logsumexp(s_p) + logsumexp(s_n))

    A sample with no positive (or no negative) gets loss 0; samples with loss 0 are masked out
    of the mean.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_numpy(y_true).astype(np.int32)
    ref_embeddings = y_pred if ref_embeddings is None else ops.convert_to_tensor(ref_embeddings)
    ref_labels = y_true if ref_labels is None else ops.convert_to_numpy(ref_labels).astype(np.int32)
    distances = ops.maximum(1 - ops.matmul(y_pred, ops.transpose(ref_embeddings)), 0.0)
    positive_mask = y_true.reshape(-1, 1) == ref_labels.reshape(1, -1)
    negative_mask = ~positive_mask
    if remove_diagonal:
        positive_mask &= ~np.eye(*positive_mask.shape, dtype=bool)
    pos_weights = ops.maximum((margin + distances) * positive_mask, 0.0)
    neg_weights = ops.maximum((1 + margin - distances) * negative_mask, 0.0)
    pos_wdists = -1 * gamma * pos_weights * (margin - distances)
    neg_wdists = gamma * neg_weights * (1 - margin - distances)
    loss = ops.softplus(_masked_logsumexp(pos_wdists, positive_mask)
                        + _masked_logsumexp(neg_wdists, negative_mask))
    set_keras_mask(loss, ops.convert_to_numpy(loss) > 0)
    return loss


@quietly
def ctc(y_true, y_pred):
    """CTC loss per sample, as Keras computes it: every sample uses all ``time`` frames of
    ``y_pred``, and its label length is the number of nonzero entries of ``y_true`` (0 is the blank
    and the padding; the first that many labels are read)."""
    if len(ops.shape(y_true)) != 2:
        raise ValueError(f"Targets `y_true` are expected to be a tensor of shape `(batch_size, "
                         f"max_length)` in integer format. Received: "
                         f"y_true.shape={ops.shape(y_true)}")
    if len(ops.shape(y_pred)) != 3:
        raise ValueError(f"Logits `y_pred` are expected to be a tensor of shape `(batch_size, "
                         f"max_length, num_classes)`. Received: y_pred.shape={ops.shape(y_pred)}")
    mask_index = 0
    batch, time = ops.shape(y_pred)[0], ops.shape(y_pred)[1]
    input_length = np.full((batch,), time, np.int32)
    label_length = np.sum(np.asarray(ops.convert_to_numpy(y_true)) != mask_index, axis=-1,
                          dtype=np.int32)
    return ops.ctc_loss(y_true, y_pred, label_length, input_length, mask_index=mask_index)


def _masked_logsumexp(x, mask):
    """logsumexp over axis 1 of the entries where ``mask`` holds; -inf for a row with none.

    Such a row is filled with its own (unused) values first, so that no log(0) is computed and
    no gradient reaches it.
    """
    any_valid = np.any(mask, axis=1)
    keep = mask | ~any_valid[:, None]
    row_lse = ops.logsumexp(ops.where(keep, x, -np.inf), axis=1)
    return ops.where(any_valid, row_lse, -np.inf)


# --- finding losses by name -------------------------------------------------------------------

ALL_OBJECTS = (
    Loss, LossFunctionWrapper,
    KLDivergence, Poisson, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, MeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, LogCosh, Huber,
    Hinge, SquaredHinge, CategoricalHinge, CategoricalFocalCrossentropy, Dice, Tversky, Circle,
    CTC, kl_divergence, poisson, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, sparse_categorical_crossentropy, mean_squared_error,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    cosine_similarity, log_cosh, huber, hinge, squared_hinge, categorical_hinge,
    categorical_focal_crossentropy, dice, tversky, circle, ctc,
)
# CategoricalGeneralizedCrossEntropy is public but, as in Keras, not found by name.
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "kld": kl_divergence, "KLD": kl_divergence,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
})


def get(identifier):
    """A loss from a name, a config dict, a function or a ``Loss``.

    Class names give a new instance with the defaults (``"BinaryCrossentropy"``); function names
    and the aliases ``bce mse mae mape msle kld`` (also upper case) give the function.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            raise ValueError(f"Could not interpret loss identifier: {identifier}. Valid names: "
                             f"{sorted(ALL_OBJECTS_DICT)}")
    else:
        obj = identifier
    if not callable(obj):
        raise ValueError(f"Could not interpret loss identifier: {identifier}")
    return obj() if inspect.isclass(obj) else obj


def serialize(loss):
    """A loss as Keras writes it in configs: a function by its (registered) name, a ``Loss`` by its
    config, a registered class with its module and ``"package>Name"``. ``LossFunctionWrapper``,
    which Keras does not export, keeps Keras's private module path."""
    config = serialization.serialize_keras_object(loss)
    if type(loss) is LossFunctionWrapper:
        config.update(module="keras.src.losses.losses", registered_name="LossFunctionWrapper")
    return config


def deserialize(name, custom_objects=None):
    """The loss that ``serialize`` described (built-in, registered or in ``custom_objects``), or
    one named as in ``get``."""
    return serialization.deserialize_keras_object(name, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT)
