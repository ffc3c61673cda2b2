"""Conversion between Python/NumPy values and tensors (``keras.ops.core``)."""

import numpy as np

from minikeras import backend
from minikeras.autodiff import record
from minikeras.tensor import ArrayLike, Tensor


def value_of(x):
    """The NumPy array behind ``x`` (a Tensor, Variable, array, list or number).

    Python numbers stay Python numbers, so NumPy keeps the other operand's dtype (float32 + 2.0
    stays float32); lists and tuples become arrays, floats in ``floatx``.
    """
    if type(x) is np.ndarray:
        return x
    if isinstance(x, ArrayLike):
        return x._value
    if isinstance(x, np.ndarray | int | float | np.generic):
        return x
    return _to_array(x)


def _to_array(x, dtype=None):
    array = np.asarray(x, dtype=dtype)
    if dtype is None and not isinstance(x, np.ndarray):  # NumPy arrays keep their dtype;
        if array.dtype.kind == "f":  # Python floats follow floatx and Python ints are int32
            array = array.astype(backend.floatx())
        elif array.dtype.kind == "i":
            array = array.astype("int32")
    if array.dtype.kind not in "biufc":
        raise TypeError(
            f"Expected numeric data, but received {type(x).__name__} with dtype "
            f"{array.dtype} (first values: {array.ravel()[:3].tolist()}). Convert strings and "
            f"objects to numbers before passing them to minikeras.")
    return array


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` as a Tensor; Python floats and lists of floats become ``floatx`` (float32)."""
    if isinstance(x, ArrayLike) and dtype is None:
        return x
    if dtype is not None:
        dtype = backend.standardize_dtype(dtype)
    if isinstance(x, ArrayLike):
        return cast(x, dtype)
    return Tensor(_to_array(x, dtype))


def convert_to_numpy(x):
    return np.asarray(value_of(x))


def cast(x, dtype):
    """``x`` as ``dtype``; gradients flow back through float-to-float casts."""
    dtype = backend.standardize_dtype(dtype)
    a = value_of(x)
    out = np.asarray(a, dtype=dtype)
    if not backend.is_float_dtype(dtype):
        return Tensor(out)
    return record(out, (x,), lambda g: g.astype(np.asarray(a).dtype))


def stop_gradient(x):
    """The same values, but no gradient flows back through them."""
    return Tensor(value_of(x))


def shape(x):
    return tuple(np.shape(value_of(x)))


def dtype(x):
    return backend.standardize_dtype(np.asarray(value_of(x)).dtype)


def is_tensor(x):
    return isinstance(x, ArrayLike)
