"""Array math (``keras.ops`` numpy namespace), each op with its derivative beside it.

Each differentiable op computes its value from plain arrays ``a`` (and ``b``) and hands
``record`` one backward function per input: given ``g`` = d loss / d output, it returns
d loss / d input by the chain rule. The tape sums broadcast axes back out afterwards, so
``add`` can simply pass ``g`` through even when a bias of shape ``(3,)`` met a batch ``(32, 3)``.
"""

import builtins
import functools

import numpy as np

from minikeras import dtypes
from minikeras.autodiff import record
from minikeras.ops.core import value_of
from minikeras.tensor import Tensor

# --- elementwise arithmetic ----------------------------------------------------------------


def _operands(x1, x2):
    """The values of ``x1`` and ``x2`` in Keras's common dtype (see ``minikeras.dtypes``): an
    int meets a float in the float's dtype, where NumPy alone would widen to float64."""
    return dtypes.promote(value_of(x1), value_of(x2))


def add(x1, x2):
    """x1 + x2;  d/dx1 = 1, d/dx2 = 1."""
    return record(np.add(*_operands(x1, x2)), (x1, x2), _identity, _identity)


def subtract(x1, x2):
    """x1 - x2;  d/dx1 = 1, d/dx2 = -1."""
    return record(np.subtract(*_operands(x1, x2)), (x1, x2), _identity, np.negative)


def multiply(x1, x2):
    """x1 * x2;  d/dx1 = x2, d/dx2 = x1."""
    a, b = _operands(x1, x2)
    return record(np.multiply(a, b), (x1, x2), lambda g: g * b, lambda g: g * a)


def divide(x1, x2):
    """x1 / x2;  d/dx1 = 1 / x2, d/dx2 = -x1 / x2**2.  Integers divide into floatx."""
    a, b = dtypes.promote(value_of(x1), value_of(x2), floating=True)
    out = np.divide(a, b)
    return record(out, (x1, x2), lambda g: g / b, lambda g: -g * out / b)


true_divide = divide


def negative(x):
    """-x;  d/dx = -1."""
    return record(np.negative(value_of(x)), (x,), np.negative)


def power(x1, x2):
    """x1 ** x2;  d/dx1 = x2 * x1**(x2 - 1), d/dx2 = x1**x2 * log(x1) (0 where x1 <= 0)."""
    a, b = _operands(x1, x2)
    out = np.power(a, b)

    def d_base(g):
        return g * b * np.power(a, np.subtract(b, 1))

    def d_exponent(g):
        return g * out * np.log(np.where(np.greater(a, 0), a, 1))

    return record(out, (x1, x2), d_base, d_exponent)


def square(x):
    """x**2;  d/dx = 2x."""
    a = value_of(x)
    return record(np.square(a), (x,), lambda g: g * 2 * a)


def sqrt(x):
    """sqrt(x);  d/dx = 1 / (2 sqrt(x))."""
    out = np.sqrt(value_of(x))
    return record(out, (x,), lambda g: g * 0.5 / out)


def exp(x):
    """e**x;  d/dx = e**x."""
    out = np.exp(value_of(x))
    return record(out, (x,), lambda g: g * out)


def log(x):
    """ln(x);  d/dx = 1 / x."""
    a = value_of(x)
    return record(np.log(a), (x,), lambda g: g / a)


def log1p(x):
    """ln(1 + x), exact for small x;  d/dx = 1 / (1 + x)."""
    a = value_of(x)
    return record(np.log1p(a), (x,), lambda g: g / (1 + a))


def abs(x):
    """|x|;  d/dx = sign(x) (0 at 0, as TensorFlow)."""
    a = value_of(x)
    return record(np.abs(a), (x,), lambda g: g * np.sign(a))


absolute = abs


def sign(x):
    """-1, 0 or 1; its derivative is 0 everywhere it exists."""
    return Tensor(np.sign(value_of(x)))


def maximum(x1, x2):
    """Elementwise max;  the gradient goes to x1 where x1 >= x2, else to x2 (TensorFlow's rule)."""
    a, b = _operands(x1, x2)
    first = np.greater_equal(a, b)
    return record(np.maximum(a, b), (x1, x2),
                  lambda g: g * first, lambda g: g * ~first)


def minimum(x1, x2):
    """Elementwise min;  the gradient goes to x1 where x1 <= x2, else to x2."""
    a, b = _operands(x1, x2)
    first = np.less_equal(a, b)
    return record(np.minimum(a, b), (x1, x2),
                  lambda g: g * first, lambda g: g * ~first)


def clip(x, x_min, x_max):
    """min(max(x, x_min), x_max);  d/dx = 1 inside [x_min, x_max], 0 outside."""
    a = value_of(x)
    inside = (a >= value_of(x_min)) & (a <= value_of(x_max))
    return record(np.clip(a, value_of(x_min), value_of(x_max)), (x,), lambda g: g * inside)


def where(condition, x1=None, x2=None):
    """x1 where condition holds, else x2;  the gradient follows the same choice."""
    c = np.asarray(value_of(condition), dtype=bool)
    if x1 is None and x2 is None:  # the indices of the True entries, one array per axis
        return [Tensor(i.astype("int32")) for i in np.nonzero(c)]
    a, b = _operands(x1, x2)
    return record(np.where(c, a, b), (x1, x2),
                  lambda g: np.where(c, g, 0), lambda g: np.where(c, 0, g))


# --- matrix product ----------------------------------------------------------------------


def matmul(x1, x2):
    """x1 @ x2 (batched over leading axes);  d/dx1 = g @ x2^T, d/dx2 = x1^T @ g.

    A rank-1 x1 is a row (1, n) and a rank-1 x2 a column (n, 1), as in NumPy; the tape then sums
    the gradient over the broadcast leading axes (e.g. over batch and time for a Dense kernel).
    """
    a, b = _operands(x1, x2)
    if getattr(a, "dtype", None) == np.int8 == getattr(b, "dtype", None):
        a, b = a.astype(np.int32), b.astype(np.int32)  # as Keras: int8 products sum in int32
    if getattr(a, "ndim", 0) == 2 == getattr(b, "ndim", 0):  # a batch of rows times a matrix
        # ndarray.dot is the same product as @ for matrices, with less overhead when they are small
        return record(a.dot(b), (x1, x2), lambda g: g.dot(b.T), lambda g: a.T.dot(g))
    a2 = np.expand_dims(a, 0) if np.ndim(a) == 1 else a
    b2 = np.expand_dims(b, -1) if np.ndim(b) == 1 else b

    def as_matrices(g):  # put back the axes that a rank-1 operand removed from the output
        g = np.expand_dims(g, -1) if np.ndim(b) == 1 else g
        return np.expand_dims(g, -2) if np.ndim(a) == 1 else g

    def d_x1(g):
        d = np.matmul(as_matrices(g), np.swapaxes(b2, -1, -2))
        return d[..., 0, :] if np.ndim(a) == 1 else d

    def d_x2(g):
        if np.ndim(a) > 2 and np.ndim(b) == 2:  # (..., n) @ (n, m): sum over all leading axes
            return np.tensordot(a, g, axes=(tuple(range(a.ndim - 1)),) * 2)
        d = np.matmul(np.swapaxes(a2, -1, -2), as_matrices(g))
        return d[..., 0] if np.ndim(b) == 1 else d

    return record(np.matmul(a, b), (x1, x2), d_x1, d_x2)


def dot(x1, x2):
    return matmul(x1, x2)


# --- reductions ----------------------------------------------------------------------------


def _restore(g, shape, axis, keepdims):
    """Spread ``g`` back over the reduced axes: a new array of the input's ``shape``."""
    g = np.asarray(g)
    out = np.empty(shape, dtype=g.dtype)
    out[...] = g if keepdims else g.reshape(_kept_shape(shape, axis))
    return out


@functools.cache
def _kept_shape(shape, axis):
    """``shape`` after a reduction over ``axis`` with ``keepdims=True``: reduced axes are 1."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def sum(x, axis=None, keepdims=False):
    """Σ x over ``axis``;  each input element gets the output's gradient (d/dx_i = 1)."""
    a = np.asarray(value_of(x))
    axis = _axis(axis)
    total = np.add.reduce(a, axis=axis, dtype=_SUM_DTYPES.get(a.dtype), keepdims=keepdims)
    return record(total, (x,), lambda g: _restore(g, a.shape, axis, keepdims))


# Keras (following JAX) sums small integers in 32 bits; other types keep their own.
_SUM_DTYPES = {np.dtype(small): np.dtype(wide) for small, wide in [
    ("bool", "int32"), ("int8", "int32"), ("int16", "int32"), ("int32", "int32"),
    ("uint8", "uint32"), ("uint16", "uint32"), ("uint32", "uint32")]}


def mean(x, axis=None, keepdims=False):
    """Σ x / n over ``axis``;  d/dx_i = 1 / n.

    As in Keras, the sum runs in float32 at least (float16 is summed in float32 and rounded back)
    and integers average to float32.
    """
    a = np.asarray(value_of(x))
    axis = _axis(axis)
    compute, result = _mean_dtypes(a.dtype)
    total = np.add.reduce(a, axis=axis, dtype=compute, keepdims=keepdims)
    n = a.size // builtins.max(total.size, 1)
    out = total / n
    if out.dtype != result:  # float16, summed in float32
        out = out.astype(result)
    return record(out, (x,), lambda g: _restore(g / n, a.shape, axis, keepdims))


@functools.cache
def _mean_dtypes(dtype):
    """(the dtype to sum in, the dtype of the mean) for an input of ``dtype``."""
    compute = np.dtype(dtypes.result_type(dtype, "float32"))
    return compute, dtype if dtype.kind == "f" else compute


def _extreme(reduce, x, axis, keepdims):
    """max/min;  the gradient is shared equally by the elements that tie for the extreme."""
    a = np.asarray(value_of(x))
    axis = _axis(axis)
    out = reduce(a, axis=axis, keepdims=True)
    winners = a == out
    count = np.sum(winners, axis=axis, keepdims=True)
    result = out if keepdims else np.squeeze(out, axis=axis)
    return record(result, (x,),
                  lambda g: _restore(g, a.shape, axis, keepdims) * winners / count)


def max(x, axis=None, keepdims=False, initial=None):
    """The largest value; with ``initial``, maximum(max(x), initial) (as Keras computes it)."""
    out = _extreme(np.max, x, axis, keepdims)
    return out if initial is None else maximum(out, initial)


def min(x, axis=None, keepdims=False, initial=None):
    """The smallest value; with ``initial``, minimum(min(x), initial)."""
    out = _extreme(np.min, x, axis, keepdims)
    return out if initial is None else minimum(out, initial)


amax, amin = max, min


def logsumexp(x, axis=None, keepdims=False):
    """log Σ exp(x), computed as m + log Σ exp(x - m);  d/dx = softmax(x)."""
    a = np.asarray(value_of(x))
    axis = _axis(axis)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(a - m)
    s = np.sum(e, axis=axis, keepdims=True)
    out = np.log(s) + m
    result = out if keepdims else np.squeeze(out, axis=axis)
    return record(result, (x,), lambda g: _restore(g, a.shape, axis, keepdims) * e / s)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def argmax(x, axis=None, keepdims=False):
    return Tensor(np.argmax(value_of(x), axis=axis, keepdims=keepdims))


def argmin(x, axis=None, keepdims=False):
    return Tensor(np.argmin(value_of(x), axis=axis, keepdims=keepdims))


# --- shapes ---------------------------------------------------------------------------------


def reshape(x, newshape):
    """Same values, new shape;  the gradient is reshaped back."""
    a = np.asarray(value_of(x))
    newshape = tuple(-1 if d is None else d for d in np.atleast_1d(newshape).tolist())
    return record(np.reshape(a, newshape), (x,), lambda g: np.reshape(g, a.shape))


def transpose(x, axes=None):
    """Permute axes;  the gradient is permuted back with the inverse permutation."""
    a = value_of(x)
    inverse = None if axes is None else np.argsort([axis % np.ndim(a) for axis in axes])
    return record(np.transpose(a, axes), (x,), lambda g: np.transpose(g, inverse))


def expand_dims(x, axis):
    a = np.asarray(value_of(x))
    return record(np.expand_dims(a, axis), (x,), lambda g: np.reshape(g, a.shape))


def squeeze(x, axis=None):
    a = np.asarray(value_of(x))
    return record(np.squeeze(a, axis), (x,), lambda g: np.reshape(g, a.shape))


def concatenate(xs, axis=0):
    """Join along ``axis``;  each input gets back its own slice of the gradient."""
    arrays = [np.asarray(value_of(x)) for x in xs]
    bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
    backward = [lambda g, i=i: np.split(g, bounds, axis=axis)[i] for i in range(len(xs))]
    return record(np.concatenate(arrays, axis=axis), tuple(xs), *backward)


def stack(xs, axis=0):
    """Stack along a new ``axis``;  input i gets the gradient's slice i along that axis."""
    arrays = [value_of(x) for x in xs]
    backward = [lambda g, i=i: np.take(g, i, axis=axis) for i in range(len(xs))]
    return record(np.stack(arrays, axis=axis), tuple(xs), *backward)


def take(x, indices, axis=None):
    """Gather entries;  the gradient is scattered back (added where an index repeats)."""
    a = np.asarray(value_of(x))
    idx = np.asarray(value_of(indices))

    key = idx if axis is None else (slice(None),) * (axis % a.ndim) + (idx,)

    def d_x(g):
        out = np.zeros_like(a)
        np.add.at(out.reshape(-1) if axis is None else out, key, g)
        return out

    return record(np.take(a, idx, axis=axis), (x,), d_x)


def getitem(x, key):
    """x[key] (slices, integers, masks, index arrays);  the gradient lands back where it came."""
    a = value_of(x)
    key = _index(key)

    def d_x(g):
        out = np.zeros_like(a)
        np.add.at(out, key, g)
        return out

    return record(a[key], (x,), d_x)


def _index(key):
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    if isinstance(key, slice | int | type(None)) or key is Ellipsis:
        return key
    return value_of(key)


def ones_like(x, dtype=None):
    return Tensor(np.ones_like(value_of(x), dtype=dtype))


def zeros_like(x, dtype=None):
    return Tensor(np.zeros_like(value_of(x), dtype=dtype))


# --- comparisons (not differentiable) ------------------------------------------------------


def equal(x1, x2):
    return Tensor(np.equal(value_of(x1), value_of(x2)))


def not_equal(x1, x2):
    return Tensor(np.not_equal(value_of(x1), value_of(x2)))


def greater(x1, x2):
    return Tensor(np.greater(value_of(x1), value_of(x2)))


def greater_equal(x1, x2):
    return Tensor(np.greater_equal(value_of(x1), value_of(x2)))


def less(x1, x2):
    return Tensor(np.less(value_of(x1), value_of(x2)))


def less_equal(x1, x2):
    return Tensor(np.less_equal(value_of(x1), value_of(x2)))


def _identity(g):
    return g
