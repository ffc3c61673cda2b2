"""Tensor: what ops and models return. A NumPy array plus a place on the gradient tape.

A ``Tensor`` holds its value in ``_value`` (a NumPy array). It behaves like that array:
``np.asarray(t)``, ``t.numpy()``, ``t.shape``, ``t[0]``, ``float(t)`` all work, and Python's
operators (``+ - * / @ ** -x``, comparisons, indexing) call ``minikeras.ops``, so they are recorded
by an active ``GradientTape`` exactly like the named ops. NumPy functions on tensors
(``np.exp(t)``, ``x + t`` with ``x`` an array) are routed to the same ops.

A layer's output may carry a Keras mask, ``t._keras_mask`` (booleans ``(batch, steps)``, True where
a step is real), as Keras's TensorFlow backend attaches it to its tensors: ``Embedding(
mask_zero=True)`` and ``Masking`` create it, layers that support masking pass it on, and the next
layer's ``call(..., mask=...)`` and the loss read it (``layers/layer.py``).
"""

import functools

import numpy as np

from minikeras import backend


class ArrayLike:
    """Operators and the array protocol shared by ``Tensor`` and ``Variable``."""

    __slots__ = ()
    __array_priority__ = 100

    # --- reading the value -------------------------------------------------------------------
    def numpy(self):
        return self._value

    def __array__(self, dtype=None, copy=None):
        value = np.asarray(self._value)  # reductions leave NumPy scalars, which are not arrays
        if dtype is not None and value.dtype != dtype:
            return value.astype(dtype)
        return value.copy() if copy else value

    @property
    def shape(self):
        return self._value.shape

    @property
    def dtype(self):
        return backend.dtype_name(self._value.dtype)

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def size(self):
        return self._value.size

    def __len__(self):
        return len(self._value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __index__(self):
        return int(self._value)

    def __bool__(self):
        return bool(self._value)

    def __format__(self, spec):
        return format(self._value.item() if self._value.ndim == 0 else self._value, spec)

    def tolist(self):
        return self._value.tolist()

    def astype(self, dtype):
        return ops.cast(self, dtype)

    @property
    def T(self):
        return ops.transpose(self)

    # --- differentiable operators ------------------------------------------------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.subtract(self, other)

    def __rsub__(self, other):
        return ops.subtract(other, self)

    def __mul__(self, other):
        return ops.multiply(self, other)

    def __rmul__(self, other):
        return ops.multiply(other, self)

    def __truediv__(self, other):
        return ops.divide(self, other)

    def __rtruediv__(self, other):
        return ops.divide(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __pow__(self, other):
        return ops.power(self, other)

    def __rpow__(self, other):
        return ops.power(other, self)

    def __neg__(self):
        return ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, key):
        return ops.getitem(self, key)

    # --- comparisons (not differentiable) ----------------------------------------------------
    def __lt__(self, other):
        return ops.less(self, other)

    def __le__(self, other):
        return ops.less_equal(self, other)

    def __gt__(self, other):
        return ops.greater(self, other)

    def __ge__(self, other):
        return ops.greater_equal(self, other)

    def __eq__(self, other):
        return ops.equal(self, other)

    def __ne__(self, other):
        return ops.not_equal(self, other)

    __hash__ = object.__hash__

    # --- NumPy functions on tensors ------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        op = _ufunc_ops().get(ufunc) if method == "__call__" and not kwargs else None
        if op is not None:
            return op(*inputs)
        inputs = [x._value if isinstance(x, ArrayLike) else x for x in inputs]
        return getattr(ufunc, method)(*inputs, **kwargs)


class Tensor(ArrayLike):
    """An immutable value produced by an op (Keras returns a backend tensor here)."""

    __slots__ = ("_value", "_keras_logits", "_keras_mask", "__weakref__")

    def __init__(self, value):
        self._value = value
        self._keras_logits = None
        self._keras_mask = None

    def __repr__(self):
        return f"<Tensor shape={self.shape}, dtype={self.dtype}, numpy=\n{self._value!r}>"

    def __str__(self):
        return str(self._value)


@functools.cache
def _ufunc_ops():
    """NumPy ufuncs that have a differentiable minikeras op (built on first use)."""
    return {
        np.add: ops.add,
        np.subtract: ops.subtract,
        np.multiply: ops.multiply,
        np.true_divide: ops.divide,
        np.matmul: ops.matmul,
        np.power: ops.power,
        np.negative: ops.negative,
        np.square: ops.square,
        np.sqrt: ops.sqrt,
        np.exp: ops.exp,
        np.log: ops.log,
        np.log1p: ops.log1p,
        np.absolute: ops.abs,
        np.sign: ops.sign,
        np.tanh: ops.tanh,
        np.maximum: ops.maximum,
        np.minimum: ops.minimum,
    }


from minikeras import ops  # noqa: E402  (ops need Tensor; operators need ops)
