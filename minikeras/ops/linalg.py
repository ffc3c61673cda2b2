"""Norms (``keras.ops.linalg``), written with the differentiable ops of ``numpy.py``, so the tape
differentiates them through their parts: d||x||_2 / dx = x / ||x||_2."""

import numpy as np

from minikeras.ops import numpy as np_ops
from minikeras.ops.core import value_of
from minikeras.tensor import Tensor


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norms (one axis): ord None or 2 (sqrt Σx²), inf, -inf, 0 (nonzeros), any p
    ((Σ|x|^p)^(1/p)); matrix norms (two axes, or all of a matrix): None/"fro" (sqrt Σx²),
    1, -1, inf, -inf. The SVD-based matrix norms (2, -2, "nuc") are not available."""
    a = np_ops._floats(x)
    if a.dtype != np.asarray(value_of(x)).dtype:
        x = a  # integers become floats (no gradient to give)
    axes = tuple(range(a.ndim)) if axis is None else (
        (axis,) if isinstance(axis, int) else tuple(axis))
    axis = axes[0] if len(axes) == 1 else axes
    if len(axes) == 1:
        if ord is None or ord == 2:
            return np_ops.sqrt(np_ops.sum(np_ops.square(x), axis=axis, keepdims=keepdims))
        if ord == np.inf:
            return np_ops.max(np_ops.abs(x), axis=axis, keepdims=keepdims)
        if ord == -np.inf:
            return np_ops.min(np_ops.abs(x), axis=axis, keepdims=keepdims)
        if ord == 0:
            return np_ops.sum(Tensor((a != 0).astype(a.dtype)), axis=axis, keepdims=keepdims)
        if isinstance(ord, str):
            raise ValueError(f"Invalid `ord` argument for vector norm. Received: ord={ord}")
        total = np_ops.sum(np_ops.power(np_ops.abs(x), float(ord)), axis=axis,
                           keepdims=keepdims)
        return np_ops.power(total, 1.0 / ord)
    if len(axes) != 2:
        raise ValueError(f"Invalid axis {axis} for norm: give one or two axes.")
    if ord is None or ord == "fro":
        return np_ops.sqrt(np_ops.sum(np_ops.square(x), axis=axes, keepdims=keepdims))
    row, col = (ax % a.ndim for ax in axes)
    if ord in (1, -1):  # the largest (smallest) column sum of |x|
        inner, outer = row, col
    elif ord in (np.inf, -np.inf):  # the largest (smallest) row sum of |x|
        inner, outer = col, row
    else:
        raise ValueError(f"Matrix norm ord={ord!r} is not available in minikeras "
                         f"(it needs a singular value decomposition).")
    if not keepdims and outer > inner:
        outer -= 1
    sums = np_ops.sum(np_ops.abs(x), axis=inner, keepdims=keepdims)
    reduce = np_ops.max if ord in (1, np.inf) else np_ops.min
    return reduce(sums, axis=outer, keepdims=keepdims)
