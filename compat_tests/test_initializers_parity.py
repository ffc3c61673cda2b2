"""Parity with Keras for the weight helpers: initializers, regularizers and constraints.

Random streams cannot match (TensorFlow's Philox generator), so random initializers are compared
by the statistics of large draws; everything deterministic is compared value for value, and
configs and names must be identical.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src import constraints as keras_constraints_src
from keras.src import initializers as keras_initializers_src
from keras.src import regularizers as keras_regularizers_src

import minikeras
from minikeras import constraints, initializers, regularizers

SHAPE = (400, 600)


# --- initializers: names and configs -------------------------------------------------------------
def test_same_initializer_names():
    assert set(initializers.ALL_OBJECTS_DICT) == set(keras_initializers_src.ALL_OBJECTS_DICT)


@pytest.mark.parametrize("name", sorted(keras_initializers_src.ALL_OBJECTS_DICT))
def test_get_resolves_every_name_to_the_same_class(name):
    if name in ("constant", "Constant"):  # Keras: KeyError('value'); minikeras: Constant(0.0)
        with pytest.raises(KeyError):
            keras.initializers.get(name)
        assert type(initializers.get(name)).__name__ == "Constant"
        return
    assert type(initializers.get(name)).__name__ == type(keras.initializers.get(name)).__name__


INIT_CASES = [
    ("Zeros", {}), ("Ones", {}), ("Constant", {"value": 2.5}), ("Constant", {"value": 3}),
    ("Identity", {"gain": 2.0}), ("RandomNormal", {}),
    ("RandomNormal", {"mean": 1.0, "stddev": 0.2, "seed": 5}), ("RandomUniform", {}),
    ("RandomUniform", {"minval": -1, "maxval": 2, "seed": 1}), ("TruncatedNormal", {}),
    ("TruncatedNormal", {"stddev": 0.3, "seed": 2}), ("VarianceScaling", {}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "normal", "seed": 3}),
    ("VarianceScaling", {"mode": "fan_avg", "distribution": "untruncated_normal"}),
    ("GlorotUniform", {}), ("GlorotUniform", {"seed": 7}), ("GlorotNormal", {}),
    ("HeNormal", {}), ("HeUniform", {"seed": 1}), ("LecunNormal", {}), ("LecunUniform", {}),
    ("Orthogonal", {}), ("Orthogonal", {"gain": 1.5, "seed": 4}),
]


@pytest.mark.parametrize("cls_name, kwargs", INIT_CASES)
def test_initializer_serialization_equals_keras(cls_name, kwargs):
    ours = getattr(initializers, cls_name)(**kwargs)
    theirs = getattr(keras.initializers, cls_name)(**kwargs)
    assert initializers.serialize(ours) == keras.initializers.serialize(theirs)
    # each library reads the other's dict back to the same config
    keras_dict = keras.initializers.serialize(theirs)
    assert initializers.serialize(initializers.deserialize(keras_dict)) == keras_dict
    assert keras.initializers.serialize(
        keras.initializers.deserialize(initializers.serialize(ours))) == keras_dict


def test_constant_array_config_equals_keras():
    value = np.array([1.0, 2.0], dtype="float32")
    assert initializers.Constant(value).get_config() == \
        keras.initializers.Constant(value).get_config()


# --- initializers: values ------------------------------------------------------------------------
@pytest.mark.parametrize("cls_name, kwargs, shape", [
    ("Zeros", {}, (3, 4)), ("Ones", {}, (5,)), ("Constant", {"value": 2.5}, (2, 3)),
    ("Constant", {"value": [1.0, -2.0]}, (3, 2)), ("Identity", {}, (3, 3)),
    ("Identity", {"gain": 2.0}, (2, 4)), ("Identity", {"gain": 0.5}, (4, 2)),
])
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_constant_initializers_equal_keras(cls_name, kwargs, shape, dtype):
    ours = getattr(initializers, cls_name)(**kwargs)(shape, dtype=dtype)
    theirs = np.asarray(getattr(keras.initializers, cls_name)(**kwargs)(shape, dtype=dtype))
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("cls_name, kwargs, shape, bounded", [
    ("RandomNormal", {"mean": 0.5, "stddev": 0.2}, SHAPE, False),
    ("RandomUniform", {"minval": -0.3, "maxval": 0.1}, SHAPE, True),
    ("TruncatedNormal", {"stddev": 0.5}, SHAPE, True),
    ("GlorotUniform", {}, SHAPE, True), ("GlorotNormal", {}, SHAPE, True),
    ("HeNormal", {}, SHAPE, True), ("HeUniform", {}, SHAPE, True),
    ("LecunNormal", {}, SHAPE, True), ("LecunUniform", {}, SHAPE, True),
    ("VarianceScaling", {"scale": 3.0, "mode": "fan_out", "distribution": "untruncated_normal"},
     SHAPE, False),
    ("GlorotUniform", {}, (5, 5, 100, 120), True), ("HeNormal", {}, (3, 200, 400), True),
])
def test_random_initializer_statistics_match_keras(cls_name, kwargs, shape, bounded):
    ours = getattr(initializers, cls_name)(seed=11, **kwargs)(shape)
    theirs = np.asarray(getattr(keras.initializers, cls_name)(seed=11, **kwargs)(shape))
    assert ours.dtype == theirs.dtype == np.float32 and ours.shape == theirs.shape
    a, b = ours.astype("float64"), theirs.astype("float64")
    # two independent samples of n values: their means differ by ~ std * sqrt(2 / n), their
    # stds by ~ std / sqrt(n); allow 5 such standard errors
    n = a.size
    np.testing.assert_allclose(a.std(), b.std(), rtol=5 / np.sqrt(n))
    np.testing.assert_allclose(a.mean(), b.mean(), atol=5 * b.std() * np.sqrt(2 / n))
    if bounded:  # uniform limits and truncation at 2 stddev: the same bound in both
        np.testing.assert_allclose(np.abs(a).max(), np.abs(b).max(), rtol=0.002)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 5)])
def test_orthogonal_like_keras(shape):
    for init in (initializers.Orthogonal(gain=2.0, seed=1),
                 keras.initializers.Orthogonal(gain=2.0, seed=1)):
        q = np.asarray(init(shape), dtype="float64").reshape(-1, shape[-1]) / 2.0
        small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
        np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5)


@pytest.mark.parametrize("cls_name", ["RandomNormal", "GlorotUniform", "Orthogonal"])
def test_seed_semantics_like_keras(cls_name):
    for module in (initializers, keras.initializers):
        cls = getattr(module, cls_name)
        unseeded = cls()
        np.testing.assert_array_equal(np.asarray(unseeded((3, 4))), np.asarray(unseeded((3, 4))))
        assert not np.array_equal(np.asarray(cls()((3, 4))), np.asarray(cls()((3, 4))))
        np.testing.assert_array_equal(np.asarray(cls(seed=3)((3, 4))),
                                      np.asarray(cls(seed=3)((3, 4))))


@pytest.mark.parametrize("make", [
    lambda m: m.VarianceScaling(scale=0.0), lambda m: m.VarianceScaling(mode="fan"),
    lambda m: m.VarianceScaling(distribution="cauchy"), lambda m: m.Identity()((2, 2, 2)),
    lambda m: m.Orthogonal()((4,)), lambda m: m.RandomNormal(seed="x"),
])
def test_same_errors_as_keras(make):
    with pytest.raises(ValueError):
        make(keras.initializers)
    with pytest.raises(ValueError):
        make(initializers)


# --- regularizers --------------------------------------------------------------------------------
REG_CASES = [("L1", {}), ("L1", {"l1": 0.3}), ("L2", {}), ("L2", {"l2": 0.2}), ("L1L2", {}),
             ("L1L2", {"l1": 0.1, "l2": 0.05}), ("L1L2", {"l2": 0.5}),
             ("OrthogonalRegularizer", {}),
             ("OrthogonalRegularizer", {"factor": 0.2, "mode": "columns"})]


@pytest.mark.parametrize("cls_name, kwargs", REG_CASES)
def test_regularizer_value_gradient_config_equal_keras(cls_name, kwargs, rng):
    w = rng.normal(size=(5, 4)).astype("float32")
    ours = getattr(regularizers, cls_name)(**kwargs)
    theirs = getattr(keras.regularizers, cls_name)(**kwargs)

    v = minikeras.Variable(w)
    with minikeras.GradientTape() as tape:
        loss = ours(v)
    grad = tape.gradient(loss, v)
    tv = tf.Variable(w)
    with tf.GradientTape() as ttape:
        tloss = theirs(tv)
    tgrad = ttape.gradient(tloss, tv)

    np.testing.assert_allclose(loss.numpy(), tloss.numpy(), rtol=1e-5, atol=1e-6)
    if tgrad is None:  # L1L2() is a constant 0
        assert not np.any(np.asarray(grad if grad is not None else 0.0))
    else:
        np.testing.assert_allclose(np.asarray(grad), tgrad.numpy(), rtol=1e-5, atol=1e-6)
    assert regularizers.serialize(ours) == keras.regularizers.serialize(theirs)


def test_same_regularizer_names():
    assert set(regularizers.ALL_OBJECTS_DICT) == set(keras_regularizers_src.ALL_OBJECTS_DICT)
    for name in regularizers.ALL_OBJECTS_DICT:
        ours, theirs = regularizers.get(name), keras.regularizers.get(name)
        assert type(ours).__name__ == type(theirs).__name__
        if name.lower() != "regularizer":  # the base class has no config
            assert ours.get_config() == theirs.get_config()
    for bad in ["l1_l2", "L2Regularizer"]:
        with pytest.raises(ValueError):
            keras.regularizers.get(bad)
        with pytest.raises(ValueError):
            regularizers.get(bad)


# --- constraints ---------------------------------------------------------------------------------
CONSTRAINT_CASES = [("MaxNorm", {}), ("MaxNorm", {"max_value": 1.1, "axis": 1}),
                    ("MaxNorm", {"max_value": 0.5, "axis": [0, 1]}), ("NonNeg", {}),
                    ("UnitNorm", {}), ("UnitNorm", {"axis": 1}), ("MinMaxNorm", {}),
                    ("MinMaxNorm", {"min_value": 1.0, "max_value": 1.5, "rate": 0.3}),
                    ("MinMaxNorm", {"min_value": 0.2, "max_value": 0.4, "axis": 1})]


@pytest.mark.parametrize("cls_name, kwargs", CONSTRAINT_CASES)
def test_constraint_values_and_config_equal_keras(cls_name, kwargs, rng):
    w = rng.normal(size=(6, 5)).astype("float32")
    w[:, 2] = 0.0  # a dead unit: its norm is 0, epsilon keeps the result finite
    w[:, 3] *= 1e-3
    ours = getattr(constraints, cls_name)(**kwargs)
    theirs = getattr(keras.constraints, cls_name)(**kwargs)
    expected = np.asarray(theirs(tf.constant(w)))
    got = ours(w)
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert constraints.serialize(ours) == keras.constraints.serialize(theirs)


def test_same_constraint_names():
    assert set(constraints.ALL_OBJECTS_DICT) == set(keras_constraints_src.ALL_OBJECTS_DICT)
    for name in constraints.ALL_OBJECTS_DICT:
        ours, theirs = constraints.get(name), keras.constraints.get(name)
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.get_config() == theirs.get_config()
