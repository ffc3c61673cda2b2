"""Turning integer indices into ``one_hot``, ``multi_hot``, ``count`` and ``tf_idf`` vectors
(Keras's ``utils.numerical_utils.encode_categorical_inputs`` with the TensorFlow backend)."""

import numpy as np


def encode_categorical_inputs(indices, output_mode, depth, dtype, count_weights=None,
                              idf_weights=None):
    """Encode ``indices`` (integers in ``[0, depth)``) over a new last axis of size ``depth``.

    - ``"int"``: the indices, cast to ``dtype``.
    - ``"one_hot"``: one vector per index: ``(..., 1) -> (..., depth)``, otherwise
      ``(...) -> (..., depth)``; out-of-range indices give all zeros (``tf.one_hot``).
    - ``"multi_hot"``: one vector per sample, 1 where any index of the sample's last axis
      points: ``(batch, n) -> (batch, depth)``; ``(n,) -> (depth,)`` is one sample.
    - ``"count"``: as multi_hot, but how many times each index occurs (each occurrence counted
      ``count_weights`` times, if given; the output then has their dtype).
    - ``"tf_idf"``: counts multiplied by ``idf_weights`` (output in their dtype).

    Indices outside ``[0, depth)`` are dropped, as TensorFlow's bincount drops them (lookups
    rely on this to drop the mask token). A scalar is one sample of one index.
    """
    indices = np.asarray(indices)
    if output_mode == "int":
        return indices.astype(dtype)
    if indices.ndim == 0:
        indices = indices[None]
    indices = indices.astype(np.int64)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        return (indices[..., None] == np.arange(depth)).astype(dtype)
    weights = None
    if count_weights is not None and output_mode == "count":
        weights = np.broadcast_to(np.asarray(count_weights), indices.shape)
        dtype = weights.dtype
    if output_mode == "count" and indices.ndim > 2:  # Keras sums one-hots over axis 1 here
        one_hot = (indices[..., None] == np.arange(depth)).astype(dtype)
        if weights is not None:
            one_hot = one_hot * weights[..., None]
        return one_hot.sum(axis=1).astype(dtype)
    rows = indices.reshape(-1, indices.shape[-1])
    valid = (rows >= 0) & (rows < depth)
    row_ids = np.broadcast_to(np.arange(rows.shape[0])[:, None], rows.shape)
    counts = np.zeros((rows.shape[0], depth), dtype=np.float64)
    np.add.at(counts, (row_ids[valid], rows[valid]), 1.0 if weights is None else
              weights.reshape(rows.shape)[valid])
    if output_mode == "multi_hot":
        counts = np.minimum(counts, 1.0)
    counts = counts.reshape(indices.shape[:-1] + (depth,))
    if output_mode == "tf_idf":
        idf_weights = np.asarray(idf_weights)
        return counts.astype(idf_weights.dtype) * idf_weights
    return counts.astype(dtype)
