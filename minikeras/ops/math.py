"""Special functions (``keras.ops`` math namespace), each with its derivative beside it."""

import math

import numpy as np

from minikeras import dtypes
from minikeras.autodiff import _unbroadcast, record
from minikeras.ops.core import _to_array, value_of
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


def _segments(data, segment_ids, num_segments, sorted):
    """The data as an array, its segment ids, how many segments, and which ids are kept, as Keras
    with TensorFlow checks them for segment_max / segment_min / segment_prod: without
    ``num_segments`` there are max id + 1 segments; a negative id is dropped."""
    a = np.asarray(value_of(data))
    ids = np.asarray(value_of(segment_ids)).astype(np.int64)
    if sorted and num_segments is not None:
        raise ValueError("Argument `num_segments` cannot be set when sorted is True when using "
                         f"the tensorflow backend.Received: num_segments={num_segments}, "
                         f"sorted={sorted}.")
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.size else 0
    if np.any(ids >= num_segments):
        i = int(np.argmax(ids >= num_segments))
        raise ValueError(f"segment_ids[{i}] = {ids.flat[i]} is out of range "
                         f"[0, {num_segments})")
    return a, ids, int(num_segments), ids >= 0


def _segment_extreme(data, segment_ids, num_segments, sorted, ufunc, empty):
    """out[s] = ufunc.reduce of data[i] over segment s (``empty`` where no id is s);  the
    gradient g[s] is shared equally by the elements that reach the extreme (ties split it)."""
    a, ids, n, kept = _segments(data, segment_ids, num_segments, sorted)
    out = np.full((n,) + a.shape[ids.ndim:], empty(a.dtype), a.dtype)
    ufunc.at(out, ids[kept], a[kept])
    if sorted:  # tf.math.segment_max/min give 0 to an empty segment, the unsorted ones ∓float max
        counts = np.bincount(ids[kept], minlength=n).reshape((n,) + (1,) * (a.ndim - ids.ndim))
        out = np.where(counts > 0, out, np.zeros_like(out))
    is_extreme = np.zeros(a.shape, bool)
    is_extreme[kept] = a[kept] == out[ids[kept]]
    ties = np.zeros(out.shape, np.float64)
    np.add.at(ties, ids[kept], is_extreme[kept])

    def d_data(g):
        grad = np.zeros(a.shape, g.dtype)
        grad[kept] = np.where(is_extreme[kept], g[ids[kept]] / ties[ids[kept]], 0)
        return grad.astype(g.dtype)

    return record(out, (data,), d_data)


def _lowest(dtype):
    return (np.finfo if np.issubdtype(dtype, np.floating) else np.iinfo)(dtype).min


def _highest(dtype):
    return (np.finfo if np.issubdtype(dtype, np.floating) else np.iinfo)(dtype).max


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """out[s] = max of data[i] over the i with segment_ids[i] = s (an empty segment: the lowest
    finite value, as tf.math.unsorted_segment_max; 0 when ``sorted``);  d/d data[i] = g[s] for
    the maximum (split equally between ties), 0 elsewhere."""
    return _segment_extreme(data, segment_ids, num_segments, sorted, np.maximum, _lowest)


def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """out[s] = min of data[i] over the i with segment_ids[i] = s (an empty segment: the largest
    finite value, 0 when ``sorted``);  d/d data[i] = g[s] for the minimum (ties split it), 0
    elsewhere."""
    return _segment_extreme(data, segment_ids, num_segments, sorted, np.minimum, _highest)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """out[s] = Π data[i] over the i with segment_ids[i] = s (1 for an empty segment);
    d/d data[i] = g[s] · Π_{j≠i} data[j] (= out[s] / data[i] when no factor is zero; with one zero
    only that element gets a gradient, with two or more none does)."""
    a, ids, n, kept = _segments(data, segment_ids, num_segments, sorted)
    out = np.ones((n,) + a.shape[ids.ndim:], a.dtype)
    np.multiply.at(out, ids[kept], a[kept])
    zero = a == 0
    zeros = np.zeros(out.shape, np.int64)
    np.add.at(zeros, ids[kept], zero[kept])
    nonzero_prod = np.ones(out.shape, a.dtype)
    np.multiply.at(nonzero_prod, ids[kept], np.where(zero[kept], 1, a[kept]))

    def d_data(g):
        s = ids[kept]
        x = a[kept]
        with np.errstate(divide="ignore", invalid="ignore"):
            others = np.where(zeros[s] == 0, nonzero_prod[s] / np.where(zero[kept], 1, x),
                              np.where((zeros[s] == 1) & zero[kept], nonzero_prod[s], 0))
        grad = np.zeros(a.shape, g.dtype)
        grad[kept] = g[s] * others
        return grad

    return record(out, (data,), d_data)


def get_item(x, key):
    """x[key], as ``keras.ops.get_item`` (``ops.getitem``, its gradient scattered back)."""
    from minikeras.ops.numpy import getitem

    return getitem(x, key)


# --- cdist, view_as_complex, view_as_real (Keras files them in keras/src/ops/math.py) ---------


def _array(x):
    """``x`` as a NumPy array: arrays keep their dtype, Python floats follow floatx, ints are
    int32 and complex numbers complex128 (as Keras's ``convert_to_tensor`` on TensorFlow)."""
    a = value_of(x)
    return a if isinstance(a, np.ndarray) else _to_array(a)


def cdist(x, y):
    """Pairwise Euclidean distances: out[..., i, j] = sqrt(Σ_k (x[..., i, k] - y[..., j, k])²).

    As Keras (whose signature has no ``p``: always the 2-norm) computes it on TensorFlow:
    diff = x[..., :, None, :] - y[..., None, :, :], out = sqrt(sum(diff², axis=-1)); the batch
    axes broadcast. Derivative: d out / d x_i = (x_i - y_j) / out, d out / d y_j = -that, each
    step as TensorFlow takes it (sqrt' = 0.5 g / out, square' = 2 diff), so at zero distance the
    gradient is NaN, as TensorFlow's (0.5 g / 0 = inf, then inf · 0). Integer inputs become
    floats (Keras's declared ``result_type(x, y, float)``; TensorFlow itself refuses them).
    """
    a, b = _array(x), _array(y)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError("`cdist` inputs must have rank >= 2. "
                         f"Received shapes: x.shape={a.shape}, y.shape={b.shape}")
    if a.shape[-1] != b.shape[-1]:
        raise ValueError("Last dimension of inputs to `cdist` must match. "
                         f"Received shapes: x.shape={a.shape}, y.shape={b.shape}")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError("Batch dimensions of inputs to `cdist` must be broadcastable. "
                         f"Received shapes: x.shape={a.shape}, y.shape={b.shape}") from None
    dtype = dtypes.result_type(a.dtype, b.dtype, float)
    a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
    diff = a[..., :, None, :] - b[..., None, :, :]
    out = np.sqrt(np.sum(diff * diff, axis=-1))

    def d_diff(g):  # g (..., m, n) -> (..., m, n, d): sqrt's step, then square's
        with np.errstate(divide="ignore", invalid="ignore"):
            g_sum = (np.asarray(g, dtype) * np.asarray(0.5, dtype)) / out
            return g_sum[..., None] * (np.asarray(2, dtype) * diff)

    return record(out, (x, y),
                  lambda g: _unbroadcast(np.sum(d_diff(g), axis=-2), a.shape),
                  lambda g: _unbroadcast(-np.sum(d_diff(g), axis=-3), b.shape))


def view_as_complex(x):
    """x[..., 0] + i·x[..., 1], always complex64 (as Keras, whatever the input dtype).

    Derivative (TensorFlow's convention for a complex cotangent g): d/d x[..., 0] = real(g),
    d/d x[..., 1] = imag(g)."""
    a = _array(x)
    if a.ndim < 1 or a.shape[-1] != 2:
        raise ValueError("Last dimension of input must be size 2 (real and imaginary). "
                         f"Received shape: {a.shape}")
    out = a[..., 0].astype(np.complex64) + 1j * a[..., 1].astype(np.complex64)
    return record(out, (x,), lambda g: np.stack([np.real(g), np.imag(g)], axis=-1)
                  .astype(a.dtype if a.dtype.kind == "f" else np.float32))


def view_as_real(x):
    """stack([real(x), imag(x)], axis=-1): complex64 -> float32, complex128 -> float64; a real
    input keeps its dtype, with zeros as the imaginary part.

    Derivative: a cotangent g (..., 2) goes back as g[..., 0] + i·g[..., 1] (TensorFlow's
    gradients of ``real`` and ``imag``); for a real input, as g[..., 0]."""
    a = _array(x)
    out = np.stack([np.real(a), np.imag(a)], axis=-1)
    if a.dtype.kind == "c":
        return record(out, (x,), lambda g: (g[..., 0] + 1j * g[..., 1]).astype(a.dtype))
    return record(out, (x,), lambda g: g[..., 0])
