"""``minikeras.random`` and ``minikeras.config`` against Keras 3: the same names with the same
signatures, the same shapes and dtypes for the same arguments, the same seed semantics, samples
from the same distributions (compared moment by moment), and settings that behave the same.

Differences that are deliberate (minikeras has only NumPy): ``config.backend()`` is ``'numpy'``;
a ``SeedGenerator``'s state is ``uint32`` as on Keras's NumPy/JAX backends (``int64`` on
TensorFlow); ``set_dtype_policy`` sets ``floatx`` (no mixed precision)."""

import inspect
import math
import warnings

import keras
import numpy as np
import pytest
from keras.src.backend.common import global_state

import minikeras
from minikeras.utils import io_utils

_KERAS_FLAGS = ("traceback_filtering", "flash_attention", "interactive_logging", "dtype_policy")


@pytest.fixture(autouse=True)
def _restore_globals():
    """Both libraries' global settings are put back after each test."""
    kc, mc = keras.config, minikeras.config
    saved_keras = (kc.floatx(), kc.epsilon(), kc.image_data_format(), kc.max_epochs(),
                   kc.max_steps_per_epoch(),
                   {k: global_state.get_global_attribute(k) for k in _KERAS_FLAGS})
    saved_mini = (mc.floatx(), mc.epsilon(), mc.image_data_format(), dict(mc._STATE),
                  io_utils.is_interactive_logging_enabled())
    yield
    kc.set_floatx(saved_keras[0])
    kc.set_epsilon(saved_keras[1])
    kc.set_image_data_format(saved_keras[2])
    kc.set_max_epochs(saved_keras[3])
    kc.set_max_steps_per_epoch(saved_keras[4])
    for key, value in saved_keras[5].items():
        global_state.set_global_attribute(key, value)
    mc.set_floatx(saved_mini[0])
    mc.set_epsilon(saved_mini[1])
    mc.set_image_data_format(saved_mini[2])
    mc._STATE.clear()
    mc._STATE.update(saved_mini[3])
    io_utils._INTERACTIVE_LOGGING[0] = saved_mini[4]


def _public(module):
    return sorted(n for n in dir(module) if not n.startswith("_") and
                  callable(getattr(module, n)) and not inspect.ismodule(getattr(module, n)))


def _params(fn):
    return [(p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values()]


# --- names and signatures --------------------------------------------------------------------
@pytest.mark.parametrize("namespace, name", [
    (namespace, name) for namespace in ("random", "config")
    for name in _public(getattr(keras, namespace))])
def test_same_names_and_signatures(namespace, name):
    ours = getattr(getattr(minikeras, namespace), name, None)
    assert ours is not None, f"minikeras.{namespace}.{name} is missing"
    assert _params(ours) == _params(getattr(getattr(keras, namespace), name))


def test_new_backend_and_top_level_names_exist_with_keras_signatures():
    for name in ("image_data_format", "set_image_data_format", "is_int_dtype", "get_uid",
                 "is_keras_tensor", "backend"):
        assert _params(getattr(minikeras.backend, name)) == _params(getattr(keras.backend, name))
    for name in ("Loss", "Metric", "Optimizer", "Initializer", "Regularizer", "KerasTensor",
                 "DTypePolicy", "FloatDTypePolicy", "random", "config", "version"):
        assert hasattr(keras, name) and hasattr(minikeras, name), name
    assert isinstance(minikeras.version(), str) and isinstance(keras.version(), str)


# --- shapes and dtypes -----------------------------------------------------------------------
CALLS = [
    ("normal", ((2, 3),), {}),
    ("normal", ((4,),), {"mean": 1.0, "stddev": 2.0, "dtype": "float64"}),
    ("normal", ((2, 1, 3),), {"dtype": "float16", "seed": 3}),
    ("uniform", ((2, 3),), {}), ("uniform", ((5,),), {"minval": -1.0, "maxval": 4.0,
                                                       "dtype": "float64", "seed": 1}),
    ("truncated_normal", ((3, 3),), {"seed": 2}),
    ("truncated_normal", ((6,),), {"mean": 2.0, "stddev": 0.1, "dtype": "float64"}),
    ("randint", ((2, 3), 0, 5), {}), ("randint", ((7,), -3, 3), {"dtype": "int64", "seed": 4}),
    ("randint", ((2, 2), 0, 200), {"dtype": "uint8"}),
    ("gamma", ((2, 3), 2.0), {}), ("gamma", ((4,), 0.5), {"dtype": "float64", "seed": 5}),
    ("beta", ((2, 3), 2.0, 3.0), {}), ("beta", ((2, 3), [1.0, 2.0, 3.0], 2.0), {"seed": 6}),
    ("binomial", ((2, 3), 10.0, 0.3), {}),
    ("binomial", ((3,), [5.0, 6.0, 7.0], 0.5), {"dtype": "float64", "seed": 7}),
    ("categorical", (np.zeros((2, 4), "float32"), 5), {}),
    ("categorical", (np.log(np.full((3, 2), 0.5, "float32")), 7), {"dtype": "int64", "seed": 8}),
    ("dropout", (np.ones((3, 4), "float32"), 0.5), {}),
    ("dropout", (np.ones((3, 4), "float64"), 0.2), {"noise_shape": (None, 1), "seed": 9}),
    ("shuffle", (np.arange(12, dtype="float32").reshape(3, 4),), {}),
    ("shuffle", (np.arange(12, dtype="int32").reshape(3, 4),), {"axis": 1, "seed": 10}),
]


@pytest.mark.parametrize("name, args, kwargs", CALLS, ids=[c[0] for c in CALLS])
def test_same_shape_and_dtype(name, args, kwargs):
    theirs = getattr(keras.random, name)(*args, **kwargs)
    ours = getattr(minikeras.random, name)(*args, **kwargs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == keras.backend.standardize_dtype(theirs.dtype)


def test_floatx_is_the_default_dtype_in_both():
    keras.config.set_floatx("float64")
    minikeras.config.set_floatx("float64")
    for name, args in (("normal", ((2,),)), ("uniform", ((2,),)), ("gamma", ((2,), 1.0)),
                       ("binomial", ((2,), 3.0, 0.5))):
        theirs = getattr(keras.random, name)(*args)
        assert getattr(minikeras.random, name)(*args).dtype == theirs.dtype.name == "float64"


def test_same_errors_for_wrong_dtypes_and_seeds():
    for lib in (keras, minikeras):
        with pytest.raises(ValueError, match="requires a floating point `dtype`"):
            lib.random.uniform((2,), dtype="int32")
        with pytest.raises(ValueError, match="requires an integer `dtype`"):
            lib.random.randint((2,), 0, 3, dtype="float32")
        with pytest.raises(ValueError, match="either an integer or an instance of"):
            lib.random.normal((2,), seed="a")
        with pytest.raises(ValueError, match="`seed` must be an integer"):
            lib.random.SeedGenerator(1.5)
        with pytest.raises(ValueError, match="should be a 2-D tensor"):
            lib.random.categorical(np.zeros(3, "float32"), 2)


# --- seeds -----------------------------------------------------------------------------------
@pytest.mark.parametrize("lib", [keras, minikeras], ids=["keras", "minikeras"])
def test_seed_semantics(lib):
    """An int seed repeats itself; a SeedGenerator moves on; two generators with one seed
    replay one stream."""
    np.testing.assert_array_equal(lib.random.normal((5,), seed=3), lib.random.normal((5,), seed=3))
    gen, twin = lib.random.SeedGenerator(11), lib.random.SeedGenerator(11)
    a, b = lib.random.uniform((5,), seed=gen), lib.random.uniform((5,), seed=gen)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(lib.random.uniform((5,), seed=twin), a)
    np.testing.assert_array_equal(np.asarray(gen.state), [11, 2])


def test_seed_generators_are_named_and_configured_alike():
    theirs = [keras.random.SeedGenerator(), keras.random.SeedGenerator(4, name="g")]
    ours = [minikeras.random.SeedGenerator(), minikeras.random.SeedGenerator(4, name="g")]
    for t, o in zip(theirs, ours, strict=True):
        assert o.name == t.name and o.get_config() == t.get_config()
        assert o.state.name == t.state.name and o.state.path == t.state.path
        assert o.state.shape == tuple(t.state.shape) and o.state.trainable == t.state.trainable
    assert keras.random.SeedGenerator().name == minikeras.random.SeedGenerator().name


# --- distributions: the two samples agree moment by moment -----------------------------------
SAMPLES = [  # name, args, kwargs, support (low, high) of the distribution
    ("normal", ((50_000,),), {"mean": 1.0, "stddev": 3.0}, (-np.inf, np.inf)),
    ("uniform", ((50_000,),), {"minval": -2.0, "maxval": 5.0}, (-2.0, 5.0)),
    ("truncated_normal", ((50_000,),), {"mean": -1.0, "stddev": 2.0}, (-5.0, 3.0)),
    ("gamma", ((50_000,), 2.5), {}, (0.0, np.inf)),
    ("beta", ((50_000,), 2.0, 5.0), {}, (0.0, 1.0)),
    ("binomial", ((50_000,), 12.0, 0.3), {}, (0.0, 12.0)),
    ("randint", ((50_000,), -4, 9), {}, (-4, 8)),
]


@pytest.mark.parametrize("name, args, kwargs, support", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_same_distribution(name, args, kwargs, support):
    theirs = np.asarray(getattr(keras.random, name)(*args, seed=1, **kwargs), "float64")
    ours = np.asarray(getattr(minikeras.random, name)(*args, seed=1, **kwargs), "float64")
    for sample in (theirs, ours):
        assert support[0] <= sample.min() and sample.max() <= support[1]
    n = ours.size
    se_mean = math.sqrt((ours.var() + theirs.var()) / n)
    assert abs(ours.mean() - theirs.mean()) < 5 * se_mean
    # the standard error of a std estimate is about std / sqrt(2n) for these light tails
    se_std = math.sqrt((ours.var() + theirs.var()) / (2 * n)) * 2
    assert abs(ours.std() - theirs.std()) < 5 * se_std


def test_truncated_normal_cut_at_two_stddev_in_both():
    for lib in (keras, minikeras):
        x = np.asarray(lib.random.truncated_normal((20_000,), mean=0.0, stddev=1.0, seed=2))
        assert np.abs(x).max() <= 2.0 and np.abs(x).max() > 1.99


def test_categorical_frequencies_agree():
    logits = np.log(np.array([[0.1, 0.3, 0.6], [0.8, 0.1, 0.1]], "float32"))
    for lib in (keras, minikeras):
        s = np.asarray(lib.random.categorical(logits, 40_000, seed=3))
        for row, p in enumerate(np.exp(logits)):
            freq = np.bincount(s[row], minlength=3) / s.shape[1]
            np.testing.assert_allclose(freq, p, atol=5 * math.sqrt(0.25 / s.shape[1]))


def test_dropout_keeps_and_scales_like_keras():
    x = np.full((200, 50), 2.0, "float32")
    for noise_shape in (None, (None, 1), (1, 50)):
        t = np.asarray(keras.random.dropout(x, 0.4, noise_shape=noise_shape, seed=1))
        o = np.asarray(minikeras.random.dropout(x, 0.4, noise_shape=noise_shape, seed=1))
        np.testing.assert_allclose(np.unique(o), np.unique(t), rtol=1e-6)
        if noise_shape is not None:  # constant along the axes where noise_shape is 1
            axis = noise_shape.index(1)
            for v in (t, o):
                assert np.all(v == np.take(v, [0], axis=axis))
    for lib in (keras, minikeras):
        np.testing.assert_array_equal(lib.random.dropout(x, 1.0), np.zeros_like(x))
        np.testing.assert_array_equal(lib.random.dropout(x, 0.0), x)


@pytest.mark.parametrize("axis", [0, 1])
def test_shuffle_moves_whole_slices_like_keras_on_tensorflow(axis):
    x = np.arange(40, dtype="float32").reshape(5, 8)
    for lib in (keras, minikeras):
        y = np.moveaxis(np.asarray(lib.random.shuffle(x, axis=axis, seed=4)), axis, 0)
        original = np.moveaxis(x, axis, 0)
        rows = sorted(tuple(r) for r in y)
        assert rows == sorted(tuple(r) for r in original)  # every slice intact


# --- config ----------------------------------------------------------------------------------
def test_getters_and_setters_behave_alike():
    for lib in (keras, minikeras):
        c = lib.config
        assert (c.floatx(), c.epsilon(), c.image_data_format()) == (
            "float32", 1e-7, "channels_last")
        c.set_floatx("float16")
        c.set_epsilon(1e-4)
        c.set_image_data_format("CHANNELS_FIRST")
        assert (c.floatx(), c.epsilon(), c.image_data_format()) == (
            "float16", 1e-4, "channels_first")
        assert lib.backend.image_data_format() == "channels_first"
        with pytest.raises(ValueError, match="must be one of"):
            c.set_image_data_format("nhwc")
        with pytest.raises(ValueError, match="Unknown `floatx` value"):
            c.set_floatx("int32")
        assert c.is_traceback_filtering_enabled() is True
        c.disable_traceback_filtering()
        assert c.is_traceback_filtering_enabled() is False
        c.enable_traceback_filtering()
        assert c.is_flash_attention_enabled() is None
        c.disable_flash_attention()
        assert c.is_flash_attention_enabled() is False
        c.enable_flash_attention()
        assert c.is_flash_attention_enabled() is None
        assert c.is_nnx_enabled() is False
        assert c.is_interactive_logging_enabled() is True
        c.disable_interactive_logging()
        assert c.is_interactive_logging_enabled() is False
        c.enable_interactive_logging()
        assert (c.max_epochs(), c.max_steps_per_epoch()) == (None, None)
        c.set_max_epochs(3)
        c.set_max_steps_per_epoch(4)
        assert (c.max_epochs(), c.max_steps_per_epoch()) == (3, 4)


def test_dtype_policy_float64_gives_float64_weights_in_both():
    assert repr(minikeras.config.dtype_policy()) == repr(keras.config.dtype_policy())
    assert minikeras.config.dtype_policy().get_config() == keras.config.dtype_policy().get_config()
    for lib in (keras, minikeras):
        lib.config.set_dtype_policy("float64")
        assert lib.config.dtype_policy().name == "float64"
        layer = lib.layers.Dense(2)
        layer.build((None, 3))
        assert keras.backend.standardize_dtype(layer.kernel.dtype) == "float64"
        with pytest.raises(ValueError, match="Invalid `policy` argument"):
            lib.config.set_dtype_policy(3)
        with pytest.raises(ValueError, match="Cannot convert 'foo'"):
            lib.config.set_dtype_policy("foo")


def test_backend_helpers_agree():
    for dtype in ("int8", "uint16", "int64", "float32", "bool", int, float, np.int32):
        assert minikeras.backend.is_int_dtype(dtype) == keras.backend.is_int_dtype(dtype), dtype
    assert minikeras.backend.is_keras_tensor(minikeras.Input((3,)))
    assert keras.backend.is_keras_tensor(keras.Input((3,)))
    for lib in (keras, minikeras):
        lib.backend.clear_session()
        lib.layers.Dense(1)
        lib.layers.Dense(1)
    assert minikeras.backend.get_uid("dense") == keras.backend.get_uid("dense") == 3
    assert minikeras.backend.get_uid("x") == keras.backend.get_uid("x") == 1


def test_max_epochs_and_steps_cap_fit_like_keras():
    x, y = np.ones((40, 2), "float32"), np.ones((40, 1), "float32")
    results = []
    for lib in (keras, minikeras):
        lib.config.set_max_epochs(2)
        lib.config.set_max_steps_per_epoch(3)
        model = lib.Sequential([lib.Input((2,)), lib.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        steps = []
        count = lib.callbacks.LambdaCallback(
            on_train_batch_end=lambda b, logs, steps=steps: steps.append(b))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = model.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[count])
        messages = {str(w.message) for w in caught} & {"Limiting epochs to 2",
                                                       "Limiting steps_per_epoch to 3"}
        results.append((len(history.history["loss"]), steps, sorted(messages)))
    assert results[0] == results[1]


def test_dtype_policies_helpers_agree():
    for identifier in (None, "float16", "float64", np.float64,
                       {"class_name": "DTypePolicy", "config": {"name": "float16"}}):
        ours = minikeras.dtype_policies.get(identifier)
        theirs = keras.dtype_policies.get(identifier)
        assert repr(ours) == repr(theirs) and ours.get_config() == theirs.get_config()
        assert (ours.compute_dtype, ours.variable_dtype, ours.quantization_mode) == (
            theirs.compute_dtype, theirs.variable_dtype, theirs.quantization_mode)
        assert (minikeras.dtype_policies.serialize(ours)
                == keras.dtype_policies.serialize(theirs))
