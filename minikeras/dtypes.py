"""Type promotion: the dtype of ``x1 + x2`` for operands that differ (``result_type``).

Keras promotes along a lattice (JAX's): bool < ints < floats, and a value only moves *up* as far
as it must. The difference from NumPy that a learner meets first: an integer array meets a float
array in the *float's* dtype (int64 + float32 -> float32, where NumPy gives float64). Python
numbers are "weak": ``int32_array + 1.5`` is ``floatx`` and ``float16_array + 2`` stays float16.
These are the rules of Keras 3 with its TensorFlow backend (int64 and float64 are kept).
"""

import functools

import numpy as np

from minikeras import backend

_WEAK = {int: "int", float: "float"}  # Python numbers: their kind counts, not their width

# Each type and the types just above it (keras/src/backend/common/dtypes.py).
_LATTICE = {
    "bool": ["int"],
    "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"], "uint32": ["int64", "uint64"],
    "uint64": ["float"],
    "int": ["uint8", "int8", "complex64"],
    "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
    "float": ["bfloat16", "float16"],
    "bfloat16": ["float32"], "float16": ["float32"], "float32": ["float64", "complex64"],
    "float64": ["complex128"], "complex64": ["complex128"], "complex128": [],
}


@functools.cache
def _upper_bounds(dtype):
    """``dtype`` and every type above it on the lattice."""
    above = {dtype}
    for parent in _LATTICE[dtype]:
        above |= _upper_bounds(parent)
    return frozenset(above)


def _least_upper_bound(names):
    common = frozenset.intersection(*(_upper_bounds(n) for n in names))
    return next(c for c in common if common <= _upper_bounds(c))


def result_type(*dtypes):
    """The dtype Keras gives an op on operands of ``dtypes`` (dtype names, NumPy dtypes, or the
    Python types ``int``/``float``/``bool`` for Python numbers)."""
    if not dtypes:
        return backend.floatx()
    names = [_WEAK.get(d) or backend.standardize_dtype(d) for d in dtypes]
    out = _least_upper_bound(names)
    if all(d in _WEAK for d in dtypes) or out in ("int", "float"):
        width = backend.floatx()[-2:]  # a weak result takes the width of floatx
        out = f"float{width}" if out in ("float", "float32", "float64") else f"int{width}"
    return "uint32" if out == "uint64" else out  # Keras narrows uint64 on every backend


@functools.cache
def cast_for(type1, type2, floating=False):
    """The NumPy dtype to cast two operands to, or None when NumPy's own promotion already gives
    Keras's ``result_type`` (``type1``/``type2``: a NumPy dtype, or ``int``/``float``/``bool``).
    ``floating``: the op makes floats of anything (true division), as if a Python float joined."""
    extra = (float,) if floating else ()
    keras_dtype = np.dtype(result_type(type1, type2, *extra))
    examples = [{int: 0, float: 0.0, bool: False}.get(t, t) for t in (type1, type2, *extra)]
    return None if np.result_type(*examples) == keras_dtype else keras_dtype


def promote(a, b, floating=False):
    """``a`` and ``b`` (arrays or Python numbers) cast to Keras's common dtype where NumPy's
    would differ; unchanged (and cheap) in the usual case of equal float dtypes."""
    type1, type2 = getattr(a, "dtype", type(a)), getattr(b, "dtype", type(b))
    if type1 is type2 and (not floating or getattr(type1, "kind", "") == "f"):
        return a, b
    dtype = cast_for(type1, type2, floating)
    if dtype is None:
        return a, b
    return np.asarray(a, dtype), np.asarray(b, dtype)
