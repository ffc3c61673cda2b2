"""``minikeras.random`` (distributions, seeds, SeedGenerator), ``minikeras.config`` (global
settings and their effects) and the new ``minikeras.backend`` and top-level names.

Random numbers cannot match TensorFlow's, so the distributions are checked by their moments on
large samples: each estimate must lie within 5 standard errors of the true value."""

import logging
import math
import warnings

import numpy as np
import pytest

import minikeras
from minikeras import backend, config, ops
from minikeras import random as krandom
from minikeras.saving import serialization
from minikeras.utils import io_utils

N = 200_000  # sample size for the statistics


@pytest.fixture(autouse=True)
def _restore_globals():
    """Every test starts and ends with Keras's defaults."""
    saved = (backend.floatx(), backend.epsilon(), backend.image_data_format(),
             dict(config._STATE), io_utils.is_interactive_logging_enabled(),
             serialization._UNSAFE_ENABLED[0])
    backend.clear_session()
    yield
    backend.set_floatx(saved[0])
    backend.set_epsilon(saved[1])
    backend.set_image_data_format(saved[2])
    config._STATE.clear()
    config._STATE.update(saved[3])
    io_utils._INTERACTIVE_LOGGING[0] = saved[4]
    serialization._UNSAFE_ENABLED[0] = saved[5]
    backend.clear_session()


def _close(estimate, expected, standard_error):
    assert abs(estimate - expected) < 5 * standard_error, (estimate, expected, standard_error)


# --- shapes and dtypes -----------------------------------------------------------------------
DRAWS = {
    "normal": lambda **kw: krandom.normal((3, 4), **kw),
    "uniform": lambda **kw: krandom.uniform((3, 4), **kw),
    "truncated_normal": lambda **kw: krandom.truncated_normal((3, 4), **kw),
    "gamma": lambda **kw: krandom.gamma((3, 4), 2.0, **kw),
    "beta": lambda **kw: krandom.beta((3, 4), 2.0, 3.0, **kw),
    "binomial": lambda **kw: krandom.binomial((3, 4), 10, 0.3, **kw),
    "randint": lambda **kw: krandom.randint((3, 4), 0, 10, **kw),
    "categorical": lambda **kw: krandom.categorical(np.zeros((3, 5)), 4, **kw),
    "dropout": lambda **kw: krandom.dropout(np.ones((3, 4), "float32"), 0.5, **kw),
    "shuffle": lambda **kw: krandom.shuffle(np.arange(12.0, dtype="float32").reshape(3, 4), **kw),
}
DEFAULT_DTYPE = {"randint": "int32", "categorical": "int32"}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_shape_default_dtype_and_int_seed_determinism(name):
    values = DRAWS[name](seed=42)
    assert isinstance(values, minikeras.Tensor)
    assert values.shape == (3, 4)
    assert values.dtype == DEFAULT_DTYPE.get(name, "float32")
    # an int seed is stateless: the same numbers at every call
    np.testing.assert_array_equal(values, DRAWS[name](seed=42))


@pytest.mark.parametrize("name", ["normal", "uniform", "truncated_normal", "gamma", "beta",
                                  "binomial"])
def test_float_draws_follow_floatx_and_dtype(name):
    assert DRAWS[name](dtype="float64").dtype == "float64"
    assert DRAWS[name](dtype="float16").dtype == "float16"
    backend.set_floatx("float64")
    assert DRAWS[name]().dtype == "float64"


def test_integer_dtypes():
    assert krandom.randint((5,), 0, 3, dtype="int64").dtype == "int64"
    assert krandom.randint((5,), 0, 3, dtype="uint8").dtype == "uint8"
    assert krandom.categorical(np.zeros((2, 3)), 4, dtype="int64").dtype == "int64"
    assert krandom.binomial((5,), 4, 0.5, dtype="int32").dtype == "int32"
    # NumPy dtype objects work as dtypes too
    assert krandom.normal((2,), dtype=np.dtype("float64")).dtype == "float64"
    assert krandom.randint((2,), 0, 3, dtype=np.dtype("int64")).dtype == "int64"


def test_uniform_with_equal_bounds_and_broadcast_bounds():
    np.testing.assert_array_equal(krandom.uniform((3,), 2.0, 2.0, seed=1), [2.0, 2.0, 2.0])
    x = krandom.uniform((1000, 3), [0.0, 1.0, 2.0], [1.0, 2.0, 3.0], seed=1).numpy()
    assert np.all((x >= [0, 1, 2]) & (x < [1, 2, 3]))


def test_wrong_dtypes_raise_as_in_keras():
    with pytest.raises(ValueError, match="requires a floating point `dtype`"):
        krandom.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="requires an integer `dtype`"):
        krandom.randint((2,), 0, 5, dtype="float32")
    with pytest.raises(ValueError, match="requires a floating point `dtype`"):
        krandom.normal((2,), dtype="int32")


def test_bad_seed_raises():
    with pytest.raises(ValueError, match="either an integer or an instance of `SeedGenerator`"):
        krandom.normal((2,), seed="a")
    with pytest.raises(ValueError, match="must be an integer"):
        krandom.SeedGenerator(1.5)


def test_different_int_seeds_differ():
    assert not np.array_equal(krandom.normal((10,), seed=1), krandom.normal((10,), seed=2))


def test_seed_none_uses_the_global_generator_that_set_random_seed_seeds():
    minikeras.utils.set_random_seed(7)
    first = [krandom.normal((5,)).numpy(), krandom.uniform((5,)).numpy()]
    assert not np.array_equal(krandom.normal((5,)), first[0])  # the global stream moves on
    minikeras.utils.set_random_seed(7)
    np.testing.assert_array_equal(krandom.normal((5,)), first[0])
    np.testing.assert_array_equal(krandom.uniform((5,)), first[1])


# --- SeedGenerator ---------------------------------------------------------------------------
def test_seed_generator_state_is_a_uint32_variable_that_advances():
    gen = krandom.SeedGenerator(1337)
    assert isinstance(gen.state, minikeras.Variable)
    assert gen.state.shape == (2,) and gen.state.dtype == "uint32"
    assert not gen.state.trainable
    assert gen.state.name == "seed_generator_state"
    assert gen.state.path == "seed_generator/seed_generator_state"
    np.testing.assert_array_equal(gen.state.numpy(), [1337, 0])
    a = krandom.normal((4,), seed=gen)
    np.testing.assert_array_equal(gen.state.numpy(), [1337, 1])
    b = krandom.normal((4,), seed=gen)
    assert not np.array_equal(a, b)
    # the first draw of a generator is the draw of its int seed
    np.testing.assert_array_equal(a, krandom.normal((4,), seed=1337))
    # a second generator with the same seed replays the same stream
    again = krandom.SeedGenerator(1337)
    np.testing.assert_array_equal(krandom.normal((4,), seed=again), a)
    np.testing.assert_array_equal(krandom.normal((4,), seed=again), b)


def test_seed_generator_names_config_and_kwargs():
    first, second = krandom.SeedGenerator(), krandom.SeedGenerator(5, name="mine")
    third = krandom.SeedGenerator()
    assert (first.name, second.name, third.name) == ("seed_generator", "mine",
                                                      "seed_generator_1")
    assert first.get_config() == {"seed": None, "name": "seed_generator"}
    assert second.get_config() == {"seed": 5, "name": "mine"}
    clone = krandom.SeedGenerator.from_config(second.get_config())
    np.testing.assert_array_equal(clone.state.numpy(), [5, 0])
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        krandom.SeedGenerator(1, foo=2)


def test_seed_generator_with_seed_none_follows_set_random_seed():
    minikeras.utils.set_random_seed(3)
    a = krandom.SeedGenerator().state.numpy()
    minikeras.utils.set_random_seed(3)
    np.testing.assert_array_equal(krandom.SeedGenerator().state.numpy(), a)


def test_seed_generator_unordered_next_scrambles_like_keras():
    gen = krandom.SeedGenerator(10)
    np.testing.assert_array_equal(gen.next(ordered=False), [10, 0])
    np.testing.assert_array_equal(gen.state.numpy(), [(11 * 5387) % 933199, 5387])


def test_custom_layer_with_a_seed_generator_like_the_keras_docs():
    class MyDropout(minikeras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = krandom.SeedGenerator(1337)

        def call(self, x, training=False):
            if training:
                return krandom.dropout(x, rate=0.5, seed=self.seed_generator)
            return x

    layer = MyDropout()
    x = np.ones((8, 16), dtype="float32")
    first, second = layer(x, training=True), layer(x, training=True)
    assert not np.array_equal(first, second)
    assert set(np.unique(first)) <= {0.0, 2.0}
    np.testing.assert_array_equal(layer(x), x)


# --- distributions ---------------------------------------------------------------------------
def test_normal_moments():
    x = krandom.normal((N,), mean=3.0, stddev=2.0, seed=1, dtype="float64").numpy()
    _close(x.mean(), 3.0, 2.0 / math.sqrt(N))
    _close(x.std(), 2.0, 2.0 / math.sqrt(2 * N))


def test_uniform_range_and_moments():
    x = krandom.uniform((N,), minval=-2.0, maxval=3.0, seed=1).numpy()
    assert x.min() >= -2.0 and x.max() < 3.0
    _close(x.mean(), 0.5, 5 / math.sqrt(12 * N))


def test_uniform_never_returns_maxval_after_rounding():
    x = krandom.uniform((N,), minval=0.0, maxval=1.0, dtype="float16", seed=2).numpy()
    assert x.max() < 1.0


def test_truncated_normal_cut_at_two_stddev():
    x = krandom.truncated_normal((N,), mean=1.0, stddev=0.5, seed=1, dtype="float64").numpy()
    assert x.min() >= 0.0 and x.max() <= 2.0
    assert x.min() < 0.01 and x.max() > 1.99  # the whole interval is used
    _close(x.mean(), 1.0, 0.5 / math.sqrt(N))
    # the std of N(0, 1) truncated to [-2, 2]
    phi2 = math.exp(-2) / math.sqrt(2 * math.pi)
    truncated_std = math.sqrt(1 - 4 * phi2 / math.erf(2 / math.sqrt(2)))
    _close(x.std(), 0.5 * truncated_std, 0.5 / math.sqrt(N))


def test_gamma_beta_binomial_moments():
    g = krandom.gamma((N,), alpha=3.0, seed=1, dtype="float64").numpy()
    _close(g.mean(), 3.0, math.sqrt(3.0 / N))
    _close(g.var(), 3.0, 0.05)
    b = krandom.beta((N,), alpha=2.0, beta=5.0, seed=1, dtype="float64").numpy()
    assert b.min() >= 0 and b.max() <= 1
    var = 2 * 5 / (7 ** 2 * 8)
    _close(b.mean(), 2 / 7, math.sqrt(var / N))
    n = krandom.binomial((N,), counts=20, probabilities=0.25, seed=1).numpy()
    assert np.all(n == np.round(n)) and n.min() >= 0 and n.max() <= 20
    _close(n.mean(), 5.0, math.sqrt(20 * 0.25 * 0.75 / N))


def test_binomial_and_beta_broadcast_parameters_and_accept_float_counts():
    x = krandom.binomial((2, 3), counts=[10.0, 20.0, 30.0], probabilities=[[0.0], [1.0]], seed=1)
    np.testing.assert_array_equal(x, [[0, 0, 0], [10, 20, 30]])
    assert krandom.beta((4, 2), alpha=[1.0, 2.0], beta=3.0, seed=1).shape == (4, 2)


def test_randint_range_and_every_value():
    x = krandom.randint((N,), minval=-3, maxval=4, seed=1).numpy()
    assert set(np.unique(x)) == set(range(-3, 4))
    _close(x.mean(), 0.0, math.sqrt(48 / 12 / N))


def test_categorical_frequencies_follow_softmax_of_logits():
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]]) + 1e-30)
    logits[1, 2] = -np.inf
    s = krandom.categorical(logits, 50_000, seed=1).numpy()
    assert s.shape == (2, 50_000)
    assert not np.any(s[1] == 2)  # a -inf logit is never drawn
    for row, p in ((0, [0.1, 0.2, 0.7]), (1, [0.5, 0.5, 0.0])):
        freq = np.bincount(s[row], minlength=3) / s.shape[1]
        for f, q in zip(freq, p, strict=True):
            _close(f, q, math.sqrt(q * (1 - q) / s.shape[1]) + 1e-12)


def test_categorical_needs_2d_logits():
    with pytest.raises(ValueError, match="should be a 2-D tensor"):
        krandom.categorical(np.zeros(3), 2)


# --- dropout and shuffle ---------------------------------------------------------------------
def test_dropout_drops_rate_and_scales_the_rest():
    x = np.full((400, 500), 3.0, dtype="float32")
    y = krandom.dropout(x, 0.3, seed=1).numpy()
    assert y.dtype == np.float32
    assert set(np.unique(y)) == {0.0, np.float32(3.0 / 0.7)}
    _close((y == 0).mean(), 0.3, math.sqrt(0.3 * 0.7 / y.size))


def test_dropout_noise_shape_drops_whole_rows():
    x = np.ones((1000, 6), dtype="float32")
    y = krandom.dropout(x, 0.5, noise_shape=(None, 1), seed=1).numpy()
    rows = y[:, 0]
    assert np.all(y == rows[:, None])
    assert set(np.unique(rows)) == {0.0, 2.0}


def test_dropout_rates_zero_and_one():
    x = np.arange(6.0, dtype="float32")
    assert krandom.dropout(x, 0.0) is x
    np.testing.assert_array_equal(krandom.dropout(x, 1.0), np.zeros(6))


def test_dropout_gradient_is_mask_over_keep_probability():
    w = minikeras.Variable(np.ones((50, 4), dtype="float32"))
    with minikeras.GradientTape() as tape:
        y = krandom.dropout(w, 0.25, seed=3)
        loss = ops.sum(y)
    np.testing.assert_allclose(tape.gradient(loss, w), y.numpy(), rtol=1e-6)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_shuffle_permutes_whole_slices_along_axis(axis):
    x = np.arange(60, dtype="float32").reshape(6, 10)
    y = krandom.shuffle(x, axis=axis, seed=5).numpy()
    assert y.shape == x.shape and y.dtype == x.dtype
    moved = np.moveaxis(y, axis, 0)
    original = np.moveaxis(x, axis, 0)
    # every slice is intact (one permutation for all of them) and each appears once
    order = [int(np.where((original == s).all(axis=1))[0][0]) for s in moved]
    assert sorted(order) == list(range(len(order)))
    assert order != list(range(len(order)))
    np.testing.assert_array_equal(y, krandom.shuffle(x, axis=axis, seed=5))


def test_shuffle_gradient_flows_back_to_each_slice():
    w = minikeras.Variable(np.arange(5.0, dtype="float32"))
    weights = np.arange(1.0, 6.0, dtype="float32")
    with minikeras.GradientTape() as tape:
        loss = ops.sum(krandom.shuffle(w, seed=1) * weights)
    y = krandom.shuffle(w, seed=1).numpy()
    expected = np.empty(5, dtype="float32")
    expected[y.astype(int)] = weights  # w[i] lands where y == i
    np.testing.assert_array_equal(tape.gradient(loss, w), expected)


def test_random_layers_and_initializers_still_work():
    x = np.ones((4, 8), dtype="float32")
    for layer in (minikeras.layers.Dropout(0.5, seed=1), minikeras.layers.GaussianNoise(0.1),
                  minikeras.layers.GaussianDropout(0.3)):
        assert layer(x, training=True).shape == (4, 8)
    init = minikeras.initializers.TruncatedNormal(stddev=0.1, seed=1)
    np.testing.assert_array_equal(init((3, 3)), init((3, 3)))


# --- config ----------------------------------------------------------------------------------
def test_config_getters_setters_are_the_backend_ones():
    assert config.floatx() == "float32" and config.epsilon() == 1e-7
    config.set_floatx("float64")
    assert backend.floatx() == "float64"
    config.set_epsilon(1e-5)
    assert backend.epsilon() == 1e-5
    assert config.image_data_format() == "channels_last"
    config.set_image_data_format("Channels_First")
    assert backend.image_data_format() == "channels_first"
    assert backend.standardize_data_format(None) == "channels_first"  # follows the setting
    assert backend.standardize_data_format("Channels_Last") == "channels_last"
    with pytest.raises(ValueError, match="must be one of"):
        config.set_image_data_format("nchw")
    with pytest.raises(ValueError, match="data_format=none"):
        config.set_image_data_format(None)
    with pytest.raises(ValueError, match="Unknown `floatx`"):
        config.set_floatx("int32")


def test_config_backend_and_set_backend():
    assert config.backend() == "numpy" == backend.backend()
    config.set_backend("numpy")
    with pytest.raises(ValueError, match="only has the 'numpy' backend"):
        config.set_backend("jax")


def test_flags_keep_their_state():
    assert config.is_traceback_filtering_enabled() is True
    config.disable_traceback_filtering()
    assert config.is_traceback_filtering_enabled() is False
    config.enable_traceback_filtering()
    assert config.is_traceback_filtering_enabled() is True
    assert config.is_flash_attention_enabled() is None  # Keras's default reads None
    config.disable_flash_attention()
    assert config.is_flash_attention_enabled() is False
    config.enable_flash_attention()
    assert config.is_flash_attention_enabled() is None
    assert config.is_nnx_enabled() is False


def test_dtype_policy_maps_onto_floatx():
    policy = config.dtype_policy()
    assert isinstance(policy, minikeras.DTypePolicy)
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == ("float32",) * 3
    assert repr(policy) == '<DTypePolicy "float32">'
    config.set_dtype_policy("float64")
    assert config.floatx() == "float64" and config.dtype_policy().name == "float64"
    layer = minikeras.layers.Dense(2)
    layer.build((None, 3))
    assert layer.kernel.dtype == "float64"
    config.set_dtype_policy(minikeras.DTypePolicy("float32"))
    assert config.floatx() == "float32"
    with pytest.raises(ValueError, match="mixed precision"):
        config.set_dtype_policy("mixed_float16")
    with pytest.raises(ValueError, match="Cannot convert 'foo'"):
        config.set_dtype_policy("foo")
    with pytest.raises(ValueError, match="Invalid `policy` argument"):
        config.set_dtype_policy(3)
    assert config.floatx() == "float32"


def test_enable_unsafe_deserialization_is_the_saving_switch():
    assert serialization.in_safe_mode() is None
    config.enable_unsafe_deserialization()
    assert serialization.in_safe_mode() is False


def _tiny_model():
    model = minikeras.Sequential([minikeras.Input((2,)), minikeras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_disabled_interactive_logging_sends_the_progress_bar_to_logging(capsys, caplog):
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    assert config.is_interactive_logging_enabled()
    assert minikeras.utils.is_interactive_logging_enabled()
    _tiny_model().fit(x, y, epochs=1, verbose=2)
    assert "loss" in capsys.readouterr().out
    config.disable_interactive_logging()
    assert not config.is_interactive_logging_enabled()
    with caplog.at_level(logging.INFO, logger="minikeras"):
        _tiny_model().fit(x, y, epochs=1, verbose=2)
    assert capsys.readouterr().out == ""
    assert "loss" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="minikeras"):
        _tiny_model().summary()
    assert capsys.readouterr().out == "" and "Total params" in caplog.text
    config.enable_interactive_logging()
    assert config.is_interactive_logging_enabled()
    _tiny_model().summary()
    assert "Total params" in capsys.readouterr().out


def test_max_epochs_and_max_steps_per_epoch_cap_fit():
    x, y = np.ones((40, 2), "float32"), np.ones((40, 1), "float32")
    assert config.max_epochs() is None and config.max_steps_per_epoch() is None
    config.set_max_epochs(2)
    config.set_max_steps_per_epoch(3)
    assert (config.max_epochs(), config.max_steps_per_epoch()) == (2, 3)
    steps = []
    counter = minikeras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: steps.append(b))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = _tiny_model().fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[counter])
    assert len(history.history["loss"]) == 2
    assert steps == [0, 1, 2, 0, 1, 2]
    messages = [str(w.message) for w in caught]
    assert "Limiting epochs to 2" in messages and "Limiting steps_per_epoch to 3" in messages
    config.set_max_epochs(None)
    config.set_max_steps_per_epoch(None)
    history = _tiny_model().fit(x, y, batch_size=4, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3


# --- backend and top-level names -------------------------------------------------------------
def test_backend_new_names():
    assert backend.is_int_dtype("int8") and backend.is_int_dtype("uint32")
    assert backend.is_int_dtype(np.int64) and backend.is_int_dtype(int)
    assert not backend.is_int_dtype("float32") and not backend.is_int_dtype("bool")
    assert backend.is_keras_tensor(minikeras.Input((3,)))
    assert not backend.is_keras_tensor(np.ones(3))
    assert (backend.get_uid("thing"), backend.get_uid("thing")) == (1, 2)
    minikeras.layers.Dense(1)
    minikeras.layers.Dense(1)
    assert backend.get_uid("dense") == 3  # shares the counters that name layers
    backend.clear_session()
    assert backend.get_uid("dense") == 1


def test_top_level_names():
    assert minikeras.Loss is minikeras.losses.Loss
    assert minikeras.Metric is minikeras.metrics.Metric
    assert minikeras.Optimizer is minikeras.optimizers.Optimizer
    assert minikeras.Initializer is minikeras.initializers.Initializer
    assert minikeras.Regularizer is minikeras.regularizers.Regularizer
    assert minikeras.KerasTensor is minikeras.layers.KerasTensor
    assert minikeras.version() == minikeras.__version__
    assert minikeras.random is krandom and minikeras.config is config


def test_dtype_policies_get_serialize_deserialize():
    policies = minikeras.dtype_policies
    config_dict = policies.serialize(minikeras.DTypePolicy("float64"))
    assert config_dict == {"module": "keras", "class_name": "DTypePolicy",
                           "config": {"name": "float64"}, "registered_name": None}
    assert policies.deserialize(config_dict) == minikeras.DTypePolicy("float64")
    assert policies.get(None).name == backend.floatx()
    assert policies.get("float16").name == "float16"
    assert policies.get(np.float64).name == "float64"
    assert policies.get(config_dict).name == "float64"
    with pytest.raises(ValueError, match="Cannot interpret `dtype` argument"):
        policies.get(3)
