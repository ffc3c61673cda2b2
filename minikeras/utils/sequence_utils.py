"""Sequences of different lengths in one array (``keras.utils.pad_sequences``), and the
``(x, y, sample_weight)`` tuples that ``fit`` reads from generators and PyDatasets."""

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """A ``(len(sequences), maxlen)`` array: each sequence padded with ``value`` (before it,
    ``padding="pre"``, or after it, ``"post"``) and cut to ``maxlen`` (dropping its first items,
    ``truncating="pre"``, or its last, ``"post"``). ``maxlen`` defaults to the longest length.

    ``pad_sequences([[1], [2, 3], [4, 5, 6]])`` -> ``[[0, 0, 1], [0, 2, 3], [4, 5, 6]]``.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    lengths, item_shape = [], None
    for s in sequences:
        if not hasattr(s, "__len__"):
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {s}")
        lengths.append(len(s))
        if item_shape is None and len(s):
            item_shape = np.asarray(s).shape[1:]  # items may be vectors: (steps, features)
    item_shape = item_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    if isinstance(value, str) and dtype is not object and np.dtype(dtype).kind not in "SU":
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}"
                         f"\nYou should set `dtype=object` for variable length strings.")
    padded = np.full((len(sequences), maxlen, *item_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != item_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position {i} is "
                             f"different from expected shape {item_shape}")
        if padding == "post":
            padded[i, :len(kept)] = kept
        else:
            padded[i, -len(kept):] = kept
    return padded


def unpack_x_y_sample_weight(data):
    """``x``, ``(x,)``, ``(x, y)`` or ``(x, y, w)`` as the triple ``(x, y, w)`` (None if absent)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) in (1, 2, 3):
        return (*data, None, None)[:3]
    raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found: {data}")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The shortest tuple for ``(x, y, sample_weight)``: ``x`` alone stays ``(x,)`` if it is a
    tuple or list, else ``x``."""
    if y is None:
        return (x,) if isinstance(x, tuple | list) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)
