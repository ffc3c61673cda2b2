"""Label and feature helpers: ``to_categorical`` and ``normalize``."""

import numpy as np


def to_categorical(x, num_classes=None):
    """Integer class labels ``(n,)`` as one-hot rows ``(n, num_classes)`` of 0s and 1s (float64,
    as Keras returns them; ``fit`` converts labels to float32).

    A trailing axis of size 1 is dropped first, so ``(n, 1)`` labels also give ``(n, C)``.
    """
    x = np.asarray(x, dtype="int64")
    shape = x.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if x.size and x.min() < 0:
        raise ValueError(f"to_categorical expects non-negative class labels, got {x.min()}.")
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    elif x.size and x.max() >= num_classes:
        raise ValueError(f"Label {x.max()} is out of range for num_classes={num_classes}.")
    categorical = np.zeros((x.size, num_classes))
    categorical[np.arange(x.size), x] = 1
    return categorical.reshape((*shape, num_classes))


def normalize(x, axis=-1, order=2):
    """Scale ``x`` to unit ``order``-norm along ``axis`` (rows of zeros stay zero)."""
    x = np.asarray(x)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)
