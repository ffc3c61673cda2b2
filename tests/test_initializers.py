"""Initializers: fans, distributions (statistics of large draws vs the formulas), seeds, configs."""

import math

import numpy as np
import pytest

from minikeras import backend, initializers
from minikeras.utils import random as mk_random

SHAPE = (400, 600)  # 240 000 samples: std estimates good to ~0.15 %, tests allow 1 %


def truncated_std_factor(a=2.0):
    """Std of a standard normal truncated to [-a, a]: sqrt(1 - 2 a phi(a) / (2 Phi(a) - 1))."""
    phi = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(a / math.sqrt(2))
    return math.sqrt(1 - 2 * a * phi / mass)


@pytest.fixture(autouse=True)
def _float32():
    backend.set_floatx("float32")
    yield
    backend.set_floatx("float32")


# --- fans ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, fans", [
    ((3, 5), (3, 5)),            # Dense kernel (in, out)
    ((7,), (7, 7)),              # a vector
    ((), (1, 1)),                # a scalar
    ((3, 3, 4, 8), (36, 72)),    # Conv2D kernel: receptive field 3*3
    ((2, 3, 4, 5, 6), (120, 144)),
])
def test_compute_fans(shape, fans):
    assert initializers.compute_fans(shape) == fans


def test_compute_fans_with_axes():
    assert initializers.compute_fans((2, 3, 4), input_axes=(0, 1), output_axes=(2,)) == (6, 4)


# --- distributions -------------------------------------------------------------------------------
def expected_std(scale, mode, distribution, shape=SHAPE):
    """The std each VarianceScaling variant is designed to have: sqrt(scale / fan)."""
    fan_in, fan_out = shape[0], shape[1]
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    return math.sqrt(scale / fan)


@pytest.mark.parametrize("name, scale, mode, distribution", [
    ("glorot_uniform", 1.0, "fan_avg", "uniform"),
    ("glorot_normal", 1.0, "fan_avg", "truncated_normal"),
    ("he_normal", 2.0, "fan_in", "truncated_normal"),
    ("he_uniform", 2.0, "fan_in", "uniform"),
    ("lecun_normal", 1.0, "fan_in", "truncated_normal"),
    ("lecun_uniform", 1.0, "fan_in", "uniform"),
])
def test_named_variance_scaling_statistics(name, scale, mode, distribution):
    init = initializers.get({"class_name": name, "config": {"seed": 3}})
    x = init(SHAPE)
    std = expected_std(scale, mode, distribution)
    assert x.dtype == np.float32 and x.shape == SHAPE
    assert abs(x.mean()) < 0.01 * std
    np.testing.assert_allclose(x.std(), std, rtol=0.01)
    if distribution == "uniform":
        limit = math.sqrt(3) * std  # U(-l, l) has std l / sqrt(3)
        assert np.abs(x).max() <= limit
        assert np.abs(x).max() > 0.999 * limit
    else:
        raw_std = std / truncated_std_factor()  # the stddev before truncation
        assert np.abs(x).max() <= 2 * raw_std * (1 + 1e-6)
        assert np.abs(x).max() > 1.99 * raw_std


def test_truncated_normal_constant_matches_formula():
    # Keras hard-codes 0.87962566103423978 as the std of N(0, 1) truncated at +-2.
    np.testing.assert_allclose(truncated_std_factor(), 0.87962566103423978, rtol=1e-12)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_statistics(mode, distribution):
    x = initializers.VarianceScaling(3.0, mode, distribution, seed=1)(SHAPE)
    np.testing.assert_allclose(x.std(), expected_std(3.0, mode, distribution), rtol=0.01)


def test_variance_scaling_normal_means_truncated_normal():
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    assert initializers.VarianceScaling(distribution="Uniform").distribution == "uniform"


def test_variance_scaling_small_fan_uses_at_least_one():
    # scale / max(1, fan): a (0, 5) kernel would otherwise divide by zero.
    x = initializers.VarianceScaling(distribution="uniform", mode="fan_in", seed=0)((1, 200000))
    np.testing.assert_allclose(x.std(), 1.0, rtol=0.01)


def test_random_normal_statistics():
    x = initializers.RandomNormal(mean=1.5, stddev=0.2, seed=0)(SHAPE)
    np.testing.assert_allclose([x.mean(), x.std()], [1.5, 0.2], rtol=0.01)


def test_random_uniform_statistics():
    x = initializers.RandomUniform(-0.3, 0.5, seed=0)(SHAPE)
    assert x.min() >= -0.3 and x.max() <= 0.5
    np.testing.assert_allclose([x.mean(), x.std()], [0.1, 0.8 / math.sqrt(12)], rtol=0.01)


def test_truncated_normal_statistics():
    x = initializers.TruncatedNormal(mean=-1.0, stddev=0.5, seed=0)(SHAPE)
    assert np.abs(x + 1.0).max() <= 1.0 + 1e-6
    np.testing.assert_allclose(x.mean(), -1.0, atol=0.005)
    np.testing.assert_allclose(x.std(), 0.5 * truncated_std_factor(), rtol=0.01)


def test_defaults_match_keras_signatures():
    assert (initializers.RandomNormal().mean, initializers.RandomNormal().stddev) == (0.0, 0.05)
    assert (initializers.RandomUniform().minval, initializers.RandomUniform().maxval) == (-0.05,
                                                                                          0.05)
    assert initializers.TruncatedNormal().stddev == 0.05
    v = initializers.VarianceScaling()
    assert (v.scale, v.mode, v.distribution) == (1.0, "fan_in", "truncated_normal")
    assert initializers.Constant().value == 0.0


# --- constant initializers -----------------------------------------------------------------------
def test_zeros_ones_constant():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.Ones()((4,)), np.ones(4))
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 2)), np.full((2, 2), 2.5))
    np.testing.assert_array_equal(initializers.Constant([1.0, 2.0])((3, 2)),
                                  np.tile([1.0, 2.0], (3, 1)))


@pytest.mark.parametrize("init", [initializers.Zeros(), initializers.Ones(),
                                  initializers.Constant(3), initializers.Identity(),
                                  initializers.GlorotUniform(), initializers.RandomNormal(),
                                  initializers.Orthogonal(), initializers.TruncatedNormal()])
def test_dtype(init):
    assert init((3, 3)).dtype == np.float32
    assert init((3, 3), dtype="float64").dtype == np.float64
    backend.set_floatx("float64")
    assert init((3, 3)).dtype == np.float64


def test_identity():
    np.testing.assert_array_equal(initializers.Identity(gain=2.0)((2, 3)), 2 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D matrices"):
        initializers.Identity()((2, 2, 2))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 3, 4)])
def test_orthogonal(shape):
    q = initializers.Orthogonal(gain=1.5, seed=0)(shape, dtype="float64") / 1.5
    flat = q.reshape(-1, shape[-1])
    small = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(small, np.eye(small.shape[0]), atol=1e-12)


def test_orthogonal_needs_two_dims():
    with pytest.raises(ValueError, match="at least two-dimensional"):
        initializers.Orthogonal()((3,))


# --- seeds ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [initializers.RandomNormal, initializers.RandomUniform,
                                 initializers.TruncatedNormal, initializers.GlorotUniform,
                                 initializers.HeNormal, initializers.Orthogonal])
def test_seeds(cls):
    a, b = cls(seed=7), cls(seed=7)
    np.testing.assert_array_equal(a((4, 5)), a((4, 5)))  # same values at every call (Keras)
    np.testing.assert_array_equal(a((4, 5)), b((4, 5)))  # and for every instance with that seed
    assert not np.array_equal(a((4, 5)), cls(seed=8)((4, 5)))
    unseeded = cls()
    np.testing.assert_array_equal(unseeded((4, 5)), unseeded((4, 5)))  # Keras's quirk
    assert not np.array_equal(cls()((4, 5)), cls()((4, 5)))  # but each instance differs


def test_set_random_seed_makes_unseeded_initializers_reproducible():
    mk_random.set_random_seed(123)
    first = [initializers.GlorotUniform()((3, 4)) for _ in range(2)]
    mk_random.set_random_seed(123)
    second = [initializers.GlorotUniform()((3, 4)) for _ in range(2)]
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first[0], first[1])


def test_set_random_seed_seeds_python_and_numpy():
    import random

    mk_random.set_random_seed(5)
    a = (random.random(), np.random.rand(), mk_random.make_rng().random())
    mk_random.set_random_seed(5)
    assert a == (random.random(), np.random.rand(), mk_random.make_rng().random())
    with pytest.raises(ValueError, match="integer"):
        mk_random.set_random_seed(1.5)


def test_make_rng():
    assert mk_random.make_rng() is mk_random.make_rng()  # the shared global generator
    assert mk_random.make_rng(3).random() == mk_random.make_rng(3).random()


def test_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed="abc")


# --- argument checks -----------------------------------------------------------------------------
def test_variance_scaling_errors():
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")


# --- get / serialize / deserialize ---------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", initializers.GlorotUniform), ("GlorotUniform", initializers.GlorotUniform),
    ("glorot_normal", initializers.GlorotNormal), ("he_normal", initializers.HeNormal),
    ("he_uniform", initializers.HeUniform), ("lecun_normal", initializers.LecunNormal),
    ("lecun_uniform", initializers.LecunUniform), ("zeros", initializers.Zeros),
    ("zero", initializers.Zeros), ("ones", initializers.Ones), ("one", initializers.Ones),
    ("constant", initializers.Constant), ("identity", initializers.Identity),
    ("IdentityInitializer", initializers.Identity), ("orthogonal", initializers.Orthogonal),
    ("OrthogonalInitializer", initializers.Orthogonal),
    ("normal", initializers.RandomNormal), ("random_normal", initializers.RandomNormal),
    ("uniform", initializers.RandomUniform), ("random_uniform", initializers.RandomUniform),
    ("truncated_normal", initializers.TruncatedNormal),
    ("variance_scaling", initializers.VarianceScaling),
])
def test_get_by_name(name, cls):
    assert type(initializers.get(name)) is cls


def test_get_other_identifiers():
    assert initializers.get(None) is None
    assert type(initializers.get(initializers.Ones)) is initializers.Ones
    init = initializers.HeNormal()
    assert initializers.get(init) is init

    def fn(shape, dtype=None):
        return np.full(shape, 7.0)

    assert initializers.get(fn) is fn
    array = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(initializers.get(array)((2, 3)), array)
    with pytest.raises(ValueError, match="shape"):
        initializers.get(array)((3, 2))


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="glorot") as info:
        initializers.get("glorot")
    assert "glorot_uniform" in str(info.value) and "he_normal" in str(info.value)
    with pytest.raises(ValueError, match="Could not interpret"):
        initializers.get(3.0)


def test_serialize_format():
    assert initializers.serialize(initializers.GlorotUniform()) == {
        "module": "keras.initializers", "class_name": "GlorotUniform",
        "config": {"seed": None, "input_axes": None, "output_axes": None},
        "registered_name": None}
    assert initializers.serialize(initializers.RandomNormal(seed=4)) == {
        "module": "keras.initializers", "class_name": "RandomNormal",
        "config": {"seed": 4, "mean": 0.0, "stddev": 0.05}, "registered_name": None}
    assert initializers.serialize(initializers.Zeros())["config"] == {}
    assert initializers.serialize(None) is None
    assert initializers.serialize("zeros") == "zeros"


@pytest.mark.parametrize("init", [
    initializers.Zeros(), initializers.Constant(1.5), initializers.Constant(np.float32(2.0)),
    initializers.Constant(np.array([1.0, 2.0], dtype="float32")), initializers.Identity(),
    initializers.RandomNormal(1.0, 2.0, seed=3), initializers.RandomUniform(-1, 2),
    initializers.TruncatedNormal(stddev=0.1), initializers.VarianceScaling(2.0, "fan_out",
                                                                          "uniform", seed=9),
    initializers.GlorotNormal(seed=1), initializers.HeUniform(), initializers.Orthogonal(2.0),
])
def test_round_trip(init):
    config = initializers.serialize(init)
    again = initializers.deserialize(config)
    assert type(again) is type(init)
    assert initializers.serialize(again) == config
    shape = (2,) if isinstance(init, initializers.Constant) else (3, 3)
    if getattr(init, "_init_seed", None) is not None or not hasattr(init, "seed"):
        np.testing.assert_array_equal(again(shape), init(shape))


def test_identity_config_drops_the_gain_like_keras():
    assert initializers.serialize(initializers.Identity(gain=3.0))["config"] == {}
    assert initializers.deserialize(initializers.serialize(initializers.Identity(3.0))).gain == 1.0


def test_constant_by_name_is_zero():
    # Keras raises KeyError('value') for get("constant"); minikeras gives Constant(0.0).
    np.testing.assert_array_equal(initializers.get("constant")((2,)), [0.0, 0.0])


def test_constant_numpy_config_is_kerass_form():
    config = initializers.Constant(np.array([1.0, 2.0], dtype="float32")).get_config()
    assert config == {"value": {"class_name": "__numpy__",
                                "config": {"value": [1.0, 2.0], "dtype": "float32"}}}


def test_clone():
    init = initializers.RandomUniform(-1, 1, seed=2)
    clone = init.clone()
    assert clone is not init and clone.get_config() == init.get_config()
