"""Type promotion against Keras: ``result_type`` and the dtype of each binary op's result.

NumPy alone would give float64 for int64 + float32 and for int32 / int32; Keras gives float32.
Every pair of dtypes (and Python numbers) is checked, for ``result_type`` and for the ops.
"""

import itertools

import keras
import numpy as np
import pytest

import minikeras
from minikeras import dtypes

ARRAY_DTYPES = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
                "int64", "float16", "float32", "float64"]
PYTHON_TYPES = [int, float, bool]
BINARY_OPS = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power", "matmul"]
OPERAND_DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64",
                  "int", "float"]


@pytest.mark.parametrize("type1, type2", list(itertools.product(ARRAY_DTYPES + PYTHON_TYPES,
                                                                repeat=2)))
def test_result_type(type1, type2):
    assert dtypes.result_type(type1, type2) == keras.backend.result_type(type1, type2)


@pytest.mark.parametrize("floatx", ["float16", "float64"])
def test_result_type_follows_floatx(floatx):
    keras.backend.set_floatx(floatx)
    minikeras.backend.set_floatx(floatx)
    try:
        for pair in [(int, float), ("int32", float), ("int8", int), (int, int)]:
            assert dtypes.result_type(*pair) == keras.backend.result_type(*pair), pair
    finally:
        keras.backend.set_floatx("float32")


def _operand(name):
    if name == "int":
        return 3
    if name == "float":
        return 1.5
    return np.array([[1, 2], [2, 1]], dtype=name)


def _keras_dtype(op, a, b):
    try:
        return getattr(keras.ops, op)(a, b).dtype.name
    except Exception:  # Keras refuses some pairs (e.g. bool - bool): nothing to compare
        return None


@pytest.mark.parametrize("op", BINARY_OPS)
def test_binary_op_dtypes(op):
    pairs = [p for p in itertools.product(OPERAND_DTYPES, repeat=2)
             if not (p[0] in ("int", "float") and p[1] in ("int", "float"))]
    if op == "matmul":
        pairs = [p for p in pairs if "int" != p[0] != "float" and "int" != p[1] != "float"]
    checked, mismatches = 0, []
    for name1, name2 in pairs:
        a, b = _operand(name1), _operand(name2)
        expected = _keras_dtype(op, a, b)
        if expected is None or name1 == name2 == "bool":
            continue
        result = getattr(minikeras.ops, op)(a, b)
        if result.dtype != expected:
            mismatches.append((name1, name2, expected, result.dtype))
        checked += 1
    assert not mismatches, f"{op}: (x1, x2, Keras, minikeras): {mismatches}"
    assert checked > 40


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64", "float16", "float32", "float64"])
def test_mean_dtype_and_value(dtype):
    x = np.array([[1, 0, 1], [1, 1, 0]], dtype=dtype)
    expected = keras.ops.mean(x, axis=0)
    result = minikeras.ops.mean(x, axis=0)
    assert result.dtype == expected.dtype.name
    np.testing.assert_allclose(np.asarray(result), np.asarray(expected), rtol=1e-3)


@pytest.mark.parametrize("dtype", ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                   "float16", "float32", "float64"])
def test_sum_dtype_and_value(dtype):
    x = np.array([[1, 0, 1], [1, 1, 0]], dtype=dtype)
    for axis in (None, 0, 1):
        expected = keras.ops.sum(x, axis=axis)
        result = minikeras.ops.sum(x, axis=axis)
        assert result.dtype == expected.dtype.name, axis
        np.testing.assert_array_equal(np.asarray(result), np.asarray(expected))


@pytest.mark.parametrize("op", ["sqrt", "exp", "log", "log1p"])
@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "int64", "uint8", "float16",
                                   "float32", "float64"])
def test_float_math_on_integers_gives_floatx(op, dtype):
    x = np.array([1, 2], dtype=dtype)
    expected = getattr(keras.ops, op)(x)
    result = getattr(minikeras.ops, op)(x)
    assert result.dtype == expected.dtype.name
    np.testing.assert_allclose(np.asarray(result), np.asarray(expected), rtol=1e-3)
