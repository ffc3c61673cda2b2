"""Helpers shared by the metrics: array conversion, rank matching, and confusion-matrix counting.

Mirrors ``keras/src/metrics/metrics_utils.py``. Everything here works on plain NumPy arrays: metrics
never need gradients, so they never go through ``minikeras.ops`` or the tape.
"""

import numpy as np

from minikeras import backend

NEG_INF = -1e10  # the score given to entries outside the top k (Precision/Recall with top_k)


def to_float_array(x, dtype=None):
    """``x`` as a float ndarray, converted like ``ops.convert_to_tensor``.

    Float arrays (and minikeras tensors) keep their dtype; Python numbers and lists, and integer or
    boolean arrays, become ``dtype`` (default ``floatx()``).
    """
    array = np.asarray(x)
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if isinstance(x, (list, tuple, int, float)) or array.dtype.kind != "f":
        return array.astype(backend.floatx())
    return array


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Make ranks equal when they differ by one and the longer array ends in a dimension of 1.

    The rank-1 array is expanded to ``(N, 1)`` (if ``expand_rank_1``); otherwise the longer one is
    squeezed. So ``y (N,)`` against ``p (N, 1)`` never broadcasts to ``(N, N)``.
    """
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = np.expand_dims(x2, -1)
        else:
            x1 = np.squeeze(x1, -1)
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = np.expand_dims(x1, -1)
        else:
            x2 = np.squeeze(x2, -1)
    return x1, x2


def float_pair(y_true, y_pred):
    """``y_pred`` as a float array, ``y_true`` in its dtype, ranks matched (how Keras's
    regression and correlation functions prepare their inputs)."""
    y_pred = to_float_array(y_pred)
    y_true = to_float_array(y_true, y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def check_2d_inputs(class_name, y_true_shape, y_pred_shape):
    """The ``(batch_size, output_dim)`` check of the metrics whose state has one entry per
    output (R2Score, FBetaScore), with Keras's message."""
    if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
        raise ValueError(
            f"{class_name} expects 2D inputs with shape (batch_size, output_dim). Received input "
            f"shapes: y_pred.shape={tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}.")


def broadcast_weights(sample_weight, shape):
    """``np.broadcast_to`` with an error message that names ``sample_weight``."""
    try:
        return np.broadcast_to(sample_weight, shape)
    except ValueError:
        raise ValueError(
            f"`sample_weight` with shape {np.shape(sample_weight)} cannot be broadcast to the "
            f"shape of the values, {tuple(shape)}.") from None


def divide_no_nan(a, b):
    """``a / b``, and 0 where ``b == 0`` (``tf.math.divide_no_nan``)."""
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    out = np.zeros(a.shape, dtype=np.result_type(a, b))
    return np.divide(a, b, out=out, where=b != 0)


def in_top_k(targets, predictions, k):
    """``tf.math.in_top_k``: is each target among the ``k`` highest scores of its row?

    A target is in the top k when fewer than ``k`` classes score strictly higher, so classes tied
    with it never push it out. A row holding a non-finite score, or a target outside
    ``[0, num_classes)``, gives False.
    """
    targets = np.asarray(targets).astype(np.int64)
    num_classes = predictions.shape[-1]
    valid = (targets >= 0) & (targets < num_classes)
    rows = np.arange(len(targets))
    target_scores = predictions[rows, np.where(valid, targets, 0)]
    num_higher = np.sum(predictions > target_scores[:, None], axis=-1)
    finite = np.all(np.isfinite(predictions), axis=-1)
    return valid & finite & (num_higher < k)


# --- thresholds ---------------------------------------------------------------------------------
def to_list(x):
    """``[x]`` unless ``x`` is already a list (Keras's ``python_utils.to_list``)."""
    return x if isinstance(x, list) else [x]


def parse_init_thresholds(thresholds, default_threshold=0.5):
    """The thresholds as a list, each checked to lie in [0, 1]."""
    if thresholds is not None:
        invalid = [t for t in to_list(thresholds) if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds):
    """True for ``[0, 1/(n-1), ..., 1]`` (n >= 3, up to epsilon): then counting can use buckets."""
    num_thresholds = len(thresholds)
    if num_thresholds < 3:
        return False
    even = np.arange(num_thresholds, dtype=np.float32) / (num_thresholds - 1)
    return bool(np.allclose(thresholds, even, atol=backend.epsilon()))


def filter_top_k(x, k):
    """Keep the ``k`` largest scores of each row (ties: lowest index first); others -> -1e10."""
    top_k_idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros(x.shape, dtype=x.dtype)
    np.put_along_axis(mask, top_k_idx, 1, axis=-1)
    return x * mask + NEG_INF * (1 - mask)


# --- confusion matrix counts --------------------------------------------------------------------
def update_confusion_matrix_variables(variables_to_update, y_true, y_pred, thresholds, top_k=None,
                                      class_id=None, sample_weight=None, multi_label=False,
                                      label_weights=None, thresholds_distributed_evenly=False):
    """Add this batch's weighted counts to ``variables_to_update`` (keys ``"tp" "fp" "tn" "fn"``).

    A prediction is positive at threshold t when ``y_pred > t`` (strict); a label is positive when
    it is non-zero. Counts are per threshold, shape ``(len(thresholds),)``, or
    ``(len(thresholds), num_labels)`` when ``multi_label``.
    """
    dtype = next(iter(variables_to_update.values())).dtype
    y_true = to_float_array(y_true, dtype)
    y_pred = to_float_array(y_pred, dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = np.expand_dims(to_float_array(sample_weight, dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]

    # Counts are summed in float64 (then stored in the float32 variables), so that
    # TN = Σ negatives - FP and FN = Σ positives - TP leave no float32 residue.
    weights = np.ones(y_pred.shape)
    if sample_weight is not None:
        weights = weights * broadcast_weights(sample_weight, y_pred.shape)
    if label_weights is not None:
        weights = weights * broadcast_weights(np.asarray(label_weights, dtype), y_pred.shape)
    y_true = (y_true != 0).astype(np.float64)
    if not multi_label:
        y_true, y_pred, weights = y_true.ravel(), y_pred.ravel(), weights.ravel()

    if thresholds_distributed_evenly:
        tp, fp = _bucketed_positive_counts(y_true, y_pred, weights, thresholds)
    else:
        tp, fp = _thresholded_positive_counts(y_true, y_pred, weights, thresholds)
    counts = {
        "tp": tp,
        "fp": fp,
        "fn": np.sum(y_true * weights, axis=0) - tp,
        "tn": np.sum((1 - y_true) * weights, axis=0) - fp,
    }
    for key, variable in variables_to_update.items():
        variable.assign(variable.value + counts[key])


def _thresholded_positive_counts(y_true, y_pred, weights, thresholds):
    """tp[t] = Σ w·[y=1]·[p > t], fp[t] = Σ w·[y=0]·[p > t]: one comparison per threshold."""
    thresholds = np.asarray(thresholds, dtype=y_pred.dtype).reshape((-1,) + (1,) * y_pred.ndim)
    predicted_positive = y_pred[None] > thresholds  # (num_thresholds, *y_pred.shape)
    tp = np.sum(predicted_positive * (y_true * weights), axis=1)
    fp = np.sum(predicted_positive * ((1 - y_true) * weights), axis=1)
    return tp, fp


def _bucketed_positive_counts(y_true, y_pred, weights, thresholds):
    """The same counts for evenly spaced thresholds, in one pass (Keras's optimized path).

    Each prediction falls in bucket ``ceil(p·(T-1)) - 1`` (p clipped to [0, 1]): it is above
    thresholds 0..bucket. Summing the weights per bucket, then a reversed cumulative sum, gives
    every threshold's count. With the epsilon endpoints (AUC), p = 0 still counts at threshold 0.
    """
    num_thresholds = len(thresholds)
    y_pred = np.clip(y_pred, 0.0, 1.0)
    buckets = np.ceil(y_pred * y_pred.dtype.type(num_thresholds - 1)) - 1
    if thresholds[0] < 0.0 or thresholds[-1] > 1.0:  # epsilon endpoints
        buckets = np.maximum(buckets, 0)
    buckets = buckets.astype(np.int64)

    def counts_at_or_above(values):
        per_bucket = np.stack([_bucket_sum(buckets[:, j], values[:, j], num_thresholds)
                               for j in range(values.shape[1])], axis=1)
        return np.flip(np.cumsum(np.flip(per_bucket, 0), axis=0), 0)

    flat = y_pred.ndim == 1  # multi_label keeps one column per label
    if flat:
        buckets, y_true, weights = buckets[:, None], y_true[:, None], weights[:, None]
    tp = counts_at_or_above(y_true * weights)
    fp = counts_at_or_above((1 - y_true) * weights)
    return (tp[:, 0], fp[:, 0]) if flat else (tp, fp)


def _bucket_sum(buckets, values, num_buckets):
    """Sum of ``values`` per bucket index; negative indices are dropped (``segment_sum``)."""
    keep = buckets >= 0
    return np.bincount(buckets[keep], weights=values[keep], minlength=num_buckets)
