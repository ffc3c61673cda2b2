"""Regularizers (values and tape gradients vs their formulas); constraints (vs their formulas)."""

import numpy as np
import pytest

import minikeras
from minikeras import constraints, regularizers

EPS = 1e-7


@pytest.fixture
def w():
    return np.random.default_rng(0).normal(size=(4, 3)).astype("float32")


def value_and_grad(reg, w):
    v = minikeras.Variable(w)
    with minikeras.GradientTape() as tape:
        loss = reg(v)
    return np.asarray(loss.numpy()), np.asarray(tape.gradient(loss, v))


# --- regularizers --------------------------------------------------------------------------------
@pytest.mark.parametrize("reg, value, grad", [
    (regularizers.L1(0.3), lambda w: 0.3 * np.abs(w).sum(), lambda w: 0.3 * np.sign(w)),
    (regularizers.L2(0.2), lambda w: 0.2 * (w**2).sum(), lambda w: 0.4 * w),
    (regularizers.L1L2(l1=0.1, l2=0.05), lambda w: 0.1 * np.abs(w).sum() + 0.05 * (w**2).sum(),
     lambda w: 0.1 * np.sign(w) + 0.1 * w),
    (regularizers.L1L2(l2=0.5), lambda w: 0.5 * (w**2).sum(), lambda w: w),
])
def test_regularizer_value_and_gradient(reg, value, grad, w):
    loss, g = value_and_grad(reg, w)
    w64 = w.astype("float64")
    assert loss.shape == () and loss.dtype == np.float32
    np.testing.assert_allclose(loss, value(w64), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g, grad(w64), rtol=1e-5, atol=1e-6)


def test_regularizer_on_plain_array(w):
    expected = 0.01 * (w.astype("float64") ** 2).sum()
    np.testing.assert_allclose(regularizers.L2()(w).numpy(), expected, rtol=1e-5)


def test_l1l2_defaults_to_no_penalty(w):
    reg = regularizers.get("l1l2")
    assert (reg.l1, reg.l2) == (0.0, 0.0)
    assert float(reg(w)) == 0.0


def orthogonal_penalty(w, factor, mode):
    """factor * 0.5 * sum |off-diagonal cosines| / (n (n - 1) / 2), in float64."""
    x = w.astype("float64") if mode == "rows" else w.astype("float64").T
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos = unit @ unit.T
    n = len(x)
    return factor * 0.5 * np.abs(cos - np.diag(np.diag(cos))).sum() / (n * (n - 1) / 2)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer(mode, w):
    loss, g = value_and_grad(regularizers.OrthogonalRegularizer(0.3, mode), w)
    np.testing.assert_allclose(loss, orthogonal_penalty(w, 0.3, mode), rtol=1e-5)
    # central differences in float64 on the formula: the tape's gradient must agree
    numeric = np.zeros_like(w, dtype="float64")
    for idx in np.ndindex(w.shape):
        step = np.zeros_like(w, dtype="float64")
        step[idx] = 1e-6
        numeric[idx] = (orthogonal_penalty(w + step, 0.3, mode)
                        - orthogonal_penalty(w - step, 0.3, mode)) / 2e-6
    np.testing.assert_allclose(g, numeric, atol=1e-5)


def test_orthogonal_regularizer_needs_rank_2():
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(np.ones(3, dtype="float32"))
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")


def test_regularizer_configs():
    # Keras stores L1's factor as a float32 tensor, L2's as a Python float.
    assert regularizers.L1().get_config() == {"l1": float(np.float32(0.01))}
    assert regularizers.L2().get_config() == {"l2": 0.01}
    assert regularizers.L1L2(l1=0.1).get_config() == {"l1": 0.1, "l2": 0.0}
    assert regularizers.OrthogonalRegularizer().get_config() == {
        "factor": float(np.float32(0.01)), "mode": "rows"}
    assert regularizers.serialize(regularizers.L2(0.5)) == {
        "module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.5},
        "registered_name": None}


@pytest.mark.parametrize("reg", [regularizers.L1(0.5), regularizers.L2(0.25),
                                 regularizers.L1L2(0.1, 0.2),
                                 regularizers.OrthogonalRegularizer(0.1, "columns")])
def test_regularizer_round_trip(reg):
    again = regularizers.deserialize(regularizers.serialize(reg))
    assert type(again) is type(reg) and again.get_config() == reg.get_config()


@pytest.mark.parametrize("name, cls, factors", [
    ("l1", regularizers.L1, {"l1": float(np.float32(0.01))}),
    ("L1", regularizers.L1, {"l1": float(np.float32(0.01))}),
    ("l2", regularizers.L2, {"l2": 0.01}), ("L2", regularizers.L2, {"l2": 0.01}),
    ("l1l2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
    ("L1L2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
    ("orthogonal_regularizer", regularizers.OrthogonalRegularizer,
     {"factor": float(np.float32(0.01)), "mode": "rows"}),
])
def test_get_by_name(name, cls, factors):
    reg = regularizers.get(name)
    assert type(reg) is cls and reg.get_config() == factors


def test_get_errors_and_other_identifiers():
    with pytest.raises(ValueError, match="l1_l2") as info:
        regularizers.get("l1_l2")  # Keras 3 has no such name
    assert "'l1l2'" in str(info.value)
    assert regularizers.get(None) is None
    reg = regularizers.L2()
    assert regularizers.get(reg) is reg
    assert type(regularizers.get(regularizers.L1)) is regularizers.L1
    assert type(regularizers.get({"class_name": "L2", "config": {"l2": 0.3}})) is regularizers.L2


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1"])
def test_regularizer_factor_validation(bad):
    with pytest.raises(ValueError, match="l2"):
        regularizers.L2(bad)


# --- constraints ---------------------------------------------------------------------------------
def norms(w, axis):
    axis = tuple(axis) if isinstance(axis, list) else axis
    return np.sqrt((w.astype("float64") ** 2).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("axis", [0, 1, [0, 1]])
def test_max_norm(axis, w):
    out = constraints.MaxNorm(max_value=1.2, axis=axis)(w)
    n = norms(w, axis)
    np.testing.assert_allclose(out, w * np.clip(n, 0, 1.2) / (EPS + n), rtol=1e-5)
    assert np.all(norms(out, axis) <= 1.2 + 1e-5)
    assert out.dtype == np.float32


def test_max_norm_leaves_small_columns_alone(w):
    small = w / 100
    np.testing.assert_allclose(constraints.MaxNorm(2)(small), small, rtol=1e-5)


@pytest.mark.parametrize("axis", [0, 1])
def test_unit_norm(axis, w):
    out = constraints.UnitNorm(axis=axis)(w)
    np.testing.assert_allclose(out, w / (EPS + norms(w, axis)), rtol=1e-5)
    np.testing.assert_allclose(norms(out, axis), 1.0, rtol=1e-5)


@pytest.mark.parametrize("rate", [1.0, 0.5, 0.0])
def test_min_max_norm(rate, w):
    out = constraints.MinMaxNorm(min_value=1.0, max_value=1.5, rate=rate)(w)
    n = norms(w, 0)
    desired = rate * np.clip(n, 1.0, 1.5) + (1 - rate) * n
    np.testing.assert_allclose(out, w * desired / (EPS + n), rtol=1e-5)


def test_non_neg(w):
    np.testing.assert_array_equal(constraints.NonNeg()(w), np.maximum(w, 0))


def test_constraints_on_zero_weights_stay_finite():
    zeros = np.zeros((3, 2), dtype="float32")
    for c in [constraints.MaxNorm(), constraints.UnitNorm(), constraints.MinMaxNorm(0.5, 1.0)]:
        with np.errstate(all="raise"):
            np.testing.assert_array_equal(c(zeros), zeros)


def test_constraint_accepts_a_variable(w):
    np.testing.assert_array_equal(constraints.NonNeg()(minikeras.Variable(w)), np.maximum(w, 0))


def test_constraint_defaults_and_configs():
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.UnitNorm().get_config() == {"axis": 0}
    assert constraints.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0,
                                                     "rate": 1.0, "axis": 0}
    assert constraints.NonNeg().get_config() == {}
    assert constraints.serialize(constraints.MaxNorm(3, axis=1)) == {
        "module": "keras.constraints", "class_name": "MaxNorm",
        "config": {"max_value": 3, "axis": 1}, "registered_name": None}


@pytest.mark.parametrize("name, cls", [
    ("max_norm", constraints.MaxNorm), ("MaxNorm", constraints.MaxNorm),
    ("non_neg", constraints.NonNeg), ("NonNeg", constraints.NonNeg),
    ("unit_norm", constraints.UnitNorm), ("UnitNorm", constraints.UnitNorm),
    ("min_max_norm", constraints.MinMaxNorm), ("MinMaxNorm", constraints.MinMaxNorm),
    ("constraint", constraints.Constraint),
])
def test_constraint_get_by_name(name, cls):
    assert type(constraints.get(name)) is cls


def test_constraint_round_trip_and_errors():
    c = constraints.MinMaxNorm(0.1, 2.0, 0.5, axis=1)
    again = constraints.deserialize(constraints.serialize(c))
    assert type(again) is constraints.MinMaxNorm and again.get_config() == c.get_config()
    with pytest.raises(ValueError, match="maxnorm") as info:
        constraints.get("maxnorm")
    assert "'max_norm'" in str(info.value)
    assert constraints.get(None) is None
