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


def _erfinv(y):
    """erfinv in float64: Giles's approximation (2010), then Newton steps on
    log erfc(t) = log(1 - y), exact to a few ulps. Odd, so computed on |y|; ±1 gives ±inf."""
    y = np.asarray(y, np.float64)
    s, a = np.sign(y), np.abs(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -np.log((1 - a) * (1 + a))
        central, tail = w - 2.5, np.sqrt(w) - 3
        p = np.where(w < 5, 2.81022636e-08, -0.000200214257)
        for c_central, c_tail in [(3.43273939e-07, 0.000100950558),
                                  (-3.5233877e-06, 0.00134934322),
                                  (-4.39150654e-06, -0.00367342844),
                                  (0.00021858087, 0.00573950773),
                                  (-0.00125372503, -0.0076224613),
                                  (-0.00417768164, 0.00943887047),
                                  (0.246640727, 1.00167406), (1.50140941, 2.83297682)]:
            p = np.where(w < 5, c_central + p * central, c_tail + p * tail)
        t = p * a
        finite = np.isfinite(t)
        target = np.log1p(-a)
        for _ in range(3):  # Newton on f(t) = log erfc(t) - log(1 - a), nearly linear in t²
            u = np.where(finite, t, 0)
            tail = _ERFC(u)
            step = (np.log(tail) - target) / (-2 / np.sqrt(np.pi) * np.exp(-u * u) / tail)
            t = np.where(finite, t - step, t)
        t = np.where(a == 1, np.inf, np.where(a > 1, np.nan, t))
    return s * t


def erfinv(x):
    """The inverse of erf on (-1, 1) (±inf at ±1, NaN outside);
    d/dx = √π/2 · e^(erfinv(x)²)."""
    a = _floats(x)
    out = _erfinv(a).astype(a.dtype)
    with np.errstate(over="ignore"):
        slope = (np.sqrt(np.pi) / 2 * np.exp(out.astype(np.float64) ** 2)).astype(a.dtype)
    return record(out, (x,), lambda g: g * slope)
