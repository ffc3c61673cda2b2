"""Array math (``keras.ops`` numpy namespace), each op with its derivative beside it.

Each differentiable op computes its value from plain arrays ``a`` (and ``b``) and hands
``record`` one backward function per input: given ``g`` = d loss / d output, it returns
d loss / d input by the chain rule. The tape sums broadcast axes back out afterwards, so
``add`` can simply pass ``g`` through even when a bias of shape ``(3,)`` met a batch ``(32, 3)``.
"""

import builtins
import functools
import re

import numpy as np

from minikeras import backend, dtypes
from minikeras.autodiff import record
from minikeras.ops.core import _to_array, cast, value_of
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
    out = np.sqrt(_floats(x))
    return record(out, (x,), lambda g: g * 0.5 / out)


def exp(x):
    """e**x;  d/dx = e**x."""
    out = np.exp(_floats(x))
    return record(out, (x,), lambda g: g * out)


def log(x):
    """ln(x);  d/dx = 1 / x."""
    a = _floats(x)
    return record(np.log(a), (x,), lambda g: g / a)


def log1p(x):
    """ln(1 + x), exact for small x;  d/dx = 1 / (1 + x)."""
    a = _floats(x)
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


def _restore(g, shape, axis, keepdims, divisor=1):
    """Spread ``g / divisor`` back over the reduced axes: a new array of the input's ``shape``."""
    g = np.asarray(g)
    out = np.empty(shape, dtype=g.dtype)
    if g.ndim == 0:  # one number (a loss): divided as a Python float, a double, which rounds
        out.fill(g if divisor == 1 else g.item() / divisor)  # to g's dtype as g / divisor does
        return out
    if divisor != 1:
        g = g / divisor
    out[...] = g if keepdims else g.reshape(_kept_shape(shape, axis))
    return out


@functools.cache
def _reduced(shape, axis, keepdims):
    """(the result's shape, how many values each result reduces) for a reduction over ``axis``."""
    axes = range(len(shape)) if axis is None else {
        a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    out = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keepdims else tuple(
        d for i, d in enumerate(shape) if i not in axes)
    n = 1
    for i in axes:
        n *= shape[i]
    return out, n


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
    out_shape, n = _reduced(a.shape, axis, keepdims)
    if n == 1:  # each mean is of one value (a loss's last axis of size 1): a reshape
        return record(a.reshape(out_shape).astype(result, copy=False), (x,),
                      lambda g: g.reshape(a.shape))
    total = np.add.reduce(a, axis=axis, dtype=compute, keepdims=keepdims)
    out = total / n
    if out.dtype != result:  # float16, summed in float32
        out = out.astype(result)
    return record(out, (x,), lambda g: _restore(g, a.shape, axis, keepdims, divisor=n))


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


# --- creation (not differentiable) ---------------------------------------------------------


def _dtype_or_floatx(dtype):
    return backend.standardize_dtype(dtype or backend.floatx())


def arange(start, stop=None, step=None, dtype=None):
    """start, start + step, ... below stop; the dtype follows the arguments (ints give int32)."""
    if dtype is None:
        args = [start] + [v for v in (stop, step) if v is not None]
        dtype = dtypes.result_type(*[getattr(v, "dtype", type(v)) for v in args])
    start, stop = (0, start) if stop is None else (start, stop)
    step = 1 if step is None else value_of(step)
    values = np.arange(value_of(start), value_of(stop), step)
    return Tensor(values.astype(backend.standardize_dtype(dtype)))


def ones(shape, dtype=None):
    return Tensor(np.ones(shape, _dtype_or_floatx(dtype)))


def zeros(shape, dtype=None):
    return Tensor(np.zeros(shape, _dtype_or_floatx(dtype)))


def empty(shape, dtype=None):
    """As Keras's TensorFlow backend: zeros (NumPy's uninitialized memory would be random)."""
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None):
    return Tensor(np.full(shape, value_of(fill_value), _dtype_or_floatx(dtype)))


def full_like(x, fill_value, dtype=None):
    return Tensor(np.full_like(value_of(x), value_of(fill_value), dtype=dtype))


def eye(N, M=None, k=0, dtype=None):
    return Tensor(np.eye(N, M, k, dtype=_dtype_or_floatx(dtype)))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal."""
    return Tensor(np.tri(N, M, k, dtype=_dtype_or_floatx(dtype)))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from start to stop; integer dtypes are floored, as in Keras."""
    if dtype is None:
        dtype = dtypes.result_type(getattr(start, "dtype", type(start)),
                                   getattr(stop, "dtype", type(stop)), float)
    dtype = backend.standardize_dtype(dtype)
    values, step = np.linspace(value_of(start), value_of(stop), num, endpoint=endpoint,
                               retstep=True, axis=axis)
    if "int" in dtype:
        values = np.floor(values)
    values = Tensor(values.astype(dtype))
    return (values, Tensor(np.asarray(step, dtype))) if retstep else values


# --- elementwise math ----------------------------------------------------------------------


def _floats(x, int64="floatx"):
    """The value of ``x`` as floats: Keras's float math turns ints and bools into floatx
    (int64 into ``int64``: floatx for most ops, float64 for a few)."""
    a = value_of(x)
    a = np.asarray(a) if isinstance(a, np.ndarray | np.generic) else _to_array(a)
    if a.dtype.kind not in "fc":
        if a.dtype == np.int64:
            return a.astype(backend.floatx() if int64 == "floatx" else int64)
        a = a.astype(dtypes.result_type(a.dtype, float))
    return a


def sin(x):
    """sin(x);  d/dx = cos(x)."""
    a = _floats(x)
    return record(np.sin(a), (x,), lambda g: g * np.cos(a))


def cos(x):
    """cos(x);  d/dx = -sin(x)."""
    a = _floats(x)
    return record(np.cos(a), (x,), lambda g: -g * np.sin(a))


def tan(x):
    """tan(x);  d/dx = 1 / cos(x)**2."""
    a = _floats(x)
    return record(np.tan(a), (x,), lambda g: g / np.square(np.cos(a)))


def arcsin(x):
    """asin(x) for |x| <= 1;  d/dx = 1 / sqrt(1 - x**2)."""
    a = _floats(x)
    return record(np.arcsin(a), (x,), lambda g: g / np.sqrt(1 - a * a))


def arccos(x):
    """acos(x) for |x| <= 1;  d/dx = -1 / sqrt(1 - x**2)."""
    a = _floats(x)
    return record(np.arccos(a), (x,), lambda g: -g / np.sqrt(1 - a * a))


def arctan(x):
    """atan(x);  d/dx = 1 / (1 + x**2)."""
    a = _floats(x)
    return record(np.arctan(a), (x,), lambda g: g / (1 + a * a))


def arctan2(x1, x2):
    """The angle of the point (x2, x1);  d/dx1 = x2 / (x1² + x2²), d/dx2 = -x1 / (x1² + x2²)."""
    a, b = _float_operands(x1, x2)
    r2 = a * a + b * b
    return record(np.arctan2(a, b), (x1, x2), lambda g: g * b / r2, lambda g: -g * a / r2)


def sinh(x):
    """sinh(x);  d/dx = cosh(x)."""
    a = _floats(x)
    return record(np.sinh(a), (x,), lambda g: g * np.cosh(a))


def cosh(x):
    """cosh(x);  d/dx = sinh(x)."""
    a = _floats(x)
    return record(np.cosh(a), (x,), lambda g: g * np.sinh(a))


def arcsinh(x):
    """asinh(x);  d/dx = 1 / sqrt(x**2 + 1) = 1 / cosh(asinh(x))."""
    a = _floats(x)
    out = np.arcsinh(a)
    return record(out, (x,), lambda g: g / np.cosh(out))


def arccosh(x):
    """acosh(x) for x >= 1;  d/dx = 1 / sqrt(x**2 - 1) = 1 / sinh(acosh(x))."""
    a = _floats(x)
    out = np.arccosh(a)
    return record(out, (x,), lambda g: g / np.sinh(out))


def arctanh(x):
    """atanh(x) for |x| < 1;  d/dx = 1 / (1 - x**2)."""
    a = _floats(x)
    return record(np.arctanh(a), (x,), lambda g: g / (1 - a * a))


def expm1(x):
    """e**x - 1, exact for small x;  d/dx = e**x."""
    a = _floats(x)
    return record(np.expm1(a), (x,), lambda g: g * np.exp(a))


def exp2(x):
    """2**x;  d/dx = 2**x ln 2."""
    a = _floats(x)
    out = np.exp2(a)
    return record(out, (x,), lambda g: g * out * np.log(2).astype(out.dtype))


def log2(x):
    """log2(x) = ln(x) / ln 2;  d/dx = 1 / (x ln 2)."""
    a = _floats(x)
    return record(np.log2(a), (x,), lambda g: g / a / np.log(2).astype(a.dtype))


def log10(x):
    """log10(x) = ln(x) / ln 10;  d/dx = 1 / (x ln 10)."""
    a = _floats(x)
    return record(np.log10(a), (x,), lambda g: g / a / np.log(10).astype(a.dtype))


def reciprocal(x):
    """1 / x (integers stay integers, as tf.math.reciprocal);  d/dx = -1 / x**2."""
    a = value_of(x)
    a = _floats(a) if isinstance(a, float | int) else np.asarray(a)
    out = np.reciprocal(a)
    return record(out, (x,), lambda g: -g * out * out)


def cbrt(x):
    """sign(x) |x|**(1/3);  d/dx = |x|**(-2/3) / 3 (infinite at 0)."""
    a = _floats(x, int64="float64")
    out = np.cbrt(a)
    return record(out, (x,), lambda g: g / (3 * out * out))


def _rounding(fn, x):
    """floor/ceil: integers become floats first (as Keras); no gradient flows through a step."""
    return Tensor(fn(_floats(x)))


def floor(x):
    """The largest integer <= x (as a float). Not differentiable: its gradient is 0."""
    return _rounding(np.floor, x)


def ceil(x):
    """The smallest integer >= x (as a float). Not differentiable: its gradient is 0."""
    return _rounding(np.ceil, x)


def round(x, decimals=0):
    """Round half to even (at ``decimals`` places); keeps the dtype. Gradient 0."""
    a = np.asarray(value_of(x))
    if a.dtype.kind in "iub":
        return Tensor(a if decimals >= 0 else np.round(a, decimals))
    return Tensor(np.round(a, decimals))


def trunc(x):
    """Round toward zero; keeps the dtype. Gradient 0."""
    a = np.asarray(value_of(x))
    return Tensor(a if a.dtype.kind in "iub" else np.trunc(a))


def fabs(x):
    """|x| as floats (integers become floatx);  d/dx = sign(x) (0 at 0, as TensorFlow)."""
    a = _floats(x)
    return record(np.abs(a), (x,), lambda g: g * np.sign(a))


def divide_no_nan(x1, x2):
    """x1 / x2, and 0 where x2 = 0;  d/dx1 = 1 / x2, d/dx2 = -x1 / x2**2 (both 0 where x2 = 0)."""
    a, b = dtypes.promote(value_of(x1), value_of(x2), floating=True)
    a, b = np.asarray(a), np.asarray(b)
    zero = b == 0
    safe = np.where(zero, 1, b)
    out = np.where(zero, 0, a / safe)
    return record(out, (x1, x2), lambda g: np.where(zero, 0, g / safe),
                  lambda g: np.where(zero, 0, -g * out / safe))


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """|x1 - x2| <= atol + rtol |x2| (exact equality for integers)."""
    a, b = _operands(x1, x2)
    if np.asarray(a).dtype.kind != "f":
        return Tensor(np.equal(a, b))
    close = np.abs(np.subtract(a, b)) <= atol + rtol * np.abs(b)
    return Tensor(close | (np.isnan(a) & np.isnan(b)) if equal_nan else close)


def _float_operands(x1, x2):
    """The values of x1 and x2 in Keras's common dtype with a float joined (ints become floats)."""
    a, b = value_of(x1), value_of(x2)
    dtype = dtypes.result_type(getattr(a, "dtype", type(a)), getattr(b, "dtype", type(b)), float)
    return np.asarray(a, dtype), np.asarray(b, dtype)


def mod(x1, x2):
    """x1 - floor(x1 / x2) x2 (the sign of x2);  d/dx1 = 1, d/dx2 = -floor(x1 / x2)."""
    a, b = _operands(x1, x2)
    if np.asarray(a).dtype == bool and np.asarray(b).dtype == bool:
        a, b = np.asarray(a, "int32"), np.asarray(b, "int32")
    return record(np.mod(a, b), (x1, x2), _identity, lambda g: -g * np.floor_divide(a, b))


def floor_divide(x1, x2):
    """floor(x1 / x2). Not differentiable (TensorFlow gives no gradient)."""
    a, b = _operands(x1, x2)
    if np.asarray(a).dtype.kind == "f" or np.asarray(b).dtype.kind == "f":
        return Tensor(np.floor(np.divide(a, b)))
    return Tensor(np.floor_divide(a, b))


def logaddexp(x1, x2):
    """log(e**x1 + e**x2), computed as max(x1, x2) + log1p(e**-|x1 - x2|);
    d/dx1 = sigmoid(x1 - x2), d/dx2 = sigmoid(x2 - x1).

    At a tie TensorFlow's chain rule through max and |.| gives d/dx1 = 1, d/dx2 = 0 (not 1/2);
    the same terms are written out here: [x1 >= x2] - sign(x1 - x2) e**-|d| / (1 + e**-|d|).
    """
    return _logaddexp(x1, x2, 1.0)


def logaddexp2(x1, x2):
    """log2(2**x1 + 2**x2) = max(x1, x2) + log1p(2**-|x1 - x2|) / ln 2;  the derivatives of
    logaddexp, with 2**-|d| in place of e**-|d| (and the same rule at ties)."""
    return _logaddexp(x1, x2, np.log(2))


def _logaddexp(x1, x2, ln_base):
    a, b = _float_operands(x1, x2)
    ln_base = a.dtype.type(ln_base)
    d = a - b
    e = np.exp(-np.abs(d) * ln_base)
    first = np.greater_equal(a, b)
    side = np.sign(d) * e / (1 + e)  # sign(d) sigmoid(-|d| ln base)
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, as in Keras
        out = np.where(np.isnan(d), a + b, np.maximum(a, b) + np.log1p(e) / ln_base)
    return record(out, (x1, x2), lambda g: g * (first - side), lambda g: g * (~first + side))


def fmod(x1, x2):
    """The remainder of truncated division, with the sign of x1: sign(x1) mod(|x1|, |x2|) as
    Keras writes it;  d/dx1 = sign(x1)² (1, but 0 at x1 = 0),
    d/dx2 = -sign(x1) sign(x2) floor(|x1| / |x2|)."""
    a, b = _operands(x1, x2)
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == bool and b.dtype == bool:
        a, b = a.astype("int32"), b.astype("int32")
    return record(np.fmod(a, b), (x1, x2), lambda g: g * np.sign(a) * np.sign(a),
                  lambda g: -g * np.sign(a) * np.sign(b) * np.floor_divide(np.abs(a), np.abs(b)))


def heaviside(x1, x2):
    """0 where x1 < 0, 1 where x1 > 0, x2 where x1 = 0 (integers become floatx)."""
    a, b = value_of(x1), value_of(x2)
    dtype = np.dtype(dtypes.result_type(getattr(a, "dtype", type(a)), getattr(b, "dtype", type(b))))
    if dtype.kind in "iub":
        dtype = np.dtype("float64" if dtype == np.int64 else backend.floatx())
    return Tensor(np.heaviside(np.asarray(a, dtype), np.asarray(b, dtype)))


def hypot(x1, x2):
    """sqrt(x1**2 + x2**2) without overflow;  d/dx1 = x1 / hypot, d/dx2 = x2 / hypot."""
    a, b = _float_operands(x1, x2)
    out = np.hypot(a, b)
    return record(out, (x1, x2), lambda g: g * a / out, lambda g: g * b / out)


def deg2rad(x):
    """x π / 180;  d/dx = π / 180."""
    a = _floats(x, int64="float64")
    scale = a.dtype.type(np.pi) / a.dtype.type(180)
    return record(a * scale, (x,), lambda g: g * scale)


def rad2deg(x):
    """x 180 / π;  d/dx = 180 / π."""
    a = _floats(x, int64="float64")
    scale = a.dtype.type(180) / a.dtype.type(np.pi)
    return record(a * scale, (x,), lambda g: g * scale)


def signbit(x):
    """True where the sign bit is set (negative numbers and -0.0)."""
    return Tensor(np.signbit(value_of(x)))


def isposinf(x):
    return Tensor(np.isposinf(value_of(x)))


def isneginf(x):
    return Tensor(np.isneginf(value_of(x)))


# --- more reductions and scans -------------------------------------------------------------

_PROD_DTYPES = {np.dtype(small): np.dtype(wide) for small, wide in [
    ("bool", "int32"), ("int8", "int32"), ("int16", "int32"), ("uint8", "uint32"),
    ("uint16", "uint32")]}


def _axes(axis, ndim):
    """``axis`` (None, an int, a tuple or list) as a sorted list of non-negative axes."""
    if axis is None:
        return list(range(ndim))
    return sorted({ax % ndim for ax in (axis if isinstance(axis, list | tuple) else (axis,))})


def _product_of_others(a, axis):
    """For each element, the product of the other elements in its reduction group: left and
    right exclusive cumulative products, so zeros need no division (TensorFlow's ProdGrad)."""
    reduced = _axes(axis, a.ndim)
    kept = [i for i in range(a.ndim) if i not in reduced]
    moved = np.transpose(a, kept + reduced)
    n = int(np.prod([a.shape[i] for i in reduced]))
    flat = moved.reshape(moved.shape[:len(kept)] + (n,))
    ones = np.ones_like(flat[..., :1])
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], -1), -1)
    right = np.flip(np.cumprod(np.concatenate([ones, np.flip(flat, -1)[..., :-1]], -1), -1), -1)
    return np.transpose((left * right).reshape(moved.shape), np.argsort(kept + reduced))


def prod(x, axis=None, keepdims=False, dtype=None):
    """Π x over ``axis``;  d/dx_i = the product of the other elements (exact where x_i = 0)."""
    a = np.asarray(value_of(x))
    if dtype is None:  # as Keras: small integers and bools multiply in 32 bits
        a = a.astype(_PROD_DTYPES.get(a.dtype, a.dtype))
    axis = _axis(axis)
    out = np.multiply.reduce(a, axis=axis, dtype=a.dtype, keepdims=keepdims)
    return record(out, (x,),
                  lambda g: _restore(g, a.shape, axis, keepdims) * _product_of_others(a, axis))


def var(x, axis=None, keepdims=False):
    """mean((x - mean(x))**2) over ``axis``;  d/dx_i = 2 (x_i - mean) / n."""
    a = np.asarray(value_of(x))
    result = dtypes.result_type(a.dtype, float)
    a = a.astype(dtypes.result_type(a.dtype, "float32"))
    axis = _axis(axis)
    centered = a - np.mean(a, axis=axis, keepdims=True)
    n = a.size // builtins.max(np.mean(a, axis=axis).size, 1)
    out = np.mean(np.square(centered), axis=axis, keepdims=keepdims).astype(result)
    return record(out, (x,), lambda g: _restore(g, a.shape, axis, keepdims) * 2 * centered / n)


def std(x, axis=None, keepdims=False):
    """sqrt(var(x));  d/dx_i = (x_i - mean) / (n std)."""
    a = _floats(x)
    axis = _axis(axis)
    centered = a - np.mean(a, axis=axis, keepdims=True)
    n = a.size // builtins.max(np.mean(a, axis=axis).size, 1)
    out = np.sqrt(np.mean(np.square(centered), axis=axis, keepdims=True))
    result = out if keepdims else np.squeeze(out, axis=axis)
    return record(result, (x,),
                  lambda g: _restore(g, a.shape, axis, keepdims) * centered / (n * out))


def _scan_input(x, axis, dtype):
    a = np.asarray(value_of(x))
    a = a.astype(dtype or ("int32" if a.dtype == bool else a.dtype))
    return (a.reshape(-1), 0) if axis is None else (a, axis)


def _reverse_cumsum(g, axis):
    return np.flip(np.cumsum(np.flip(g, axis), axis, dtype=g.dtype), axis)


def cumsum(x, axis=None, dtype=None):
    """Running sums along ``axis`` (flattened if None);  d/dx_i = Σ_{j >= i} g_j."""
    shape = np.shape(value_of(x))
    a, ax = _scan_input(x, axis, dtype)
    return record(np.cumsum(a, ax, dtype=a.dtype), (x,),
                  lambda g: _reverse_cumsum(g, ax).reshape(shape))


def cumprod(x, axis=None, dtype=None):
    """Running products;  d/dx_i = Σ_{j >= i} g_j out_j / x_i (0 where x_i = 0, as TF)."""
    shape = np.shape(value_of(x))
    a, ax = _scan_input(x, axis, dtype)
    out = np.cumprod(a, ax, dtype=a.dtype)

    def d_x(g):
        total = _reverse_cumsum(g * out, ax)
        return np.divide(total, a, out=np.zeros_like(total), where=a != 0).reshape(shape)

    return record(out, (x,), d_x)


def average(x, axis=None, weights=None):
    """Σ w x / Σ w over ``axis`` (the mean without weights); 1-D weights along ``axis`` of a
    larger x weight that axis. Written with sum, multiply and divide, which carry the gradient."""
    a = _floats(x)
    if a.dtype != np.asarray(value_of(x)).dtype:
        x = a
    if weights is None:
        return mean(x, axis=axis)
    if axis is not None and np.ndim(value_of(weights)) != a.ndim:  # weights along ``axis``
        w = reshape(weights, [-1 if i == axis % a.ndim else 1 for i in range(a.ndim)])
        return divide(sum(multiply(x, w), axis=axis), sum(weights))
    return divide(sum(multiply(x, weights), axis=axis), sum(weights, axis=axis))


def diff(a, n=1, axis=-1):
    """The n-th difference along ``axis``: x[1:] - x[:-1], n times (not-equal for booleans)."""
    x = a
    ndim = np.ndim(value_of(x))
    if n == 0:
        return copy(a)
    if n < 0:
        raise ValueError(f"Order `n` must be non-negative. Received n={n}")
    if ndim == 0:
        raise ValueError("`diff` requires input that is at least one dimensional.")
    head = (slice(None),) * (axis % ndim)
    for _ in range(n):
        later, earlier = getitem(x, head + (slice(1, None),)), getitem(x, head + (slice(None, -1),))
        is_bool = np.asarray(value_of(x)).dtype == bool
        x = not_equal(later, earlier) if is_bool else subtract(later, earlier)
    return x


def select(condlist, choicelist, default=0):
    """choicelist[i] where condlist[i] holds (the first that does), else ``default``;
    each gradient follows the choice made."""
    out = default
    for condition, choice in reversed(list(zip(condlist, choicelist, strict=True))):
        out = where(condition, choice, out)
    return out


def nonzero(x):
    """The indices of the nonzero entries, one int32 array per axis."""
    return [Tensor(i.astype("int32")) for i in np.nonzero(value_of(x))]


def ptp(x, axis=None, keepdims=False):
    """max - min over ``axis`` (the gradient as in max and min: shared among ties)."""
    return subtract(max(x, axis=axis, keepdims=keepdims), min(x, axis=axis, keepdims=keepdims))


def inner(x1, x2):
    """Σ over the last axes of x1 and x2 of their products (a plain product for a scalar)."""
    x1, x2 = _in_common_dtype([x1, x2])
    if np.ndim(value_of(x1)) == 0 or np.ndim(value_of(x2)) == 0:
        return multiply(x1, x2)
    return _as_dtype_of(tensordot(x1, x2, ([-1], [-1])), x1)


def vdot(x1, x2):
    """Σ x1 x2 over all elements (both flattened)."""
    x1, x2 = _in_common_dtype([x1, x2])
    return _as_dtype_of(tensordot(ravel(x1), ravel(x2), 1), x1)


def _as_dtype_of(out, x):
    """``out`` in the dtype of ``x`` (einsum sums int8 in int32; inner and vdot do not)."""
    dtype = np.asarray(value_of(x)).dtype
    return out if out.dtype == dtype else cast(out, dtype)


def nansum(x, axis=None, keepdims=False):
    """Σ x over ``axis``, NaNs counted as 0 (and given no gradient)."""
    a = np.asarray(value_of(x))
    clean = where(np.isnan(a), a.dtype.type(0), x) if a.dtype.kind == "f" else x
    return sum(clean, axis=axis, keepdims=keepdims)


def nanmean(x, axis=None, keepdims=False):
    """The mean of the non-NaN entries over ``axis`` (NaN where there are none)."""
    a = np.asarray(value_of(x))
    if a.dtype.kind != "f":
        return mean(x, axis=axis, keepdims=keepdims)
    count = np.sum(~np.isnan(a), axis=_axis(axis), keepdims=keepdims).astype(a.dtype)
    with np.errstate(invalid="ignore"):  # 0 / 0 where every entry is NaN: NaN, as Keras
        return divide(nansum(x, axis=axis, keepdims=keepdims), count)


def _nan_extreme(reduce, fill, x, axis, keepdims):
    """max/min ignoring NaNs (NaN where every entry is NaN); the gradient as in max/min."""
    a = np.asarray(value_of(x))
    if a.dtype.kind != "f":
        return reduce(x, axis=axis, keepdims=keepdims)
    missing = np.isnan(a)
    out = reduce(where(missing, a.dtype.type(fill), x), axis=axis, keepdims=keepdims)
    empty = np.all(missing, axis=_axis(axis), keepdims=keepdims)
    return where(empty, a.dtype.type(np.nan), out) if empty.any() else out


def nanmax(x, axis=None, keepdims=False):
    if np.asarray(value_of(x)).dtype == bool:
        return any(x, axis=axis, keepdims=keepdims)
    return _nan_extreme(max, -np.inf, x, axis, keepdims)


def nanmin(x, axis=None, keepdims=False):
    if np.asarray(value_of(x)).dtype == bool:
        return all(x, axis=axis, keepdims=keepdims)
    return _nan_extreme(min, np.inf, x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    return Tensor(np.all(value_of(x), axis=_axis(axis), keepdims=keepdims))


def any(x, axis=None, keepdims=False):
    return Tensor(np.any(value_of(x), axis=_axis(axis), keepdims=keepdims))


def count_nonzero(x, axis=None):
    return Tensor(np.asarray(np.count_nonzero(value_of(x), axis=_axis(axis)), "int32"))


def argsort(x, axis=-1):
    """The indices that sort ``x`` (ties in their original order), as int32."""
    a = np.asarray(value_of(x))
    if a.ndim == 0:
        return Tensor(np.zeros(1, "int32"))
    return Tensor(np.argsort(a, axis=axis, kind="stable").astype("int32"))


def sort(x, axis=-1):
    """``x`` sorted along ``axis``;  each gradient goes back to the place its value came from."""
    a = np.asarray(value_of(x))
    if axis is None:
        return sort(reshape(x, (-1,)), 0)
    order = np.argsort(a, axis=axis, kind="stable")

    def d_x(g):
        out = np.zeros_like(g)
        np.put_along_axis(out, order, g, axis=axis)
        return out

    return record(np.take_along_axis(a, order, axis=axis), (x,), d_x)


# --- more shapes and indexing ----------------------------------------------------------------


def ravel(x):
    return reshape(x, (-1,))


def ndim(x):
    return np.ndim(value_of(x))


def size(x):
    return Tensor(np.asarray(np.size(value_of(x)), "int32"))


def copy(x):
    """The same values in a new array;  d/dx = 1."""
    return record(np.array(value_of(x)), (x,), _identity)


def append(x1, x2, axis=None):
    """x2 after x1 along ``axis`` (both flattened if None)."""
    x1, x2 = _in_common_dtype([x1, x2])
    if axis is None:
        return concatenate([ravel(x1), ravel(x2)], axis=0)
    return concatenate([x1, x2], axis=axis)


def hstack(xs):
    xs = _in_common_dtype(xs)
    return concatenate(xs, axis=0 if np.ndim(value_of(xs[0])) == 1 else 1)


def vstack(xs):
    return concatenate(_in_common_dtype(xs), axis=0)


def dstack(xs):
    """Stack along the third axis (1-D and 2-D inputs get axes of size 1 first, as NumPy)."""
    xs = _in_common_dtype(xs)
    shaped = []
    for x in xs:
        n = np.ndim(value_of(x))
        shaped.append(reshape(x, (1, -1, 1)) if n <= 1 else expand_dims(x, -1) if n == 2 else x)
    return concatenate(shaped, axis=2)


def _in_common_dtype(xs):
    """``xs`` cast (on the tape) to Keras's common dtype, where they differ."""
    kinds = [np.asarray(value_of(x)).dtype for x in xs]
    common = dtypes.result_type(*kinds)
    return [x if kind == common else cast(x, common) for x, kind in zip(xs, kinds, strict=True)]


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list;  slice i's gradient fills its own place."""
    return [take(x, np.asarray(i), axis=axis) for i in range(np.shape(value_of(x))[axis])]


def tile(x, repeats):
    """``x`` repeated ``repeats[i]`` times along axis i;  the gradient sums the copies."""
    a = np.asarray(value_of(x))
    reps = [repeats] if isinstance(repeats, int) else [int(r) for r in repeats]
    reps = [1] * (a.ndim - len(reps)) + reps
    shape = (1,) * (len(reps) - a.ndim) + a.shape

    def d_x(g):  # (r0 * s0, r1 * s1, ...) -> (r0, s0, r1, s1, ...), summed over the r axes
        split = g.reshape([n for pair in zip(reps, shape, strict=True) for n in pair])
        return split.sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(a.shape)

    return record(np.tile(a, reps), (x,), d_x)


def repeat(x, repeats, axis=None):
    """Each element repeated ``repeats`` times along ``axis`` (flattened if None);
    the gradient adds up each element's copies."""
    a = np.asarray(value_of(x))
    flat = a.reshape(-1) if axis is None else a
    ax = 0 if axis is None else axis % a.ndim
    source = np.repeat(np.arange(flat.shape[ax]), value_of(repeats))  # output i copies source[i]

    def d_x(g):
        out = np.zeros(np.moveaxis(flat, ax, 0).shape, g.dtype)
        np.add.at(out, source, np.moveaxis(g, ax, 0))
        return np.moveaxis(out, 0, ax).reshape(a.shape)

    return record(np.repeat(flat, value_of(repeats), axis=ax), (x,), d_x)


def flip(x, axis=None):
    """Reverse the order along ``axis``;  the gradient is flipped back."""
    a = value_of(x)
    axis = _axis(axis)
    return record(np.flip(a, axis), (x,), lambda g: np.flip(g, axis))


def fliplr(x):
    return flip(x, 1)


def flipud(x):
    return flip(x, 0)


def rot90(array, k=1, axes=(0, 1)):
    """Rotate by 90° k times in the plane of ``axes``;  the gradient is rotated back."""
    a = np.asarray(value_of(array))
    if a.ndim < 2:
        raise ValueError(f"Input array must have at least 2 dimensions. "
                         f"Received: array.ndim={a.ndim}")
    return record(np.rot90(a, k, axes).copy(), (array,), lambda g: np.rot90(g, -k, axes))


def roll(x, shift, axis=None):
    """Shift elements cyclically;  the gradient is rolled back by -shift."""
    a = value_of(x)
    axis = _axis(axis)
    back = np.negative(shift)
    return record(np.roll(a, shift, axis), (x,), lambda g: np.roll(g, back, axis))


def split(x, indices_or_sections, axis=0):
    """Cut ``x`` into equal pieces (or at the given indices) along ``axis``;  piece i's
    gradient fills its own slice."""
    a = np.asarray(value_of(x))
    return _pieces(x, a, np.split(a, indices_or_sections, axis=axis), axis)


def array_split(x, indices_or_sections, axis=0):
    """Cut ``x`` into ``indices_or_sections`` pieces that may differ in size by one (the first
    ones larger), as Keras."""
    a = np.asarray(value_of(x))
    return _pieces(x, a, np.array_split(a, indices_or_sections, axis=axis), axis)


def _pieces(x, a, pieces, axis):
    starts = np.cumsum([0] + [p.shape[axis] for p in pieces])
    outputs = []
    for i, piece in enumerate(pieces):
        def d_x(g, start=starts[i], stop=starts[i + 1]):
            out = np.zeros(a.shape, g.dtype)
            out[(slice(None),) * (axis % a.ndim) + (slice(start, stop),)] = g
            return out
        outputs.append(record(piece, (x,), d_x))
    return outputs


def hsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=0 if np.ndim(value_of(x)) == 1 else 1)


def vsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=0)


def swapaxes(x, axis1, axis2):
    """Exchange two axes;  the gradient swaps them back."""
    return record(np.swapaxes(value_of(x), axis1, axis2), (x,),
                  lambda g: np.swapaxes(g, axis1, axis2))


def moveaxis(x, source, destination):
    """Move axes to new positions;  the gradient moves them back."""
    return record(np.moveaxis(value_of(x), source, destination), (x,),
                  lambda g: np.moveaxis(g, destination, source))


def broadcast_to(x, shape):
    """``x`` stretched to ``shape``;  the tape sums the gradient back over the stretched axes."""
    return record(np.broadcast_to(value_of(x), shape).copy(), (x,), _identity)


def tril(x, k=0):
    """The lower triangle (of the last two axes);  the gradient keeps the same triangle."""
    return record(np.tril(value_of(x), k), (x,), lambda g: np.tril(g, k))


def triu(x, k=0):
    """The upper triangle (of the last two axes);  the gradient keeps the same triangle."""
    return record(np.triu(value_of(x), k), (x,), lambda g: np.triu(g, k))


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The (offset) diagonal of the axis1 x axis2 matrices, as a new last axis;
    the gradient goes back onto that diagonal, zero elsewhere."""
    a = np.asarray(value_of(x))

    def d_x(g):
        moved = np.zeros(np.moveaxis(a, (axis1, axis2), (-2, -1)).shape, g.dtype)
        rows = np.arange(g.shape[-1]) + builtins.max(-offset, 0)
        moved[..., rows, rows + offset] = g
        return np.moveaxis(moved, (-2, -1), (axis1, axis2))

    return record(np.diagonal(a, offset, axis1, axis2).copy(), (x,), d_x)


def diag(x, k=0):
    """A 1-D ``x`` put on the k-th diagonal of a square matrix, or the k-th diagonal of a
    matrix;  the gradient reads (or writes) the same diagonal."""
    a = np.asarray(value_of(x))
    if a.ndim == 2:
        return diagonal(x, k)
    if a.ndim != 1:
        raise ValueError(f"`x` must be 1d or 2d. Received: x.shape={a.shape}")
    return record(np.diag(a, k), (x,), lambda g: np.diagonal(g, k).copy())


def trace(x, offset=0, axis1=0, axis2=1):
    """The sum of the (offset) diagonal;  d/dx = 1 on that diagonal, 0 elsewhere."""
    a = np.asarray(value_of(x))
    if a.dtype in _PROD_DTYPES:  # as Keras: small integers and bools sum in 32 bits
        x = a.astype(_PROD_DTYPES[a.dtype])
    return sum(diagonal(x, offset, axis1, axis2), axis=-1)


def outer(x1, x2):
    """out[i, j] = x1[i] x2[j] (both flattened): a column times a row."""
    return multiply(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation;  the gradient of operand i is the einsum of the output gradient with
    the other operands, into operand i's subscripts:

        out = einsum("ab,bc->ac", x, y)   =>   dx = einsum("ac,bc->ab", g, y)

    Letters only operand i has (summed away in the forward pass) are broadcast back; a letter
    repeated within operand i ("ii->i", a diagonal) gets a fresh letter tied to it by an
    identity matrix, so the gradient lands on the diagonal. ``...`` is first spelled out as
    letters ("...b,bc->...c" as "ABb,bc->ABc"), each operand broadcast over them; where an
    operand was broadcast (batch axes it lacks, or has with size 1) its gradient is summed back
    to its own shape. (``kwargs`` such as ``optimize`` are accepted and ignored.)"""
    values = [np.asarray(value_of(x)) for x in operands]
    dtype = np.dtype(dtypes.result_type(*[v.dtype for v in values]))
    if dtype == np.int8:
        dtype = np.dtype("int32")  # as Keras
    values = [v.astype(dtype, copy=False) for v in values]
    subscripts = subscripts.replace(" ", "")
    inputs, _, output = subscripts.partition("->")
    terms = inputs.split(",")
    if "->" not in subscripts:  # implicit output: the letters used once, in alphabetical order
        letters = inputs.replace(",", "").replace(".", "")
        output = ("..." if "..." in inputs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    out = np.einsum(subscripts, *values)
    spelled_out = functools.cache(lambda: _spell_out_ellipsis(terms, output, values))

    def d_operand(i, g):  # all worked out when a gradient is asked for: nothing at inference
        terms_, output_, shapes, full = spelled_out()
        term, x = terms_[i], full[i]  # x: operand i broadcast to the sizes of its letters
        fresh = (c for c in _LETTERS if c not in "".join(terms_) + output_)
        renamed, ties = "", []  # "ii" becomes "iA", tied by the identity "iA"
        for c in term:
            if c in renamed:
                ties.append(c + next(fresh))
                c = ties[-1][1]
            renamed += c
        eyes = [np.eye(x.shape[term.index(tie[0])], dtype=x.dtype) for tie in ties]
        others = terms_[:i] + terms_[i + 1:]
        known = set(output_ + "".join(others + ties))
        reduced = "".join(c for c in renamed if c in known)
        missing = "".join(c for c in renamed if c not in known)
        spec = ",".join([output_, *others, *ties]) + "->" + reduced
        grad = np.einsum(spec, g, *full[:i], *full[i + 1:], *eyes)
        if missing:  # broadcast back over the letters summed away in the forward pass
            sizes = [x.shape[renamed.index(c)] for c in missing]
            grad = np.einsum(f"{reduced},{missing}->{renamed}", grad, np.ones(sizes, g.dtype))
        return _sum_to_shape(grad, shapes[i], values[i].shape)

    return record(out, tuple(operands),
                  *[functools.partial(d_operand, i) for i in range(len(values))])


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _spell_out_ellipsis(terms, output, values):
    """``(terms, output, shapes, operands)`` with ``...`` replaced by fresh letters, one per
    broadcast batch axis (right-aligned, as NumPy broadcasts them); ``shapes``: each operand's
    shape with a size-1 axis for each batch axis it lacks; ``operands``: each broadcast (a view)
    to the size every one of its letters has anywhere in the sum."""
    if "..." in "".join(terms):
        fresh = [c for c in _LETTERS if c not in "".join(terms) + output]
        ranks = [v.ndim - len(t.replace("...", "")) if "..." in t else 0
                 for t, v in zip(terms, values, strict=True)]
        batch = fresh[:builtins.max(ranks)]
        shaped = []
        for t, v, r in zip(terms, values, ranks, strict=True):
            if "..." in t:
                head = t.index("...")  # the batch axes it lacks come in as size 1
                v = v.reshape(v.shape[:head] + (1,) * (len(batch) - r) + v.shape[head:])
                t = t.replace("...", "".join(batch))
            shaped.append((t, v))
        terms = [t for t, _ in shaped]
        values = [v for _, v in shaped]
        output = output.replace("...", "".join(batch))
    size = {}
    for t, v in zip(terms, values, strict=True):
        for c, n in zip(t, v.shape, strict=True):
            if n != 1 or c not in size:  # sizes agree or are 1: the forward einsum checked
                size[c] = n
    full = [v if v.shape == tuple(size[c] for c in t) else np.broadcast_to(
        v, tuple(size[c] for c in t)) for t, v in zip(terms, values, strict=True)]
    return terms, output, [v.shape for v in values], full


def _sum_to_shape(grad, shape, original):
    """``grad`` of an operand broadcast from ``shape`` to ``grad.shape``, summed back over the
    axes it was stretched along, in the operand's ``original`` shape (``shape`` may hold extra
    size-1 axes: batch axes the operand lacked)."""
    if grad.shape != shape:
        stretched = tuple(a for a, (n, m) in enumerate(zip(grad.shape, shape, strict=True))
                          if m == 1 and n != 1)
        grad = np.sum(grad, axis=stretched, keepdims=True)
    return grad.reshape(original)


def tensordot(x1, x2, axes=2):
    """Sum of products over ``axes`` (an int N: the last N of x1 with the first N of x2; or two
    lists), written as an einsum, whose gradient it reuses."""
    n1, n2 = np.ndim(value_of(x1)), np.ndim(value_of(x2))
    if isinstance(axes, int):
        axes = (list(range(n1 - axes, n1)), list(range(axes)))
    first, second = ([a] if isinstance(a, int) else list(a) for a in axes)
    letters = iter(_LETTERS)
    s1 = [next(letters) for _ in range(n1)]
    s2 = [next(letters) for _ in range(n2)]
    for i, j in zip(first, second, strict=True):
        s2[j % n2] = s1[i % n1]
    contracted = {s1[i % n1] for i in first}
    out = [c for c in s1 + s2 if c not in contracted]
    return einsum(f"{''.join(s1)},{''.join(s2)}->{''.join(out)}", x1, x2)


def take_along_axis(x, indices, axis=None):
    """out[..., i, ...] = x[..., indices[..., i, ...], ...] along ``axis`` (flattened if None);
    the gradient is scattered back (added where an index repeats)."""
    a = np.asarray(value_of(x))
    idx = np.asarray(value_of(indices)).astype(np.int64)
    flat = a.reshape(-1) if axis is None else a
    ax = 0 if axis is None else axis % a.ndim
    idx = np.where(idx < 0, idx + flat.shape[ax], idx)
    shape = list(np.broadcast_shapes(
        flat.shape[:ax] + (1,) + flat.shape[ax + 1:], idx.shape[:ax] + (1,) + idx.shape[ax + 1:]))
    shape[ax] = idx.shape[ax]
    idx = np.broadcast_to(idx, shape)
    source = np.broadcast_to(flat, shape[:ax] + [flat.shape[ax]] + shape[ax + 1:])

    def d_x(g):
        grid = list(np.indices(g.shape, sparse=True))
        grid = [k if flat.shape[d] == g.shape[d] else np.zeros_like(k)
                for d, k in enumerate(grid)]
        grid[ax] = idx
        out = np.zeros(flat.shape, g.dtype)
        np.add.at(out, tuple(grid), g)
        return out.reshape(a.shape)

    return record(np.take_along_axis(source, idx, axis=ax), (x,), d_x)


def pad(x, pad_width, mode="constant", constant_values=None):
    """``x`` with ``pad_width`` (before, after) entries added on each axis ("constant", "reflect"
    or "symmetric", as TensorFlow);  every output element's gradient goes back to the input
    element it copies: padding an array of positions the same way says which one that is."""
    if constant_values is not None and mode != "constant":
        raise ValueError("Argument `constant_values` can only be provided when "
                         f"`mode == 'constant'`. Received: mode={mode}")
    if mode not in ("constant", "reflect", "symmetric"):
        raise ValueError(f"`mode` must be one of 'constant', 'reflect' or 'symmetric' "
                         f"(as Keras with TensorFlow). Received: mode={mode}")
    a = np.asarray(value_of(x))
    width = np.broadcast_to(np.asarray(value_of(pad_width), "int64"), (a.ndim, 2))
    if mode == "constant":
        out = np.pad(a, width, constant_values=0 if constant_values is None
                     else value_of(constant_values))
        positions = np.pad(np.arange(a.size).reshape(a.shape), width, constant_values=-1)
    else:
        out = np.pad(a, width, mode=mode)
        positions = np.pad(np.arange(a.size).reshape(a.shape), width, mode=mode)
    used = positions >= 0

    def d_x(g):
        flat = np.bincount(positions[used], weights=g[used], minlength=a.size)
        return flat.astype(g.dtype).reshape(a.shape)

    return record(out, (x,), d_x)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN -> ``nan``, +inf -> ``posinf`` (the dtype's max), -inf -> ``neginf`` (its min);
    the gradient passes where x was finite and is 0 where a value was replaced."""
    a = np.asarray(value_of(x))
    if a.dtype.kind != "f":
        return record(a, (x,), _identity)
    finite = np.isfinite(a)
    out = np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    return record(out, (x,), lambda g: np.where(finite, g, 0))


# --- predicates and logic (not differentiable) ---------------------------------------------


def isnan(x):
    return Tensor(np.isnan(value_of(x)))


def isinf(x):
    return Tensor(np.isinf(value_of(x)))


def isfinite(x):
    return Tensor(np.isfinite(value_of(x)))


def logical_and(x1, x2):
    return Tensor(np.logical_and(value_of(x1), value_of(x2)))


def logical_or(x1, x2):
    return Tensor(np.logical_or(value_of(x1), value_of(x2)))


def logical_xor(x1, x2):
    return Tensor(np.logical_xor(value_of(x1), value_of(x2)))


def logical_not(x):
    return Tensor(np.logical_not(value_of(x)))


# --- quantiles (sort, then read off and interpolate: gradients flow through both) ----------


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The q-th quantile(s) over ``axis``: sort, then read the value at position (n - 1) q
    ("linear" interpolates between its neighbours; "lower", "higher", "nearest", "midpoint" as
    NumPy). The gradient goes back through the interpolation and the sort to the elements read.
    Several q give a leading axis, as in Keras; a NaN in a group gives NaN."""
    if method not in ("linear", "lower", "higher", "nearest", "midpoint"):
        raise ValueError(f"Invalid `method`: {method!r}")
    a = _floats(x)
    if a.dtype != np.asarray(value_of(x)).dtype:
        x = a  # integers: the quantile of their float values (no gradient to give)
    qs = np.asarray(value_of(q), np.float64)
    axes = list(range(a.ndim)) if axis is None else _axes(axis, a.ndim)
    others = [i for i in range(a.ndim) if i not in axes]
    grouped = reshape(transpose(x, others + axes), [a.shape[i] for i in others] + [-1])
    ordered = sort(grouped, axis=-1)
    n = builtins.max(ordered.shape[-1], 1)
    position = (n - 1) * qs

    def at(index):  # the sorted values at ``index`` (same shape as q), along the last axis
        return take(ordered, np.clip(index, 0, n - 1).astype(np.int64), axis=-1)

    if method == "linear":  # TensorFlow's form: the upper neighbour's weight is 1 - fraction
        upper = np.clip(np.ceil(position), 0, n - 1)
        lower = np.maximum(upper - 1, 0)
        upper = np.minimum(lower + 1, n - 1)
        fraction = (upper - position).astype(a.dtype)
        out = add(multiply(at(upper), 1 - fraction), multiply(at(lower), fraction))
    elif method == "midpoint":
        out = multiply(add(at(np.floor(position)), at(np.ceil(position))), a.dtype.type(0.5))
    else:
        out = at({"lower": np.floor, "higher": np.ceil, "nearest": np.round}[method](position))
    missing = np.any(np.isnan(a), axis=tuple(axes)).reshape(
        [a.shape[i] for i in others] + [1] * qs.ndim)
    if missing.any():
        out = where(missing, a.dtype.type(np.nan), out)
    if keepdims:
        out = reshape(out, [1 if i in axes else a.shape[i] for i in range(a.ndim)]
                      + list(qs.shape))
    if qs.ndim and np.ndim(out) >= 2:  # the q axes first
        out = moveaxis(out, list(range(-qs.ndim, 0)), list(range(qs.ndim)))
    return out


def median(x, axis=None, keepdims=False):
    """The middle value over ``axis`` (the mean of the two middle ones for even counts)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


# --- the remaining numpy namespace: bits, complex parts, integers, comparisons ----------------


def _weak_type(x):
    """A value's dtype for Keras's promotion, Python numbers as the weak ``int``/``float``."""
    v = value_of(x)
    return v.dtype if hasattr(v, "dtype") else type(v)


def _promoted(x1, x2, *extra):
    """``x1`` and ``x2`` as arrays of Keras's common dtype (``extra``: e.g. ``float``)."""
    dtype = dtypes.result_type(_weak_type(x1), _weak_type(x2), *extra)
    return np.asarray(value_of(x1), dtype), np.asarray(value_of(x2), dtype)


def array(x, dtype=None):
    """``x`` as a Tensor (``convert_to_tensor``)."""
    from minikeras.ops.core import convert_to_tensor

    return convert_to_tensor(x, dtype=dtype)


def empty_like(x, dtype=None):
    """A new tensor shaped like ``x``; zeros, as Keras with TensorFlow gives."""
    return zeros_like(x, dtype=dtype)


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether every |x1 - x2| <= atol + rtol·|x2| (infinities must be equal)."""
    a, b = _promoted(x1, x2)
    if a.dtype.kind != "f":
        return Tensor(np.asarray(np.all(a == b)))
    with np.errstate(invalid="ignore"):
        close = (np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= atol + rtol * np.abs(b)))
        result = close | (a == b)
    if equal_nan:
        result |= np.isnan(a) & np.isnan(b)
    return Tensor(np.asarray(np.all(result)))


def _bitwise(fn, x, y):
    a, b = _promoted(x, y)
    return Tensor(fn(a, b))


def bitwise_and(x, y):
    return _bitwise(np.bitwise_and, x, y)


def bitwise_or(x, y):
    return _bitwise(np.bitwise_or, x, y)


def bitwise_xor(x, y):
    return _bitwise(np.bitwise_xor, x, y)


def bitwise_invert(x):
    return Tensor(np.invert(np.asarray(value_of(x))))


def bitwise_not(x):
    return bitwise_invert(x)


def _shift(fn, x, y):
    if isinstance(y, int):  # a Python shift count keeps x's dtype
        a = np.asarray(value_of(x))
        return Tensor(fn(a, np.asarray(y, a.dtype)))
    return _bitwise(fn, x, y)


def bitwise_left_shift(x, y):
    return _shift(np.left_shift, x, y)


def left_shift(x, y):
    return bitwise_left_shift(x, y)


def bitwise_right_shift(x, y):
    return _shift(np.right_shift, x, y)


def right_shift(x, y):
    return bitwise_right_shift(x, y)


def conjugate(x):
    """The complex conjugate (the identity on real numbers, with gradient 1 there)."""
    a = np.asarray(value_of(x))
    return record(np.conj(a), (x,), np.conj)


conj = conjugate


def real(x):
    """The real part (the identity on real numbers, with gradient 1 there)."""
    a = np.asarray(value_of(x))
    return record(np.real(a), (x,), _identity)


def imag(x):
    """The imaginary part (0 for real numbers, not differentiated)."""
    return Tensor(np.imag(np.asarray(value_of(x))))


def isreal(x):
    return Tensor(np.isreal(np.asarray(value_of(x))))


def angle(x):
    """The argument of each complex number: atan2(imag, real) (π for negative reals, else 0);
    integers become floats. Not differentiated."""
    a = _floats(x)
    return Tensor(np.angle(a).astype(np.real(a).dtype))


def isin(x1, x2, assume_unique=False, invert=False):
    a, b = _promoted(x1, x2)
    return Tensor(np.isin(a, b, invert=invert))


def _integers(x1, x2, name):
    a, b = _promoted(x1, x2)
    if a.dtype.kind not in "iu":
        raise TypeError(f"Arguments to {name} must be integers. Received: x1.dtype="
                        f"{np.asarray(value_of(x1)).dtype}, x2.dtype="
                        f"{np.asarray(value_of(x2)).dtype}")
    return a, b


def gcd(x1, x2):
    """The greatest common divisor, elementwise (gcd(0, 0) = 0)."""
    return Tensor(np.gcd(*_integers(x1, x2, "gcd")))


def lcm(x1, x2):
    """The least common multiple, elementwise (0 if either is 0)."""
    return Tensor(np.lcm(*_integers(x1, x2, "lcm")))


def ldexp(x1, x2):
    """x1 · 2^x2 for integer x2;  d/dx1 = 2^x2."""
    if np.asarray(value_of(x2)).dtype.kind not in "iu":
        raise TypeError(f"ldexp exponent must be an integer type. Received: x2 dtype="
                        f"{np.asarray(value_of(x2)).dtype}")
    dtype = dtypes.result_type(_weak_type(x1), _weak_type(x2), float)
    a = np.asarray(value_of(x1), dtype)
    scale = np.power(np.asarray(2.0, dtype), np.asarray(value_of(x2), dtype))
    return record(np.ldexp(a, np.asarray(value_of(x2)).astype(np.int32)).astype(dtype), (x1,),
                  lambda g: g * scale)


def nextafter(x1, x2):
    """The next representable number after x1 towards x2, in the result dtype. (Keras 3.15
    steps in float64 and rounds back, so its float32 result is x1 itself; minikeras follows
    NumPy. See docs/keras-compatibility.md.)"""
    a, b = _promoted(x1, x2, float)
    return Tensor(np.nextafter(a, b))


def _nan_choice(fn, x1, x2):
    """fmax/fmin: max/min, but a NaN loses to a number;  the gradient follows the choice."""
    a, b = _promoted(x1, x2)
    if a.dtype.kind != "f":
        return (maximum if fn is np.fmax else minimum)(x1, x2)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    first = (a >= b) if fn is np.fmax else (a <= b)
    first = np.where(nan_a & ~nan_b, False, np.where(nan_b & ~nan_a, True, first))
    return record(fn(a, b), (x1, x2), lambda g: g * first, lambda g: g * ~first)


def fmax(x1, x2):
    """Elementwise max ignoring NaN (NaN only if both are);  the gradient goes to the one
    chosen (x1 at ties)."""
    return _nan_choice(np.fmax, x1, x2)


def fmin(x1, x2):
    """Elementwise min ignoring NaN (NaN only if both are);  the gradient goes to the one
    chosen (x1 at ties)."""
    return _nan_choice(np.fmin, x1, x2)


def sinc(x):
    """sin(πx) / (πx), 1 at 0;  d/dx = (cos(πx) - sinc(x)) / x, 0 at 0 (TensorFlow's autodiff
    gives NaN there)."""
    a = _floats(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sinc(a).astype(a.dtype)
        slope = np.where(a == 0, 0, (np.cos(np.pi * a) - out) / np.where(a == 0, 1, a))
    return record(out, (x,), lambda g: g * slope.astype(a.dtype))


def i0(x):
    """The modified Bessel function of the first kind, order 0 (NumPy's np.i0). Not
    differentiated (its derivative, i1, is not in NumPy)."""
    a = np.asarray(value_of(x))
    name = backend.standardize_dtype(a.dtype)
    dtype = "float64" if name in ("int64", "float64") else (
        name if name in ("float16", "bfloat16") else backend.floatx())
    return Tensor(np.i0(a.astype(np.float64)).astype(dtype))


# --- more creation and shapes ----------------------------------------------------------------


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """base ** linspace(start, stop, num)."""
    exponents = linspace(start, stop, num=num, endpoint=endpoint, dtype=dtype, axis=axis)
    e = exponents._value
    return Tensor(np.power(np.asarray(base, e.dtype), e).astype(e.dtype))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` numbers evenly spaced on a log scale from start to stop (same sign)."""
    dtype = dtype or backend.floatx()
    s, t = np.asarray(value_of(start)), np.asarray(value_of(stop))
    log_start = np.log(np.abs(s).astype(dtype)) / np.log(np.asarray(10.0, dtype))
    log_stop = np.log(np.abs(t).astype(dtype)) / np.log(np.asarray(10.0, dtype))
    out = logspace(log_start, log_stop, num=num, endpoint=endpoint, dtype=dtype, axis=axis)
    return Tensor(out._value * np.sign(s.astype(out._value.dtype)))


def diagflat(x, k=0):
    """The flattened ``x`` on the k-th diagonal of a square matrix (differentiable)."""
    return diag(reshape(x, [-1]), k)


def dsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=2)


def meshgrid(*x, indexing="xy"):
    """Coordinate grids: each 1-D input broadcast along the other axes ("xy" swaps the first
    two, as NumPy); gradients sum back over the broadcast axes."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Valid values for `indexing` are 'xy' and 'ij'. Received: {indexing}")
    sizes = [np.size(value_of(v)) for v in x]
    shape = list(sizes)
    if indexing == "xy" and len(x) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, v in enumerate(x):
        position = (1 - i if i < 2 else i) if indexing == "xy" and len(x) > 1 else i
        view = [1] * len(x)
        view[position] = sizes[i]
        grids.append(broadcast_to(reshape(v, view), shape))
    return grids


def kron(x1, x2):
    """The Kronecker product: every x1[i] · x2 block;  computed as a broadcast product, so the
    tape differentiates both factors."""
    a, b = np.asarray(value_of(x1)), np.asarray(value_of(x2))
    ndim = builtins.max(a.ndim, b.ndim)
    sa = (1,) * (ndim - a.ndim) + a.shape
    sb = (1,) * (ndim - b.ndim) + b.shape
    left = reshape(x1, [d for s in sa for d in (s, 1)])
    right = reshape(x2, [d for s in sb for d in (1, s)])
    return reshape(multiply(left, right), [p * q for p, q in zip(sa, sb, strict=True)])


def vander(x, N=None, increasing=False):
    """Columns of powers of a 1-D x: x^(N-1), ..., x, 1 (reversed if ``increasing``);
    d/dx = Σ_k g_k · p_k x^(p_k - 1) (the constant column adds nothing)."""
    a = np.asarray(value_of(x))
    n = a.shape[0] if N is None else N
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    compute = dtypes.result_type(a.dtype, "float32")
    base = a.astype(compute)[..., None]
    p = powers.astype(compute)
    out = np.power(base, p).astype(a.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(p == 0, 0, p * np.power(base, np.maximum(p - 1, 0)))
    return record(out, (x,), lambda g: np.sum(g * slope, axis=-1).astype(a.dtype))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (a 2-vector gets a zero third component; two 2-vectors
    give only the z component), built from differentiable slices and products."""
    if axis is not None:
        axisa = axisb = axisc = axis
    dtype = dtypes.result_type(_weak_type(x1), _weak_type(x2))
    u, v = moveaxis(cast(x1, dtype), axisa, -1), moveaxis(cast(x2, dtype), axisb, -1)
    dims = (u.shape[-1], v.shape[-1])
    if 2 in dims:
        u = pad(u, [(0, 0)] * (u.ndim - 1) + [(0, 1)]) if dims[0] == 2 else u
        v = pad(v, [(0, 0)] * (v.ndim - 1) + [(0, 1)]) if dims[1] == 2 else v

    def part(t, i):
        return getitem(t, (Ellipsis, i))

    components = [subtract(multiply(part(u, j), part(v, k)), multiply(part(u, k), part(v, j)))
                  for j, k in ((1, 2), (2, 0), (0, 1))]
    if dims == (2, 2):
        return components[2]
    return moveaxis(stack(components, axis=-1), -1, axisc)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """∫ y by the trapezoidal rule along ``axis``: Σ (y_i + y_(i+1))/2 · Δx_i, with the Δx from
    ``x`` or the constant ``dx`` (differentiable in y and x)."""
    dtype = dtypes.result_type(np.asarray(value_of(y)).dtype, float)
    y = moveaxis(cast(y, dtype), axis, -1)
    if x is None:
        spacing = np.asarray(dx, dtype)
    elif np.ndim(value_of(x)) == 1:  # one set of sample points for every row
        spacing = diff(cast(x, dtype))
    else:
        spacing = moveaxis(diff(cast(x, dtype), axis=axis), axis, -1)
    heights = multiply(add(getitem(y, (Ellipsis, builtins.slice(1, None))),
                           getitem(y, (Ellipsis, builtins.slice(None, -1)))), 0.5)
    return sum(multiply(heights, spacing), axis=-1)


def corrcoef(x):
    """Pearson correlation of the rows of x: cov / (σ σᵀ), clipped to [-1, 1] (differentiable;
    integers become floatx, int64 float64)."""
    a = np.asarray(value_of(x))
    if a.ndim == 0:
        return Tensor(np.asarray(np.nan, backend.floatx()))
    if a.dtype.kind in "biu":  # int64 divides into float64 in Keras
        x = cast(x, "float64" if a.dtype == np.int64 else backend.floatx())
    centered = subtract(x, mean(x, axis=-1, keepdims=True))
    n = np.asarray(value_of(x)).shape[-1]
    cov = divide(matmul(centered, swapaxes(centered, -1, -2)), n - 1)
    std = sqrt(diagonal(cov))
    return clip(divide(cov, outer(std, std)), -1.0, 1.0)


def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D arrays: out[k] = Σ_j x1[k + j] · x2[j] over the overlap
    ("valid"), with zero padding for "full" (n + m - 1 values) and "same" (max(n, m), centred).
    Built as windows of x1 times x2, so the tape differentiates both."""
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"Invalid mode: '{mode}'. Mode must be one of: 'full', 'same', "
                         f"'valid'.")
    dtype = dtypes.result_type(_weak_type(x1), _weak_type(x2))
    dtype = "float64" if dtype == "int64" else (
        dtype if dtype in ("bfloat16", "float16", "float64") else "float32")
    x1, x2 = cast(x1, dtype), cast(x2, dtype)
    n, m = x1.shape[0], x2.shape[0]
    if mode != "valid":
        x1 = pad(x1, [(m - 1, m - 1)])
    windows = stack([getitem(x1, builtins.slice(k, k + m))
                     for k in range(x1.shape[0] - m + 1)])
    out = matmul(windows, x2)
    if mode == "same":
        length = builtins.max(n, m)
        start = (n + m - 1 - length) // 2
        out = getitem(out, builtins.slice(start, start + length))
    return out


# --- counting, searching and sets (not differentiable) ----------------------------------------


def digitize(x, bins):
    """The index i of the bin with bins[i-1] <= x < bins[i] (int32)."""
    a = np.asarray(value_of(x))
    edges = np.asarray([float(b) for b in bins])
    return Tensor(np.digitize(a, edges).astype(np.int32))


def searchsorted(sorted_sequence, values, side="left"):
    """Where each value would go into the 1-D ``sorted_sequence`` to keep it sorted (int32)."""
    s = np.asarray(value_of(sorted_sequence))
    if s.ndim != 1:
        raise ValueError("`searchsorted` only supports 1-D sorted sequences. You can use "
                         "`keras.ops.vectorized_map` to extend it to N-D sequences. Received: "
                         f"sorted_sequence.shape={s.shape}")
    return Tensor(np.searchsorted(s, value_of(values), side=side).astype(np.int32))


def bincount(x, weights=None, minlength=0, sparse=False):
    """How often each non-negative integer occurs (or the sum of its ``weights``); a 2-D x is
    counted row by row. int32 counts; weighted sums in the common dtype of x and weights."""
    if sparse:
        raise ValueError("minikeras has no sparse tensors: use sparse=False.")
    a = np.asarray(value_of(x)).astype(np.int64)
    w = None if weights is None else np.asarray(value_of(weights))
    dtype = "int32" if w is None else dtypes.result_type(np.asarray(value_of(x)).dtype, w.dtype)
    length = builtins.max(int(a.max()) + 1 if a.size else 0, minlength)
    if a.ndim == 1:
        out = np.bincount(a, weights=w, minlength=length)
    else:
        out = np.stack([np.bincount(row, weights=None if w is None else w[i], minlength=length)
                        for i, row in enumerate(a)])
    return Tensor(out.astype(dtype))


def histogram(x, bins=10, range=None):
    """(counts, bin_edges): ``bins`` equal-width bins from min to max (or ``range``); the last
    bin includes its right edge. Counts in x's dtype, as Keras."""
    a = np.asarray(value_of(x))
    lo, hi = (a.min(), a.max()) if range is None else range
    edge_dtype = np.asarray(lo).dtype if range is None else np.float32
    inside = a[(a >= lo) & (a <= hi)]
    edges = np.linspace(lo, hi, bins + 1, dtype=np.float64).astype(edge_dtype).astype(a.dtype)
    index = np.searchsorted(edges[1:-1], inside, side="right")
    counts = np.bincount(index, minlength=bins).astype(a.dtype)
    return Tensor(counts), Tensor(edges)


def unravel_index(indices, shape):
    """The multi-dimensional index of each flat index, one array per axis (indices' dtype)."""
    idx = np.asarray(value_of(indices))
    if idx.dtype.kind not in "iu":
        idx = idx.astype(np.int32)
    if builtins.any(s is None for s in shape):
        raise ValueError(f"`shape` argument cannot contain `None`. Received: shape={shape}")
    return tuple(Tensor(np.asarray(c).astype(idx.dtype))
                 for c in np.unravel_index(idx, tuple(shape)))


def argpartition(x, kth, axis=-1):
    """Indices that put the kth smallest element at position kth, smaller ones before and
    larger ones after (order within each side unspecified; int32)."""
    a = np.asarray(value_of(x))
    if axis is None:
        a, axis = a.reshape(-1), 0
    kth = int(np.clip(kth, 0, a.shape[axis] - 1))
    return Tensor(np.argpartition(a, kth, axis=axis).astype(np.int32))


def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False,
           axis=None, size=None, fill_value=None):
    """The distinct values (sorted, or in order of first appearance), and optionally the index
    of each one's first appearance, the inverse map and the counts (int32). ``size`` pads (with
    ``fill_value``, default 0) or truncates to a fixed length."""
    a = np.asarray(value_of(x))
    values, first, inverse, counts = np.unique(a, return_index=True, return_inverse=True,
                                               return_counts=True, axis=axis)
    inverse = inverse.reshape(-1)
    if not sorted:  # order of first appearance, as tf.unique
        order = np.argsort(first, kind="stable")
        values = np.take(values, order, axis=0 if axis is None else axis)
        first, counts = first[order], counts[order]
        inverse = np.argsort(order)[inverse]
    if axis is None:
        inverse = inverse.reshape(a.shape)
    if size is not None:
        ax = 0 if axis is None else axis
        kept = builtins.min(values.shape[ax], size)
        values = np.take(values, np.arange(kept), axis=ax)
        first, counts = first[:kept], counts[:kept]
        missing = size - kept
        if missing:
            widths = [(0, 0)] * values.ndim
            widths[ax] = (0, missing)
            values = np.pad(values, widths, constant_values=0 if fill_value is None
                            else fill_value)
            first = np.pad(first, (0, missing), constant_values=1)
            counts = np.pad(counts, (0, missing), constant_values=0)
    results = [Tensor(values)]
    if return_index:
        results.append(Tensor(first.astype(np.int32)))
    if return_inverse:
        results.append(Tensor(inverse.astype(np.int32)))
    if return_counts:
        results.append(Tensor(counts.astype(np.int32)))
    return tuple(results) if len(results) > 1 else results[0]


# --- percentiles and NaN-ignoring statistics ---------------------------------------------------


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The q-th percentile(s): ``quantile`` at q / 100."""
    qs = np.asarray(value_of(q), backend.floatx()) / np.asarray(100.0, backend.floatx())
    return quantile(x, qs, axis=axis, method=method, keepdims=keepdims)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """``quantile`` of the non-NaN entries of each group (NaN for a group of NaNs only)."""
    a = np.asarray(value_of(x))
    qs = np.asarray(value_of(q), backend.floatx())
    axes = list(range(a.ndim)) if axis is None else _axes(axis, a.ndim)
    others = [i for i in range(a.ndim) if i not in axes]
    other_shape = [a.shape[i] for i in others]
    grouped = reshape(transpose(x, others + axes), [-1, int(np.prod(
        [a.shape[i] for i in axes]))])
    results = []
    for i, row in enumerate(np.asarray(value_of(grouped))):
        valid = ~np.isnan(row.astype(np.float64))
        if valid.any():
            results.append(quantile(getitem(grouped, (i, valid)), qs, method=method))
        else:
            results.append(Tensor(np.full(qs.shape, np.nan, a.dtype)))
    out = stack(results)  # (groups, *q)
    out = reshape(out, other_shape + list(qs.shape))
    if qs.ndim:
        out = moveaxis(out, list(range(-qs.ndim, 0)), list(range(qs.ndim)))
    if keepdims:
        for ax in sorted(axes):
            out = expand_dims(out, ax + qs.ndim)
    return out


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    qs = np.asarray(value_of(q), backend.floatx()) / np.asarray(100.0, backend.floatx())
    return nanquantile(x, qs, axis=axis, method=method, keepdims=keepdims)


def nanmedian(x, axis=None, keepdims=False):
    if axis == () or axis == []:
        return x if isinstance(x, Tensor) else Tensor(np.asarray(value_of(x)))
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False):
    """Π x over ``axis``, NaNs counted as 1 (and given no gradient)."""
    a = np.asarray(value_of(x))
    clean = where(np.isnan(a), a.dtype.type(1), x) if a.dtype.kind == "f" else x
    return prod(clean, axis=axis, keepdims=keepdims)


def nanvar(x, axis=None, keepdims=False):
    """The variance of the non-NaN entries: Σ (x - nanmean)² / count over ``axis``."""
    a = np.asarray(value_of(x))
    dtype = dtypes.result_type(a.dtype, float)
    x = cast(x, dtype)
    valid = ~np.isnan(np.asarray(value_of(x)))
    centered = where(valid, subtract(x, nanmean(x, axis=axis, keepdims=True)), 0.0)
    count = np.sum(valid, axis=_axis(axis), keepdims=keepdims).astype(dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return divide(sum(square(centered), axis=axis, keepdims=keepdims), count)


def nanstd(x, axis=None, keepdims=False):
    return sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _nan_arg(pick, fill, x, axis, keepdims):
    a = np.asarray(value_of(x))
    if a.dtype.kind != "f":
        return Tensor(np.asarray(pick(a, axis=axis, keepdims=keepdims)).astype(np.int32))
    missing = np.isnan(a)
    index = pick(np.where(missing, fill, a), axis=axis, keepdims=keepdims)
    empty = np.all(missing, axis=axis, keepdims=keepdims)
    return Tensor(np.where(empty, -1, index).astype(np.int32))


def nanargmax(x, axis=None, keepdims=False):
    """The index of the largest non-NaN value (-1 where all are NaN), int32."""
    return _nan_arg(np.argmax, -np.inf, x, axis, keepdims)


def nanargmin(x, axis=None, keepdims=False):
    """The index of the smallest non-NaN value (-1 where all are NaN), int32."""
    return _nan_arg(np.argmin, np.inf, x, axis, keepdims)


def nancumsum(x, axis=None, dtype=None):
    """cumsum of ``nan_to_num(x)`` (as Keras: NaN counts 0 and ±inf becomes the largest
    finite value)."""
    return cumsum(nan_to_num(x), axis=axis, dtype=dtype)


def nancumprod(x, axis=None, dtype=None):
    """cumprod of ``nan_to_num(x, nan=1.0)`` (NaN counts 1)."""
    return cumprod(nan_to_num(x, nan=1.0), axis=axis, dtype=dtype)


# --- window functions (signal processing; not differentiated: their input is a length) -------


def _window_length(x):
    return int(np.asarray(value_of(x)).reshape(()))


def _window(values, dtype):
    return Tensor(np.asarray(values).astype(dtype))


def bartlett(x):
    """The triangular window of length M: w[n] = 1 - |2n / (M - 1) - 1| (in floatx)."""
    return _window(np.bartlett(_window_length(x)), backend.floatx())


def blackman(x):
    """w[n] = 0.42 - 0.5 cos(2πn / (M - 1)) + 0.08 cos(4πn / (M - 1)) (in floatx)."""
    return _window(np.blackman(_window_length(x)), backend.floatx())


def hamming(x):
    """w[n] = 0.54 - 0.46 cos(2πn / (M - 1)) (float32, as ``tf.signal.hamming_window``)."""
    return _window(np.hamming(_window_length(x)), "float32")


def hanning(x):
    """The Hann window, w[n] = 0.5 - 0.5 cos(2πn / (M - 1)) (float32)."""
    return _window(np.hanning(_window_length(x)), "float32")


def kaiser(x, beta):
    """w[n] = I0(β·sqrt(1 - (2n / (M - 1) - 1)²)) / I0(β), I0 the modified Bessel function of
    order 0 (float32)."""
    return _window(np.kaiser(_window_length(x), float(value_of(beta))), "float32")


# --- view and vectorize ------------------------------------------------------------------------


def view(x, dtype=None):
    """The same bytes read as ``dtype`` (a bit cast, as ``tf.bitcast``): a wider dtype merges
    the last axis' neighbouring elements, a narrower one splits each element along it."""
    a = np.array(value_of(x), order="C", copy=None)
    new = np.dtype(a.dtype if dtype is None else backend.standardize_dtype(dtype))
    last = a.shape[-1] if a.ndim else -1
    if (last == -1 and a.itemsize != new.itemsize) or (last * a.itemsize % new.itemsize):
        raise ValueError(f"Cannot view array of shape {a.shape} and dtype {a.dtype} as dtype "
                         f"{new} because the total number of bytes is not divisible by the "
                         f"new itemsize.")
    return Tensor(a.view(new))


def _core_dims(signature):
    """'(m,n),(n)->(m)' as ([('m', 'n'), ('n',)], [('m',)])."""
    def parse(side):
        return [tuple(d for d in group.split(",") if d)
                for group in re.findall(r"\(([\w,]*)\)", side)]

    inputs, arrow, outputs = signature.replace(" ", "").partition("->")
    if not arrow:
        raise ValueError(f"Not a valid gufunc signature: {signature}")
    return parse(inputs), parse(outputs)


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` applied to every element (or, with a gufunc ``signature`` such as
    ``"(m,n),(n)->(m)"``, every core block) of its broadcast arguments, the results stacked,
    as ``numpy.vectorize``. ``pyfunc`` receives Tensors and the pieces are cut and stacked with
    recorded ops, so gradients flow through. Positional arguments whose index is in
    ``excluded`` are passed through unchanged (Keras 3.15 drops ``excluded``: a bug)."""
    excluded = set(excluded or ())

    @functools.wraps(pyfunc)
    def vectorized(*args, **kwargs):
        moving = [i for i in range(len(args)) if i not in excluded]
        if signature is None:
            in_dims, out_dims = [()] * len(moving), None
        else:
            in_dims, out_dims = _core_dims(signature)
        if len(in_dims) != len(moving):
            raise TypeError(f"wrong number of positional arguments: expected {len(in_dims)}, "
                            f"got {len(moving)}")
        args = [array(a) if i in moving else a for i, a in enumerate(args)]
        values = [np.asarray(value_of(args[i])) for i in moving]
        loops = [v.shape[:v.ndim - len(dims)] for v, dims in zip(values, in_dims, strict=True)]
        batch = np.broadcast_shapes(*loops)
        results = []
        for index in np.ndindex(*batch):
            call = list(args)
            for i, loop in zip(moving, loops, strict=True):
                here = tuple(k if size > 1 else 0
                             for k, size in zip(index[len(index) - len(loop):], loop,
                                                strict=True))
                call[i] = getitem(args[i], here)
            results.append(pyfunc(*call, **kwargs))
        if not results:
            raise ValueError(f"`vectorize` needs at least one element; the arguments broadcast "
                             f"to the empty shape {batch}.")
        if isinstance(results[0], tuple | list):
            return tuple(_stacked([r[k] for r in results], batch)
                         for k in builtins.range(len(results[0])))
        if out_dims is not None and len(out_dims) > 1:
            raise TypeError(f"output must be a tuple when multiple outputs are expected, got: "
                            f"{results[0]}")
        return _stacked(results, batch)

    return vectorized


def _stacked(pieces, batch):
    out = stack(pieces)
    return reshape(out, (*batch, *np.shape(value_of(out))[1:]))
