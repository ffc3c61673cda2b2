"""Special functions (``keras.ops`` math namespace), each with its derivative beside it."""

import math

import numpy as np

from minikeras.autodiff import record
from minikeras.ops.core import value_of
from minikeras.ops.numpy import _floats, take_along_axis
from minikeras.tensor import Tensor

_ERF = np.vectorize(math.erf, otypes=[np.float64])
_ERFC = np.vectorize(math.erfc, otypes=[np.float64])


def erf(x):
    """erf(x) = 2/√π ∫_0^x e^(-t²) dt (Python's math.erf, rounded);  d/dx = 2/√π e^(-x²)."""
    a = _floats(x)
    out = _ERF(a).astype(a.dtype)
    return record(out, (x,), lambda g: g * (2 / np.sqrt(np.pi)) * np.exp(-a * a))


def erfc(x):
    """1 - erf(x), exact in the tail (Python's math.erfc, rounded);  d/dx = -2/√π e^(-x²)."""
    a = _floats(x)
    out = _ERFC(a).astype(a.dtype)
    return record(out, (x,), lambda g: -g * (2 / np.sqrt(np.pi)) * np.exp(-a * a))


def rsqrt(x):
    """1 / sqrt(x) (inf at 0, as TensorFlow);  d/dx = -1/2 x**(-3/2) = -out**3 / 2."""
    a = _floats(x)
    with np.errstate(divide="ignore"):
        out = 1 / np.sqrt(a)
    return record(out, (x,), lambda g: -0.5 * g * out * out * out)


def top_k(x, k, sorted=True):
    """The k largest values along the last axis and their indices (ties: the lower index
    first, as TensorFlow);  each value's gradient goes back to the element it came from."""
    a = np.asarray(value_of(x))
    indices = np.argsort(-a, axis=-1, kind="stable")[..., :k]
    return take_along_axis(x, indices, axis=-1), Tensor(indices.astype("int32"))


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """out[s] = Σ data[i] over the i with segment_ids[i] = s;  d/d data[i] = g[segment_ids[i]].

    As Keras with TensorFlow: without ``num_segments`` there are as many segments as distinct
    ids (max id + 1 when ``sorted``); an id past the last segment is an error, a negative id
    is dropped."""
    a = np.asarray(value_of(data))
    ids = np.asarray(value_of(segment_ids)).astype(np.int64)
    if sorted and num_segments is not None:
        raise ValueError("Argument `num_segments` cannot be set when sorted is True when "
                         "using the tensorflow backend.")
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if sorted else len(np.unique(ids))
    if np.any(ids >= num_segments):
        i = int(np.argmax(ids >= num_segments))
        raise ValueError(f"segment_ids[{i}] = {ids.flat[i]} is out of range "
                         f"[0, {num_segments})")
    kept = ids >= 0
    out = np.zeros((num_segments,) + a.shape[ids.ndim:], a.dtype)
    np.add.at(out, ids[kept], a[kept])

    def d_data(g):
        grad = np.zeros(a.shape, g.dtype)
        grad[kept] = g[ids[kept]]
        return grad

    return record(out, (data,), d_data)


def in_top_k(targets, predictions, k):
    """Whether each target's prediction is among the k largest of its row. As TensorFlow, ties
    at the boundary all count as in (fewer than k predictions are strictly larger), and a row
    with a non-finite prediction (NaN or ±inf, anywhere) gives False."""
    p = np.asarray(value_of(predictions))
    t = np.asarray(value_of(targets)).astype(np.int64)
    target = np.take_along_axis(p, t[:, None], axis=1)
    larger = np.sum(p > target, axis=1)
    return Tensor((larger < k) & np.all(np.isfinite(p), axis=1))
