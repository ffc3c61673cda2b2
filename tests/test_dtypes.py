"""Type promotion (minikeras.dtypes): Keras's lattice, not NumPy's widening."""

import numpy as np
import pytest

import minikeras
from minikeras import dtypes, ops


@pytest.mark.parametrize("type1, type2, expected", [
    ("int32", "float32", "float32"),      # NumPy: float64
    ("int64", "float16", "float16"),      # NumPy: float64
    ("uint8", "int8", "int16"),
    ("int32", "int64", "int64"),
    ("float32", "float64", "float64"),
    ("bool", "int8", "int8"),
    ("int32", float, "float32"),          # a Python float is weak: floatx
    ("float16", int, "float16"),          # a Python int never widens a float
    ("int8", int, "int8"),
    (int, float, "float32"),
])
def test_result_type(type1, type2, expected):
    assert dtypes.result_type(type1, type2) == expected
    assert dtypes.result_type(type2, type1) == expected


def test_result_type_of_nothing_is_floatx():
    assert dtypes.result_type() == "float32"


def test_mixed_int_and_float_arrays_stay_float32():
    ints, floats = np.arange(1, 4, dtype="int64"), np.ones(3, dtype="float32")
    for op in (ops.add, ops.subtract, ops.multiply, ops.divide, ops.maximum, ops.minimum):
        assert op(ints, floats).dtype == "float32", op.__name__
        assert op(floats, ints).dtype == "float32", op.__name__
    assert (minikeras.Tensor(floats) + ints).dtype == "float32"
    np.testing.assert_array_equal(np.asarray(ops.add(ints, floats)), [2, 3, 4])


def test_integer_division_gives_floatx():
    out = ops.divide(np.array([1, 3], "int32"), np.array([2, 2], "int32"))
    assert out.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(out), [0.5, 1.5])


def test_mean_of_integers_is_float32_and_float16_does_not_overflow():
    assert ops.mean(np.array([1, 2], "int64")).dtype == "float32"
    big = np.array([60000, 60000], "float16")  # their float16 sum overflows to inf
    out = ops.mean(big)
    assert out.dtype == "float16" and float(out) == 60000


def test_int8_matmul_accumulates_in_int32():
    a = np.full((2, 100), 3, "int8")
    out = ops.matmul(a, a.T)
    assert out.dtype == "int32"
    assert int(np.asarray(out)[0, 0]) == 900  # 900 would wrap around in int8


def test_gradient_flows_through_promoted_operands():
    w = minikeras.Variable(np.array([1.0, 2.0], "float32"))
    with minikeras.GradientTape() as tape:
        loss = ops.sum(ops.multiply(w, np.array([3, 4], "int64")))
    assert loss.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(tape.gradient(loss, w)), [3, 4])
