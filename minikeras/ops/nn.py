"""Activation functions and cross-entropies as ops (``keras.ops`` nn namespace).

Each op shows its forward formula and, right below, its derivative. ``sigmoid`` and ``softmax``
remember their input as ``_keras_logits`` (as Keras's TensorFlow backend does), so a cross-entropy
that receives their output can work from the logits instead: exact and stable where the
probabilities have rounded to 0 or 1 (see ``minikeras.losses``).
"""

import functools
import math

import numpy as np

from minikeras import backend, dtypes
from minikeras.autodiff import record
from minikeras.ops import numpy as np_ops
from minikeras.ops.core import cast, stop_gradient, value_of
from minikeras.ops.linalg import norm
from minikeras.ops.math import rsqrt
from minikeras.tensor import Tensor


@functools.cache
def _constants(dtype):
    """0 and 1 as 0-d arrays of ``dtype`` (of float64 for integers, whose e^x is float64): NumPy 2
    combines two arrays about twice as fast as an array and a Python number, which counts on a
    small network's small arrays."""
    dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
    return np.asarray(0, dtype), np.asarray(1, dtype)


def _sigmoid(z):
    """1 / (1 + e^-z). For z < -88 (float32) e^-z overflows to inf and the result is its limit,
    0: ops and gradients run quietly (``minikeras/quiet.py``), so without NumPy's warning."""
    if type(z) is not np.ndarray:
        z = np.asarray(z)
    if z.dtype == np.float16:  # e^-z would overflow float16 at z < -11, where σ is still 1e-5
        return _sigmoid(z.astype(np.float32)).astype(np.float16)
    return np.reciprocal(np.exp(-z) + _constants(z.dtype)[1])


def sigmoid(x):
    """σ(x) = 1 / (1 + e^-x);  dσ/dx = σ(x) (1 - σ(x))."""
    s = _sigmoid(value_of(x))
    one = _constants(s.dtype)[1]
    out = record(s, (x,), lambda g: g * s * (one - s))
    out._keras_logits = x
    return out


def tanh(x):
    """tanh(x);  d/dx = 1 - tanh(x)²."""
    t = np.tanh(value_of(x))
    return record(t, (x,), lambda g: g * (1 - t * t))


def relu(x):
    """max(x, 0);  d/dx = 1 where x > 0, else 0."""
    a = value_of(x)
    return record(np.maximum(a, 0), (x,), lambda g: g * (a > 0))


def relu6(x):
    """min(max(x, 0), 6);  d/dx = 1 where 0 < x < 6, else 0."""
    a = value_of(x)
    return record(np.clip(a, 0, 6), (x,), lambda g: g * ((a > 0) & (a < 6)))


def leaky_relu(x, negative_slope=0.2):
    """x if x > 0 else slope·x;  d/dx = 1 or slope."""
    a = value_of(x)
    positive = a > 0
    return record(np.where(positive, a, negative_slope * a), (x,),
                  lambda g: g * np.where(positive, 1, negative_slope).astype(a.dtype))


def elu(x, alpha=1.0):
    """x if x > 0 else α(e^x - 1);  d/dx = 1 or α·e^x."""
    a = value_of(x)
    e = np.exp(np.minimum(a, 0))
    positive = a > 0
    return record(np.where(positive, a, alpha * np.expm1(np.minimum(a, 0))), (x,),
                  lambda g: g * np.where(positive, 1, alpha * e))


def selu(x):
    """scale·x if x > 0 else scale·α(e^x - 1), α = 1.67326..., scale = 1.05070...;
    d/dx = scale for x >= 0 (TensorFlow's choice at 0), scale·α·e^x for x < 0."""
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    a = value_of(x)
    negative = a < 0
    return record(scale * np.where(negative, alpha * np.expm1(np.minimum(a, 0)), a), (x,),
                  lambda g: g * scale * np.where(negative, alpha * np.exp(np.minimum(a, 0)), 1))


def softplus(x):
    """log(1 + e^x), computed as logaddexp(0, x);  d/dx = σ(x)."""
    a = value_of(x)
    return record(np.logaddexp(0, a), (x,), lambda g: g * _sigmoid(a))


def softsign(x):
    """x / (1 + |x|);  d/dx = 1 / (1 + |x|)²."""
    a = value_of(x)
    d = 1 + np.abs(a)
    return record(a / d, (x,), lambda g: g / (d * d))


def silu(x):
    """x·σ(x) (also called swish);  d/dx = σ(x) + x·σ(x)(1 - σ(x))."""
    a = value_of(x)
    s = _sigmoid(a)
    return record(a * s, (x,), lambda g: g * (s + a * s * (1 - s)))


swish = silu

_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(x, approximate=True):
    """exact: x·Φ(x) = 0.5x(1 + erf(x/√2));  d/dx = Φ(x) + x·φ(x).

    approximate: 0.5x(1 + tanh(u)) with u = √(2/π)(x + 0.044715x³), computed as the equal
    x·σ(2u), which stays exact in the tails;  d/dx = σ(2u) + x·σ(2u)σ(-2u)·2u'.
    """
    a = value_of(x)
    if approximate:
        c = np.sqrt(2 / np.pi).astype(a.dtype)
        inner = c * (a + 0.044715 * a**3)
        s, s_neg = _sigmoid(2 * inner), _sigmoid(-2 * inner)
        d_inner = c * (1 + 3 * 0.044715 * a * a)
        return record(a * s, (x,), lambda g: g * (s + a * s * s_neg * 2 * d_inner))
    cdf = (0.5 * (1 + _erf(a / np.sqrt(2)).astype(np.float64))).astype(a.dtype)
    pdf = np.exp(-0.5 * a * a) / np.sqrt(2 * np.pi).astype(a.dtype)
    return record(a * cdf, (x,), lambda g: g * (cdf + a * pdf))


def hard_sigmoid(x):
    """relu6(x + 3) / 6 (Keras 3);  d/dx = 1/6 where -3 < x < 3, else 0."""
    a = value_of(x)
    return record(np.clip(a / 6 + 0.5, 0, 1), (x,), lambda g: g * ((a > -3) & (a < 3)) / 6)


def hard_silu(x):
    """x · hard_sigmoid(x) (also called hard_swish)."""
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def log_sigmoid(x):
    """log σ(x) = -softplus(-x);  d/dx = 1 - σ(x)."""
    a = value_of(x)
    return record(-np.logaddexp(0, -a), (x,), lambda g: g * _sigmoid(-a))


def mish(x):
    """x · tanh(softplus(x)), differentiated through its three ops by the tape."""
    return x * tanh(softplus(x))


def exponential(x):
    from minikeras.ops.numpy import exp

    return exp(x)


def _softmax(z, axis):
    e = np.exp(z - np.maximum.reduce(z, axis=axis, keepdims=True))
    return e / np.add.reduce(e, axis=axis, keepdims=True)


def softmax(x, axis=-1):
    """s_i = e^(x_i - max x) / Σ_j e^(x_j - max x);  ds/dx: g ↦ s·(g - Σ g·s)."""
    s = _softmax(value_of(x), axis)
    out = record(s, (x,), lambda g: s * (g - np.add.reduce(g * s, axis=axis, keepdims=True)))
    out._keras_logits = x
    return out


def sparsemax(x, axis=-1):
    """p = max(x - τ, 0), the projection of x onto the probability simplex (τ makes Σp = 1);
    exact zeros outside the support S.  dp/dx: g ↦ [p > 0]·(g - Σ_S g / |S|)."""
    z = np.moveaxis(np.asarray(value_of(x)), axis, -1)
    ranked = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    cumulative = np.cumsum(ranked, axis=-1) - 1
    size = np.add.reduce(ranked - cumulative / k > 0, axis=-1, keepdims=True)
    tau = np.take_along_axis(cumulative, size - 1, axis=-1) / size.astype(z.dtype)
    p = np.moveaxis(np.maximum(z - tau, 0), -1, axis)
    support = p > 0
    count = np.add.reduce(support, axis=axis, keepdims=True)
    return record(p, (x,), lambda g: support * (
        g - np.add.reduce(g * support, axis=axis, keepdims=True) / count))


def log_softmax(x, axis=-1):
    """x - logsumexp(x);  d/dx: g ↦ g - softmax(x)·Σ g."""
    a = value_of(x)
    shifted = a - np.maximum.reduce(a, axis=axis, keepdims=True)
    lse = np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
    out = shifted - lse
    return record(out, (x,), lambda g: g - np.exp(out) * np.add.reduce(g, axis=axis, keepdims=True))


def one_hot(x, num_classes, axis=-1, dtype=None):
    """Integer labels as rows of 0s with a 1 at the label (not differentiable)."""
    labels = np.asarray(value_of(x)).astype(np.int64)
    out = np.equal.outer(labels, np.arange(num_classes)).astype(dtype or backend.floatx())
    return Tensor(np.moveaxis(out, -1, axis) if axis != -1 else out)


# --- cross-entropies ----------------------------------------------------------------------


def _clip_bounds(dtype):
    eps = backend.epsilon()
    return np.asarray(eps, dtype), np.asarray(1 - eps, dtype)  # 1 - 1e-7 rounds in float32


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise -[y log p + (1 - y) log(1 - p)].

    logits z:  log(1 + e^z) - z·y, computed as log(e^0 + e^z) = max(z, 0) + log(1 + e^-|z|)
               (np.logaddexp: stable, one pass);      dL/dz = σ(z) - y
    probs p:   p clipped to [ε, 1 - ε];                  dL/dp = (p - y) / (p (1 - p)) inside
    """
    y, v = value_of(target), np.asarray(value_of(output))
    if from_logits:
        loss = np.logaddexp(_constants(v.dtype)[0], v) - v * y
        return record(loss, (target, output),
                      lambda g: -g * v, lambda g: g * (_sigmoid(v) - y))
    lo, hi = _clip_bounds(v.dtype)
    p = np.clip(v, lo, hi)
    log_p, log_q = np.log(p), np.log(1 - p)
    inside = (v >= lo) & (v <= hi)
    return record(-(y * log_p + (1 - y) * log_q), (target, output),
                  lambda g: -g * (log_p - log_q),
                  lambda g: g * inside * (p - y) / (p * (1 - p)))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-Σ y log q over ``axis``.

    logits z:  q = softmax(z), computed as log_softmax;  dL/dz = softmax(z)·Σy - y
    probs p:   q = p / Σp, clipped to [ε, 1 - ε];       dL/dp = (dq - Σ dq·q) / Σp with
               dq = -y / q inside the clip range
    """
    y, v = value_of(target), value_of(output)
    if from_logits:
        shifted = v - np.maximum.reduce(v, axis=axis, keepdims=True)
        log_q = shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
        q = np.exp(log_q)
        sum_y = np.add.reduce(y, axis=axis, keepdims=True)
        return record(-np.add.reduce(y * log_q, axis=axis), (target, output),
                      lambda g: -np.expand_dims(g, axis) * log_q,
                      lambda g: np.expand_dims(g, axis) * (q * sum_y - y))
    total = np.add.reduce(v, axis=axis, keepdims=True)
    q = v / total
    lo, hi = _clip_bounds(np.asarray(v).dtype)
    qc = np.clip(q, lo, hi)
    log_q = np.log(qc)

    def d_output(g):
        dq = -np.expand_dims(g, axis) * y / qc * ((q >= lo) & (q <= hi))
        return (dq - np.add.reduce(dq * q, axis=axis, keepdims=True)) / total

    return record(-np.add.reduce(y * log_q, axis=axis), (target, output),
                  lambda g: -np.expand_dims(g, axis) * log_q, d_output)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-log q[label] for integer labels.

    logits z:  -log_softmax(z)[label];                  dL/dz = softmax(z) - onehot(label)
    probs p:   r = clip(p, ε, 1 - ε), -log(r_y / Σr);   dL/dr = 1/Σr - onehot / r_y
    """
    labels = np.asarray(value_of(target)).astype(np.int64)
    v = np.asarray(value_of(output))
    if labels.ndim == v.ndim and labels.shape[-1] == 1:  # labels (N, 1) for outputs (N, C)
        labels = np.squeeze(labels, -1)
    if axis not in (-1, v.ndim - 1):
        raise ValueError(f"Only axis=-1 is supported for sparse categorical crossentropy. "
                         f"Received: axis={axis}")
    onehot = np.equal.outer(labels, np.arange(v.shape[-1])).astype(v.dtype)
    if from_logits:
        shifted = v - np.maximum.reduce(v, axis=-1, keepdims=True)
        log_q = shifted - np.log(np.add.reduce(np.exp(shifted), axis=-1, keepdims=True))
        return record(-np.add.reduce(onehot * log_q, axis=-1), (output,),
                      lambda g: g[..., None] * (np.exp(log_q) - onehot))
    lo, hi = _clip_bounds(v.dtype)
    r = np.clip(v, lo, hi)
    total = np.sum(r, axis=-1, keepdims=True)
    r_y = np.sum(onehot * r, axis=-1, keepdims=True)
    inside = (v >= lo) & (v <= hi)
    return record(np.squeeze(np.log(total) - np.log(r_y), -1), (output,),
                  lambda g: g[..., None] * inside * (1 / total - onehot / r_y))


def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) over ``axes``, as tf.nn.moments: variance = mean((x - mean)²) with the
    mean held constant;  d mean / dx_i = 1 / n, d variance / dx_i = 2 (x_i - mean) / n.
    float16 inputs are reduced in float32 and rounded back, as Keras does."""
    dtype = np.asarray(value_of(x)).dtype
    if dtype == np.float16:
        x = cast(x, "float32")
    axes = tuple(axes) if isinstance(axes, list | tuple) else axes
    mean = np_ops.mean(x, axis=axes, keepdims=True)
    variance = np_ops.mean(np_ops.square(np_ops.subtract(x, stop_gradient(mean))), axis=axes,
                           keepdims=True)
    if not keepdims:
        mean, variance = np_ops.squeeze(mean, axes), np_ops.squeeze(variance, axes)
    if dtype == np.float16:
        mean, variance = cast(mean, "float16"), cast(variance, "float16")
    return mean, variance


def normalize(x, axis=-1, order=2, epsilon=None):
    """x / max(||x||, epsilon) along ``axis``. For order 2 Keras writes
    x * min(rsqrt(Σx²), 1 / epsilon); here x * rsqrt(max(Σx², epsilon²)), the same values, and
    the same gradient as TensorFlow's (also for an all-zero x, where rsqrt(0) = inf would
    otherwise meet a zero gradient: inf * 0). Written with differentiable ops, so the tape
    carries the gradient through the norm."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    if np.ndim(value_of(x)) == 0:
        x = np_ops.expand_dims(x, 0)
    epsilon = backend.epsilon() if epsilon is None else epsilon
    if order == 2:
        square_sum = np_ops.sum(np_ops.square(x), axis=axis, keepdims=True)
        return np_ops.multiply(x, rsqrt(np_ops.maximum(square_sum, epsilon * epsilon)))
    length = norm(x, ord=order, axis=axis, keepdims=True)
    return np_ops.divide(x, np_ops.maximum(length, epsilon))


# --- more activations: piecewise and shrinking functions ------------------------------------------
# ``keras.activations`` uses these same ops (see ``minikeras.activations``). Where two branches meet
# (x = 0, ±1, ±threshold) each derivative is the one TensorFlow's autodiff gives Keras's formula.


def celu(x, alpha=1.0):
    """max(x, 0) + α·expm1(min(x, 0) / α), as Keras writes it;
    d/dx = [x >= 0] + [x <= 0]·e^(min(x, 0)/α), so 2 at x = 0 (both branches, as TensorFlow)."""
    a = value_of(x)
    e = np.exp(np.minimum(a, 0) / alpha)
    out = np.maximum(a, 0) + alpha * np.expm1(np.minimum(a, 0) / alpha)
    return record(out, (x,), lambda g: g * ((a >= 0) + (a <= 0) * e))


def glu(x, axis=-1):
    """a·σ(b), where a and b are the two halves of x along ``axis``;
    d/da = σ(b), d/db = a·σ(b)(1 - σ(b))."""
    if np.shape(value_of(x))[axis] % 2 != 0:
        raise ValueError("axis size must be divisible by 2. "
                         f"Received: x.shape={np.shape(value_of(x))} with axis={axis}")
    first, second = np_ops.split(x, 2, axis=axis)
    return np_ops.multiply(first, sigmoid(second))


def hard_tanh(x):
    """clip(x, -1, 1);  d/dx = 1 on [-1, 1] (ends included, as tf.clip_by_value), else 0."""
    return np_ops.clip(x, -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0;  d/dx = [|x| > threshold]."""
    a = value_of(x)
    kept = np.abs(a) > threshold
    return record(np.where(kept, a, 0).astype(np.asarray(a).dtype), (x,), lambda g: g * kept)


def soft_shrink(x, threshold=0.5):
    """x - threshold above threshold, x + threshold below -threshold, else 0;
    d/dx = [|x| > threshold]."""
    a = value_of(x)
    above, below = a > threshold, a < -threshold
    out = np.where(above, a - threshold, np.where(below, a + threshold, 0)).astype(
        np.asarray(a).dtype)
    return record(out, (x,), lambda g: g * (above | below))


def tanh_shrink(x):
    """x - tanh(x);  d/dx = 1 - (1 - tanh²(x)) = tanh²(x)."""
    a = value_of(x)
    t = np.tanh(a)
    return record(a - t, (x,), lambda g: g * t * t)


def threshold(x, threshold, default_value):
    """x where x > threshold, else default_value;  d/dx = [x > threshold] (and the rest goes
    to default_value when it is a tensor)."""
    return np_ops.where(np_ops.greater(x, threshold), x, default_value)


def sparse_plus(x):
    """0 for x <= -1, (x + 1)²/4 for -1 < x < 1, x for x >= 1;
    d/dx = 0, (x + 1)/2, 1 on those pieces."""
    a = value_of(x)
    low, high = a <= -1, a >= 1
    dtype = np.asarray(a).dtype
    out = np.where(low, 0, np.where(high, a, 0.25 * (a + 1) ** 2)).astype(dtype)
    slope = np.where(low, 0, np.where(high, 1, 0.5 * (a + 1))).astype(dtype)
    return record(out, (x,), lambda g: g * slope)


def sparse_sigmoid(x):
    """0 for x <= -1, (x + 1)/2 for -1 < x < 1, 1 for x >= 1;
    d/dx = 1/2 strictly inside (-1, 1), 0 elsewhere (ends included, as Keras)."""
    a = value_of(x)
    low, high = a <= -1, a >= 1
    out = np.where(low, 0, np.where(high, 1, 0.5 * (a + 1))).astype(np.asarray(a).dtype)
    return record(out, (x,), lambda g: g * 0.5 * ~(low | high))


def squareplus(x, b=4):
    """(x + √(x² + b)) / 2;  d/dx = (1 + x / √(x² + b)) / 2."""
    a = value_of(x)
    root = np.sqrt(a * a + np.asarray(b, np.asarray(a).dtype))
    return record((a + root) / 2, (x,), lambda g: g * 0.5 * (1 + a / root))


# --- normalizations and PSNR (compositions of recorded ops: the tape differentiates them) ------


def _at_least_float32(x):
    """``x`` in Keras's compute dtype for normalizations (float16 is widened to float32), and
    the dtype to give the result back in."""
    from minikeras.dtypes import result_type

    original = backend.standardize_dtype(np.asarray(value_of(x)).dtype)
    return cast(x, result_type(original, "float32")), original


def _reshaped_for(v, axes, ndim, shape):
    """A per-feature vector (gamma, beta, scale) shaped to broadcast over the normalized axes."""
    if v is None or np.ndim(value_of(v)) == ndim or list(axes) == [ndim - 1]:
        return v
    broadcast = [1] * ndim
    for dim in axes:
        broadcast[dim] = shape[dim]
    return np_ops.reshape(v, broadcast)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """(x - mean) / √(variance + ε) · gamma + beta over ``axis``, written as Keras does:
    inv = rsqrt(variance + ε)·gamma;  out = x·inv + (beta - mean·inv). Computed in float32 or
    wider. (Keras's deprecated ``rms_scaling=True`` divides by √(variance + ε) without
    centring.)"""
    rms_scaling = kwargs.pop("rms_scaling", False)
    epsilon = backend.epsilon() if epsilon is None else epsilon
    x, original = _at_least_float32(x)
    compute = np.asarray(value_of(x)).dtype
    shape = np.shape(value_of(x))
    ndim = len(shape)
    axes = sorted(a % ndim for a in ([axis] if isinstance(axis, int) else axis))
    gamma = None if gamma is None else _reshaped_for(cast(gamma, compute), axes, ndim, shape)
    beta = None if beta is None else _reshaped_for(cast(beta, compute), axes, ndim, shape)
    if rms_scaling:
        inv = rsqrt(np_ops.add(np_ops.var(x, axis=tuple(axes), keepdims=True), epsilon))
        out = np_ops.multiply(x, inv)
        if gamma is not None:
            out = np_ops.multiply(out, gamma)
        return cast(out, original)
    mean, variance = moments(x, axes=axes, keepdims=True)
    inv = rsqrt(np_ops.add(variance, epsilon))
    if gamma is not None:
        inv = np_ops.multiply(inv, gamma)
    res = np_ops.negative(np_ops.multiply(mean, inv))
    if beta is not None:
        res = np_ops.add(res, beta)
    return cast(np_ops.add(np_ops.multiply(x, inv), res), original)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """x · rsqrt(mean(x²) + ε) · scale over ``axis`` (Zhang & Sennrich, 2019), in float32 or
    wider."""
    epsilon = backend.epsilon() if epsilon is None else epsilon
    x, original = _at_least_float32(x)
    compute = np.asarray(value_of(x)).dtype
    if isinstance(axis, list | tuple):
        axis = tuple(sorted(axis))
    if np.ndim(value_of(x)) == 0:
        x = np_ops.expand_dims(x, 0)
    rrms = rsqrt(np_ops.add(np_ops.mean(np_ops.square(x), axis=axis, keepdims=True), epsilon))
    out = np_ops.multiply(x, rrms)
    if scale is not None:
        out = np_ops.multiply(out, cast(scale, compute))
    return cast(out, original)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / √(variance + ε) · scale + offset, with the statistics given per feature of
    ``axis``; written as tf.nn.batch_normalization: inv = rsqrt(variance + ε)·scale,
    out = x·inv + (offset - mean·inv)."""
    ndim = np.ndim(value_of(x))
    size = np.shape(value_of(x))[axis]
    for name, v in (("mean", mean), ("variance", variance), ("offset", offset),
                    ("scale", scale)):
        if v is not None and tuple(np.shape(value_of(v))) != (size,):
            raise ValueError(f"`{name}` must be a vector of length `x.shape[axis]`. "
                             f"Expected: `{(size,)}`. Received: `{np.shape(value_of(v))}.")
    if axis not in (-1, ndim - 1):
        shape = [1] * ndim
        shape[axis] = size
        mean, variance = np_ops.reshape(mean, shape), np_ops.reshape(variance, shape)
        offset = None if offset is None else np_ops.reshape(offset, shape)
        scale = None if scale is None else np_ops.reshape(scale, shape)
    inv = rsqrt(np_ops.add(variance, epsilon))
    if scale is not None:
        inv = np_ops.multiply(inv, scale)
    shift = np_ops.negative(np_ops.multiply(mean, inv))
    if offset is not None:
        shift = np_ops.add(offset, shift)
    return np_ops.add(np_ops.multiply(x, inv), shift)


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio: 20·log10(max_val) - 10·log10(mean((x1 - x2)²)), in dB."""
    if np.shape(value_of(x1)) != np.shape(value_of(x2)):
        raise ValueError(f"Input shapes {np.shape(value_of(x1))} and {np.shape(value_of(x2))} "
                         f"must match for PSNR calculation. ")
    dtype = np.asarray(value_of(x2)).dtype
    mse = np_ops.mean(np_ops.square(np_ops.subtract(x1, x2)))
    peak = 20 * np.log10(np.asarray(value_of(max_val), dtype)).astype(dtype)
    return np_ops.subtract(peak, np_ops.multiply(10.0, np_ops.log10(mse)))


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """A row of 0s with a 1 at every label of each sample: the one-hot rows combined by max
    (by "any" for bool). Integer labels; negative labels are ignored. Not differentiable."""
    if num_classes is None and "num_tokens" in kwargs:
        num_classes = kwargs.pop("num_tokens")
    if num_classes is None:
        raise ValueError("Argument `num_classes` must be specified.")
    if sparse:
        raise ValueError("minikeras has no sparse tensors: use sparse=False.")
    dtype = backend.standardize_dtype(dtype or backend.floatx())
    labels = np.asarray(value_of(inputs))
    hot = np.asarray(value_of(one_hot(labels, num_classes, axis=axis, dtype=dtype)))
    reduction_axis = 1 if labels.ndim > 1 else 0
    if dtype == "bool":
        return Tensor(np.any(hot, axis=reduction_axis))
    return Tensor(np.max(hot, axis=reduction_axis))


# --- convolution and pooling: every window of the image as a row (im2col) ---------------------
#
# An image batch is (batch, height, width, channels) ("channels_last"). ``_windows`` views every
# window a kernel (or pool) slides over as one array of shape (batch, out_h, out_w, kh, kw,
# channels), without copying; ``_scatter_windows`` is its adjoint (col2im): it adds a value for
# each window element back onto the pixel it was read from. A convolution is then one matrix
# product, and the backward of conv and of both poolings is one scatter.


def _pair(value, name):
    """An int or a pair of ints, as a pair: one number per spatial axis (height, width)."""
    if isinstance(value, int | np.integer):
        return (int(value), int(value))
    pair = tuple(int(v) for v in value)
    if len(pair) == 1:
        return pair * 2
    if len(pair) != 2:
        raise ValueError(f"The `{name}` argument must be an int or a tuple of 2 integers "
                         f"(minikeras convolves and pools 2D images). Received {name}={value}")
    return pair


def _same_padding(size, window, stride):
    """TensorFlow's "same" padding of one axis: the output has ceil(size / stride) positions, the
    input is padded just enough for the last window to fit, and an odd pad puts its extra
    element at the end (bottom / right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _padded(a, window, strides, padding, dilation, fill, op):
    """``a`` padded with ``fill`` as ``padding`` says, and the pads ((top, bottom), (left,
    right)); checks the rank and that at least one window fits."""
    if a.ndim != 4:
        raise ValueError(f"`{op}` expects inputs of rank 3, 4 or 5: (batch, steps, channels), "
                         f"(batch, height, width, channels) or (batch, depth, height, width, "
                         f"channels); received input of shape {a.shape}.")
    spans = [(k - 1) * d + 1 for k, d in zip(window, dilation, strict=True)]  # dilated extent
    mode = str(padding).lower()
    if mode == "valid":
        pads = ((0, 0), (0, 0))
    elif mode == "same":
        pads = tuple(_same_padding(a.shape[1 + i], spans[i], strides[i]) for i in range(2))
    else:
        raise ValueError(f"`padding` must be either 'valid' or 'same'. Received: {padding}")
    if pads != ((0, 0), (0, 0)):
        a = np.pad(a, ((0, 0), *pads, (0, 0)), constant_values=fill)
    if a.shape[1] < spans[0] or a.shape[2] < spans[1]:
        raise ValueError(f"Computed output size would be zero or negative: `{op}` with a window "
                         f"of {tuple(window)} (dilation {tuple(dilation)}) does not fit an input "
                         f"of shape {a.shape} with padding='{mode}'.")
    return a, pads


def _windows(a, window, strides, dilation):
    """A view of shape (batch, out_h, out_w, kh, kw, channels): window (y, x) starts at pixel
    (y·sh, x·sw) and reads every dh-th row and dw-th column. Nothing is copied."""
    n, h, w, c = a.shape
    (kh, kw), (sh, sw), (dh, dw) = window, strides, dilation
    oh, ow = (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1
    s0, s1, s2, s3 = a.strides
    return np.lib.stride_tricks.as_strided(
        a, (n, oh, ow, kh, kw, c), (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3), writeable=False)


def _scatter_windows(pieces, padded_shape, pads, strides, dilation):
    """The adjoint of ``_windows`` (col2im): ``pieces`` has the windows' shape (batch, out_h,
    out_w, kh, kw, channels); each piece is added onto the pixel its window element read, then
    the padding is cropped off. One shifted, strided slice per kernel offset (i, j)."""
    n, oh, ow, kh, kw, c = pieces.shape
    (sh, sw), (dh, dw) = strides, dilation
    grad = np.zeros(padded_shape, pieces.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
        for j in range(kw):
            cols = slice(j * dw, j * dw + (ow - 1) * sw + 1, sw)
            grad[:, rows, cols, :] += pieces[:, :, :, i, j, :]
    (top, bottom), (left, right) = pads
    return grad[:, top:padded_shape[1] - bottom, left:padded_shape[2] - right, :]


def _groups(inputs, kernel, data_format):
    """How many groups a kernel implies: the inputs' channels over the kernel's input channels,
    when both they and the filters divide evenly (else 1, and conv's checks report a mismatch)."""
    x_shape, k_shape = np.shape(value_of(inputs)), np.shape(value_of(kernel))
    if len(x_shape) < 3 or len(k_shape) < 3:
        return 1
    channels = x_shape[1 if _data_format(data_format) == "channels_first" else -1]
    kernel_channels, filters = k_shape[-2], k_shape[-1]
    if kernel_channels and channels != kernel_channels and channels % kernel_channels == 0:
        groups = channels // kernel_channels
        return groups if filters % groups == 0 else 1
    return 1


def _grouped(op, inputs, kernel, groups, data_format, **kwargs):
    """A grouped convolution: the input channels split into ``groups`` equal parts, part i
    convolved with filters i·f/groups ... (i + 1)·f/groups - 1 only, the results concatenated
    along the channels. Split, conv and concatenate are recorded ops: the gradients are theirs."""
    axis = 1 if _data_format(data_format) == "channels_first" else -1
    parts = zip(np_ops.split(inputs, groups, axis=axis), np_ops.split(kernel, groups, axis=-1),
                strict=True)
    return np_ops.concatenate([op(x, k, data_format=data_format, **kwargs) for x, k in parts],
                              axis=axis)


def _as_image(op, inputs, data_format, kernel=None, **window):
    """A 1-D op on (batch, steps, channels) or (batch, channels, steps) inputs: the 2-D ``op``
    on the sequence as an image of height 1 (and a kernel of height 1), then the unit axis
    dropped again. Expanding and squeezing are recorded ops: the gradients are the 2-D op's."""
    axis = 1 if _data_format(data_format) == "channels_last" else 2
    image = np_ops.expand_dims(inputs, axis)
    kernels = () if kernel is None else (np_ops.expand_dims(kernel, 0),)
    window = {name: _unit_height(value) for name, value in window.items()}
    return np_ops.squeeze(op(image, *kernels, data_format=data_format, **window), axis)


def _unit_height(value):
    """A 1-D window argument (3 or (3,)) for the 2-D op: (1, 3); padding and None unchanged."""
    if value is None or isinstance(value, str):
        return value
    return (1, *(tuple(value) if isinstance(value, list | tuple) else (value,)))


def _channels_first(op, inputs, *args, **kwargs):
    """Run a channels_last ``op`` on (batch, channels, height, width) inputs: transpose in and
    out (recorded ops, so gradients flow through them)."""
    x = np_ops.transpose(inputs, (0, 2, 3, 1))
    return np_ops.transpose(op(x, *args, data_format="channels_last", **kwargs), (0, 3, 1, 2))


def _data_format(data_format):
    data_format = "channels_last" if data_format is None else str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    return data_format


def conv_input_gradient(g, w, windows_shape, padded_shape, pads, strides, dilation):
    """conv's gradient with respect to its input, for an output gradient ``g`` (batch, out_h,
    out_w, filters) and the kernel as a matrix ``w`` (kh·kw·channels, filters):
        dL/dP = g Wᵀ          one row of window-shaped gradient per output pixel
        dL/dx = col2im(dL/dP) each window's row added back onto the pixels it read
    This is also the forward of the transposed convolution (``ops.conv_transpose``), which is
    defined as exactly this map applied to its input."""
    pieces = g.reshape(-1, w.shape[1]).dot(w.T).reshape(windows_shape)
    return _scatter_windows(pieces, padded_shape, pads, strides, dilation)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """2D convolution (a cross-correlation, as in Keras) of (batch, height, width, channels)
    inputs with a (kh, kw, channels, filters) kernel:
        out[n, y, x, f] = Σ_{i, j, c} in[n, y·sh + i·dh, x·sw + j·dw, c] · kernel[i, j, c, f]

    im2col: each window becomes one row of P (n·out_h·out_w rows, kh·kw·channels columns) and
    the kernel one matrix W (kh·kw·channels, filters); then it is Dense's product, row by row:
        Z = P W
        dL/dW = Pᵀ g          a weight's gradient sums input x gradient over every window
        dL/dP = g Wᵀ          and col2im adds each window's row back onto its pixels: dL/dx

    A kernel with fewer input channels than the inputs, a divisor of them, makes a grouped
    convolution (as in TensorFlow: groups = channels / kernel channels): ``_grouped``.
    """
    groups = _groups(inputs, kernel, data_format)
    if groups > 1:
        return _grouped(conv, inputs, kernel, groups, data_format, strides=strides,
                        padding=padding, dilation_rate=dilation_rate)
    if np.ndim(value_of(inputs)) == 3:  # sequences: an image of height 1
        return _as_image(conv, inputs, data_format, kernel, strides=strides, padding=padding,
                         dilation_rate=dilation_rate)
    if np.ndim(value_of(inputs)) == 5:  # 3-D volumes: minikeras/ops/convolution.py
        from minikeras.ops.convolution import conv3d
        return conv3d(inputs, kernel, strides, padding, data_format, dilation_rate)
    if _data_format(data_format) == "channels_first":
        return _channels_first(conv, inputs, kernel, strides=strides, padding=padding,
                               dilation_rate=dilation_rate)
    x, k = value_of(inputs), value_of(kernel)
    x, k = np.asarray(x), np.asarray(k)
    if x.dtype != k.dtype:
        x, k = dtypes.promote(x, k)
    if k.ndim != 4:
        raise ValueError(f"`conv` expects a kernel of rank 4, (kh, kw, in_channels, filters); "
                         f"received kernel of shape {k.shape} for inputs of shape {x.shape}.")
    if x.ndim == 4 and k.shape[2] != x.shape[-1]:
        raise ValueError(f"The kernel's input channels ({k.shape[2]}, kernel shape {k.shape}) "
                         f"must equal the inputs' last axis (input shape {x.shape}).")
    kh, kw, c, f = k.shape
    strides, dilation = _pair(strides, "strides"), _pair(dilation_rate, "dilation_rate")
    a, pads = _padded(x, (kh, kw), strides, padding, dilation, 0, "conv")
    windows = _windows(a, (kh, kw), strides, dilation)
    n, oh, ow = windows.shape[:3]
    patches = windows.reshape(n * oh * ow, kh * kw * c)  # the one copy: im2col
    w = k.reshape(kh * kw * c, f)
    z = patches.dot(w).reshape(n, oh, ow, f)

    def d_inputs(g):
        return conv_input_gradient(g, w, windows.shape, a.shape, pads, strides, dilation)

    def d_kernel(g):
        return patches.T.dot(g.reshape(-1, f)).reshape(k.shape)  # dL/dW = Pᵀ g

    return record(z, (inputs, kernel), d_inputs, d_kernel)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The largest value of each window (windows move by ``strides``, default ``pool_size``):
        out[n, y, x, c] = max_{i, j} in[n, y·sh + i, x·sw + j, c]
        d/d in = g at the window's maximum, 0 at its other elements; of tied maxima the first
                 in reading order gets it all (as TensorFlow). "same" pads with -inf.
    """
    if np.ndim(value_of(inputs)) == 3:  # sequences: an image of height 1
        return _as_image(max_pool, inputs, data_format, pool_size=pool_size, strides=strides,
                         padding=padding)
    if np.ndim(value_of(inputs)) == 5:  # 3-D volumes: minikeras/ops/convolution.py
        from minikeras.ops.convolution import max_pool3d
        return max_pool3d(inputs, pool_size, strides, padding, data_format)
    if _data_format(data_format) == "channels_first":
        return _channels_first(max_pool, inputs, pool_size, strides=strides, padding=padding)
    a = np.asarray(value_of(inputs))
    pool = _pair(pool_size, "pool_size")
    strides = pool if strides is None else _pair(strides, "strides")
    fill = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
    padded, pads = _padded(a, pool, strides, padding, (1, 1), fill, "max_pool")
    windows = _windows(padded, pool, strides, (1, 1))
    n, oh, ow, ph, pw, c = windows.shape
    flat = windows.reshape(n, oh, ow, ph * pw, c)
    out = flat.max(axis=3)
    first = flat.argmax(axis=3)  # where the gradient goes: the first maximum of each window

    def d_inputs(g):
        hit = first[:, :, :, None, :] == np.arange(ph * pw)[:, None]  # one-hot: the argmax
        pieces = (hit * g[:, :, :, None, :]).reshape(windows.shape)
        return _scatter_windows(pieces, padded.shape, pads, strides, (1, 1))

    return record(out, (inputs,), d_inputs)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The mean of each window:
        out[n, y, x, c] = Σ_{i, j} in[n, y·sh + i, x·sw + j, c] / count
        d/d in = g / count at each element of the window
    where count = ph·pw, except that with "same" padding it counts only the real (un-padded)
    elements of the window, as TensorFlow does.
    """
    if np.ndim(value_of(inputs)) == 3:  # sequences: an image of height 1
        return _as_image(average_pool, inputs, data_format, pool_size=pool_size, strides=strides,
                         padding=padding)
    if np.ndim(value_of(inputs)) == 5:  # 3-D volumes: minikeras/ops/convolution.py
        from minikeras.ops.convolution import average_pool3d
        return average_pool3d(inputs, pool_size, strides, padding, data_format)
    if _data_format(data_format) == "channels_first":
        return _channels_first(average_pool, inputs, pool_size, strides=strides, padding=padding)
    a = np.asarray(value_of(inputs))
    pool = _pair(pool_size, "pool_size")
    strides = pool if strides is None else _pair(strides, "strides")
    padded, pads = _padded(a, pool, strides, padding, (1, 1), 0, "average_pool")
    windows = _windows(padded, pool, strides, (1, 1))
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype(backend.floatx())
    if pads == ((0, 0), (0, 0)):
        count = np.asarray(pool[0] * pool[1], dtype)
    else:  # pool a ones image padded with zeros: how many real pixels each window covers
        ones, _ = _padded(np.ones((1, *a.shape[1:3], 1), dtype), pool, strides, padding, (1, 1),
                          0, "average_pool")
        count = _windows(ones, pool, strides, (1, 1)).sum(axis=(3, 4))
    out = (windows.sum(axis=(3, 4)) / count).astype(dtype, copy=False)

    def d_inputs(g):
        share = g / count  # each element's share of its window's gradient
        pieces = np.broadcast_to(share[:, :, :, None, None, :], windows.shape)
        return _scatter_windows(pieces, padded.shape, pads, strides, (1, 1))

    return record(out, (inputs,), d_inputs)


# --- unfold (im2col), fold (col2im), polar -------------------------------------------------


def _fold_arguments(kernel_size, dilation, padding, stride):
    return (_pair(kernel_size, "kernel_size"), _pair(dilation, "dilation"),
            _pair(padding, "padding"), _pair(stride, "stride"))


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Every sliding block of a (N, C, H, W) image as a column (im2col), as ``keras.ops.unfold``:
        out[n, (c·kh + i)·kw + j, y·ow + x] = padded[n, c, y·sh + i·dh, x·sw + j·dw]
    of shape (N, C·kh·kw, oh·ow), the image zero-padded by ``padding`` on each side;
        d/d x = ``fold`` of the output gradient (each block's gradient added back where it
                was read, the padding cropped off).
    """
    shape = np.shape(value_of(x))
    if len(shape) != 4:
        raise ValueError(f"Input must be a 4D tensor. Received: input.shape={shape}")
    k, d, p, s = _fold_arguments(kernel_size, dilation, padding, stride)
    a = np.asarray(value_of(x)).transpose(0, 2, 3, 1)  # the windows helpers work on NHWC
    pads = ((p[0], p[0]), (p[1], p[1]))
    padded = np.pad(a, ((0, 0), *pads, (0, 0)))
    windows = _windows(padded, k, s, d)  # (N, oh, ow, kh, kw, C)
    n, oh, ow, kh, kw, c = windows.shape
    out = windows.transpose(0, 5, 3, 4, 1, 2).reshape(n, c * kh * kw, oh * ow)

    def d_x(g):
        pieces = g.reshape(n, c, kh, kw, oh, ow).transpose(0, 4, 5, 2, 3, 1)
        return _scatter_windows(pieces, padded.shape, pads, s, d).transpose(0, 3, 1, 2)

    return record(out, (x,), d_x)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The columns of ``unfold`` added back into a (N, C, oH, oW) image (col2im), as
    ``keras.ops.fold``: each value of block column l goes onto the pixel ``unfold`` read it from,
    overlapping blocks sum, and the padding is cropped off (so ``fold(unfold(x))`` is ``x``
    times how many blocks cover each pixel);
        d/d x = ``unfold`` of the output gradient (fold is unfold's adjoint).
    """
    shape = np.shape(value_of(x))
    if len(shape) != 3:
        raise ValueError(f"Input must be a 3D tensor. Received: input.shape={shape}")
    (kh, kw), d, p, s = _fold_arguments(kernel_size, dilation, padding, stride)
    out_h, out_w = _pair(output_size, "output_size")
    n, ckk, blocks = shape
    if ckk % (kh * kw) != 0:
        raise ValueError(f"The second dimension of the input ({ckk}) must be divisible by "
                         f"kernel_size product ({kh * kw}).")
    c = ckk // (kh * kw)
    oh = (out_h + 2 * p[0] - d[0] * (kh - 1) - 1) // s[0] + 1
    ow = (out_w + 2 * p[1] - d[1] * (kw - 1) - 1) // s[1] + 1
    if oh * ow != blocks:
        raise ValueError(f"`fold` expects {oh} x {ow} = {oh * ow} blocks for output_size="
                         f"{(out_h, out_w)}, kernel_size={(kh, kw)}, dilation={d}, padding={p}, "
                         f"stride={s}. Received: input.shape={shape}")
    a = np.asarray(value_of(x))
    pads = ((p[0], p[0]), (p[1], p[1]))
    padded_shape = (n, out_h + 2 * p[0], out_w + 2 * p[1], c)
    pieces = a.reshape(n, c, kh, kw, oh, ow).transpose(0, 4, 5, 2, 3, 1)
    out = _scatter_windows(pieces, padded_shape, pads, s, d).transpose(0, 3, 1, 2)

    def d_x(g):
        padded = np.pad(g.transpose(0, 2, 3, 1), ((0, 0), *pads, (0, 0)))
        windows = _windows(padded, (kh, kw), s, d)
        return windows.transpose(0, 5, 3, 4, 1, 2).reshape(shape)

    return record(out, (x,), d_x)


def polar(abs_, angle):
    """The complex number with magnitude ``abs_`` and angle ``angle`` (as ``torch.polar``):
        out = abs_·cos(angle) + i·abs_·sin(angle)          (complex64 for float32 inputs)
        d/d abs_ = Re(g)·cos(angle) + Im(g)·sin(angle)
        d/d angle = abs_·(Im(g)·cos(angle) - Re(g)·sin(angle))
    with ``g`` the complex output gradient in TensorFlow's convention (∂L/∂Re + i·∂L/∂Im)."""
    r = np_ops._floats(abs_)
    theta = np_ops._floats(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    out = (r * cos + 1j * (r * sin)).astype(np.result_type(r.dtype, theta.dtype, np.complex64))
    return record(out, (abs_, angle), lambda g: np.real(g) * cos + np.imag(g) * sin,
                  lambda g: r * (np.imag(g) * cos - np.real(g) * sin))
