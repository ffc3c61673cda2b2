"""Parity of the extra layers (BatchNormalization, Rescaling, Normalization, Reshape, activation,
noise and regularization layers) with Keras 3: the same weights and inputs give the same outputs,
gradients, moving statistics, adapted statistics, configs and weight lists."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras as mk

RTOL, ATOL = 1e-5, 1e-6  # float32 forward
# Gradients: atol 1e-6 as in keras-facts.md §10, plus rtol 1e-5 because these gradients reach
# |g| ~ 5 (sums over the batch), where float32 rounding alone differs by a few ulps (~1e-6).
GRAD_RTOL, GRAD_ATOL = 1e-5, 1e-6


def close(actual, expected, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def make_pair(name, *args, **kwargs):
    """The same layer, built with the same arguments, in Keras and in minikeras."""
    return getattr(keras.layers, name)(*args, **kwargs), getattr(mk.layers, name)(*args, **kwargs)


def cotangent(shape):
    """Fixed random weights for the output, so that sum(y * c) has informative gradients
    (a plain sum of BatchNormalization outputs has zero gradient w.r.t. the input)."""
    return np.random.default_rng(7).normal(size=shape).astype("float32")


def keras_run(layer, x, **call_kwargs):
    """Output, and the gradients of sum(y * c) w.r.t. x and the trainable weights (TF tape)."""
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt, **call_kwargs)
        loss = tf.reduce_sum(y * cotangent(y.shape))
    grads = tape.gradient(loss, [xt, *layer.trainable_weights])
    return y.numpy(), [None if g is None else g.numpy() for g in grads]


def mk_run(layer, x, **call_kwargs):
    xt = mk.ops.convert_to_tensor(x)
    with mk.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt, **call_kwargs)
        loss = mk.ops.sum(mk.ops.multiply(y, cotangent(y.shape)))
    grads = tape.gradient(loss, [xt, *layer.trainable_weights])
    return y.numpy(), [None if g is None else g.numpy() for g in grads]


def assert_same_run(k_layer, m_layer, x, **call_kwargs):
    k_y, k_grads = keras_run(k_layer, x, **call_kwargs)
    m_y, m_grads = mk_run(m_layer, x, **call_kwargs)
    close(m_y, k_y)
    assert len(m_grads) == len(k_grads)
    for m_g, k_g in zip(m_grads, k_grads, strict=True):
        if k_g is None:  # TensorFlow returns None where nothing flows; minikeras must agree
            assert m_g is None or not np.any(m_g)
        else:
            close(m_g, k_g, rtol=GRAD_RTOL, atol=GRAD_ATOL)
    return m_y


def assert_same_weights(k_layer, m_layer):
    k_w, m_w = k_layer.get_weights(), m_layer.get_weights()
    assert [w.shape for w in m_w] == [w.shape for w in k_w]
    assert [v.path for v in m_layer.weights] == [v.path for v in k_layer.weights]
    assert [v.trainable for v in m_layer.weights] == [v.trainable for v in k_layer.weights]
    for m, k in zip(m_w, k_w, strict=True):
        assert m.dtype == k.dtype
        close(m, k)


def assert_same_config(k_layer, m_layer):
    assert m_layer.get_config() == k_layer.get_config()


def randomize(k_layer, m_layer, rng, positive=()):
    """Give both layers the same random weights (weights named in ``positive`` > 0)."""
    values = []
    for v in k_layer.weights:
        w = rng.normal(size=v.shape).astype(v.dtype)
        if v.name in positive:
            w = np.abs(w) + 0.5
        values.append(w)
    k_layer.set_weights(values)
    m_layer.set_weights(values)


# --- BatchNormalization ------------------------------------------------------------------------

BN_CASES = [
    ({}, (8, 3)),
    ({"axis": 1, "momentum": 0.9, "epsilon": 1e-2}, (4, 3, 5)),
    ({"axis": -2, "center": False}, (5, 4, 2)),
    ({"scale": False, "momentum": 0.5}, (6, 2, 3)),
    ({"center": False, "scale": False}, (7, 4)),
    ({"synchronized": True, "momentum": 0.8}, (9, 3)),
    ({"axis": 2}, (3, 2, 4, 2)),
]


@pytest.mark.parametrize("kwargs,shape", BN_CASES)
def test_batch_normalization_training_inference_and_moving_statistics(kwargs, shape, rng):
    k_bn, m_bn = make_pair("BatchNormalization", **kwargs)
    x0 = (rng.normal(size=shape) * 2 + 1).astype("float32")
    k_bn.build(shape)
    m_bn.build(shape)
    assert_same_weights(k_bn, m_bn)
    randomize(k_bn, m_bn, rng, positive=("moving_variance",))
    assert_same_run(k_bn, m_bn, x0, training=False)
    assert_same_run(k_bn, m_bn, x0)  # training=None is inference
    for step in range(4):
        x = (rng.normal(size=shape) * (step + 1) + step).astype("float32")
        assert_same_run(k_bn, m_bn, x, training=True)
        assert_same_weights(k_bn, m_bn)
    assert_same_run(k_bn, m_bn, x0, training=False)
    assert_same_config(k_bn, m_bn)
    assert k_bn.compute_output_shape(shape) == m_bn.compute_output_shape(shape)


def test_batch_normalization_frozen_layer_runs_in_inference_mode(rng):
    k_bn, m_bn = make_pair("BatchNormalization")
    x = rng.normal(size=(6, 3)).astype("float32") * 3
    k_bn.build(x.shape)
    m_bn.build(x.shape)
    randomize(k_bn, m_bn, rng, positive=("moving_variance",))
    k_bn.trainable = False
    m_bn.trainable = False
    assert_same_run(k_bn, m_bn, x, training=True)
    assert_same_weights(k_bn, m_bn)  # no update while frozen


@pytest.mark.parametrize("clipping", [None, {"rmax": 1.5, "rmin": 0.8, "dmax": 0.3}])
@pytest.mark.parametrize("center,scale", [(True, True), (False, False)])
def test_batch_renormalization(clipping, center, scale, rng):
    k_bn, m_bn = make_pair("BatchNormalization", renorm=True, renorm_clipping=clipping,
                           renorm_momentum=0.7, momentum=0.6, center=center, scale=scale)
    shape = (10, 4)
    k_bn.build(shape)
    m_bn.build(shape)
    assert_same_weights(k_bn, m_bn)
    for step in range(4):
        x = (rng.normal(size=shape) * (1 + step) + 2 * step).astype("float32")
        assert_same_run(k_bn, m_bn, x, training=True)
        assert_same_weights(k_bn, m_bn)
    assert_same_run(k_bn, m_bn, x, training=False)
    assert_same_config(k_bn, m_bn)


def test_batch_normalization_with_mask(rng):
    k_bn, m_bn = make_pair("BatchNormalization", momentum=0.5)
    x = rng.normal(size=(4, 5, 3)).astype("float32")
    mask = rng.random((4, 5)) > 0.3
    k_bn.build(x.shape)
    m_bn.build(x.shape)
    assert_same_run(k_bn, m_bn, x, training=True, mask=mask)
    assert_same_weights(k_bn, m_bn)


def test_batch_normalization_with_regularizers_and_constraints_config():
    kwargs = {"beta_regularizer": "l2", "gamma_regularizer": keras.regularizers.L1L2(0.1, 0.2),
              "beta_constraint": "non_neg", "gamma_constraint": "max_norm",
              "gamma_initializer": "random_normal", "moving_variance_initializer": "zeros"}
    k_bn = keras.layers.BatchNormalization(**kwargs)
    m_kwargs = dict(kwargs, gamma_regularizer=mk.regularizers.L1L2(0.1, 0.2))
    m_bn = mk.layers.BatchNormalization(**m_kwargs)
    k_config, m_config = k_bn.get_config(), m_bn.get_config()
    # seeds of unseeded random initializers are drawn per instance (see keras-facts.md §5)
    assert m_config == k_config
    restored = mk.layers.BatchNormalization.from_config(k_config)
    assert restored.get_config() == k_config


def test_batch_normalization_in_a_sequential_model(rng):
    """BN after Dense inside a model: outputs and all gradients equal in training mode."""
    x = rng.normal(size=(8, 4)).astype("float32")
    k_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                                keras.layers.BatchNormalization(), keras.layers.ReLU()])
    m_model = mk.Sequential([mk.Input((4,)), mk.layers.Dense(3),
                             mk.layers.BatchNormalization(), mk.layers.ReLU()])
    m_model.set_weights(k_model.get_weights())
    assert_same_run(k_model, m_model, x, training=True)
    assert_same_weights(k_model, m_model)


# --- Rescaling, Reshape, Identity --------------------------------------------------------------

@pytest.mark.parametrize("scale,offset", [(1 / 255, 0.0), (0.5, -1), (np.array([1.0, -2.0, 0.5]),
                                                                       0.25)])
def test_rescaling(scale, offset, rng):
    k_layer, m_layer = make_pair("Rescaling", scale, offset=offset)
    x = (rng.random((4, 3)) * 255).astype("float32")
    assert_same_run(k_layer, m_layer, x)
    assert_same_config(k_layer, m_layer)
    ints = np.arange(12).reshape(4, 3)
    k_y, m_y = k_layer(ints), m_layer(ints)
    assert m_y.dtype == k_y.dtype.name == "float32"
    close(m_y, k_y)


@pytest.mark.parametrize("target,shape", [((3, 4), (2, 12)), ((-1, 2), (3, 2, 3)),
                                          ((2, -1, 3), (2, 12)), ((6,), (1, 2, 3))])
def test_reshape(target, shape, rng):
    k_layer, m_layer = make_pair("Reshape", target)
    x = rng.normal(size=shape).astype("float32")
    assert_same_run(k_layer, m_layer, x)
    assert_same_config(k_layer, m_layer)
    for input_shape in [shape, (None, *shape[1:])]:
        assert m_layer.compute_output_shape(input_shape) == k_layer.compute_output_shape(
            input_shape)


def test_identity(rng):
    k_layer, m_layer = make_pair("Identity")
    x = rng.normal(size=(3, 2)).astype("float32")
    assert_same_run(k_layer, m_layer, x)
    assert_same_config(k_layer, m_layer)


# --- Normalization -----------------------------------------------------------------------------

@pytest.mark.parametrize("axis,shape", [(-1, (20, 3)), (None, (10, 4)), ((1, 2), (6, 2, 3)),
                                        (1, (8, 3, 2)), ((-1, 0), (5, 2))])
@pytest.mark.parametrize("invert", [False, True])
def test_normalization_adapt_on_array(axis, shape, invert, rng):
    k_layer, m_layer = make_pair("Normalization", axis=axis, invert=invert)
    data = (rng.normal(size=shape) * 3 + 5).astype("float32")
    k_layer.adapt(data)
    m_layer.adapt(data)
    assert_same_weights(k_layer, m_layer)
    x = rng.normal(size=shape).astype("float32")
    assert_same_run(k_layer, m_layer, x)
    assert_same_config(k_layer, m_layer)


def test_normalization_adapt_on_float64_array_and_batches(rng):
    data = rng.normal(size=(30, 4)) * [1, 10, 100, 0.1] + [0, -3, 50, 7]
    batches = [data[:7].astype("float32"), data[7:20].astype("float32"),
               (data[20:].astype("float32"), np.zeros(10))]
    for source in [data, batches, tf.constant(data.astype("float32"))]:
        k_layer, m_layer = make_pair("Normalization")
        k_layer.adapt(source)
        m_layer.adapt(source if not isinstance(source, tf.Tensor) else
                      mk.ops.convert_to_tensor(source.numpy()))
        assert_same_weights(k_layer, m_layer)
        assert_same_run(k_layer, m_layer, data[:5].astype("float32"))


def test_normalization_adapt_on_a_generator_and_a_zero_variance_feature(rng):
    data = rng.normal(size=(12, 3)).astype("float32")
    data[:, 1] = 4.0  # variance 0: the output divides by epsilon instead
    k_layer, m_layer = make_pair("Normalization")
    k_layer.adapt(data[i:i + 4] for i in range(0, 12, 4))
    m_layer.adapt(data[i:i + 4] for i in range(0, 12, 4))
    assert_same_weights(k_layer, m_layer)
    assert_same_run(k_layer, m_layer, data + 1e-7)


@pytest.mark.parametrize("mean,variance,axis,shape", [
    (3.0, 2.0, -1, (4, 1)),
    ([1.0, 2.0, 3.0], [4.0, 1.0, 0.25], -1, (2, 3)),
    ([1.0, -2.0], [2.0, 3.0], (1, 2), (3, 4, 2)),
    ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 4.0], [9.0, 16.0]], (1, 2), (2, 2, 2)),
])
@pytest.mark.parametrize("invert", [False, True])
def test_normalization_with_given_statistics(mean, variance, axis, shape, invert, rng):
    k_layer, m_layer = make_pair("Normalization", axis=axis, mean=mean, variance=variance,
                                 invert=invert)
    x = rng.normal(size=shape).astype("float32")
    assert_same_run(k_layer, m_layer, x)
    assert m_layer.get_weights() == k_layer.get_weights() == []
    assert_same_config(k_layer, m_layer)


def test_normalization_weights_set_by_hand(rng):
    """Keras caches the broadcast statistics and refreshes them in ``finalize_state`` (called
    when weights are loaded from a file); minikeras reads the weights at every call."""
    k_layer, m_layer = make_pair("Normalization")
    k_layer.build((None, 2))
    m_layer.build((None, 2))
    assert_same_weights(k_layer, m_layer)
    weights = [np.array([1.0, -1.0], "float32"), np.array([4.0, 0.25], "float32"), np.array(0)]
    k_layer.set_weights(weights)
    k_layer.finalize_state()
    m_layer.set_weights(weights)
    assert_same_run(k_layer, m_layer, rng.normal(size=(3, 2)).astype("float32"))


# --- activation layers -------------------------------------------------------------------------

ACTIVATION_CASES = [
    ("ReLU", {}),
    ("ReLU", {"max_value": 1.5}),
    ("ReLU", {"max_value": 6.0}),
    ("ReLU", {"negative_slope": 0.1}),
    ("ReLU", {"threshold": 0.4, "negative_slope": 0.2}),
    ("ReLU", {"max_value": 2.0, "negative_slope": 0.3, "threshold": 0.5}),
    ("LeakyReLU", {}),
    ("LeakyReLU", {"negative_slope": 0.05}),
    ("ELU", {}),
    ("ELU", {"alpha": 0.5}),
    ("Softmax", {}),
    ("Softmax", {"axis": 1}),
    ("Softmax", {"axis": [1, 2]}),
    ("Softmax", {"axis": (2,)}),
]


@pytest.mark.parametrize("name,kwargs", ACTIVATION_CASES)
def test_activation_layers(name, kwargs, rng):
    k_layer, m_layer = make_pair(name, **kwargs)
    x = (rng.normal(size=(4, 3, 5)) * 3).astype("float32")
    x[np.abs(x - 0.5) < 1e-2] = 0.7  # stay clear of kinks, where derivatives are conventions
    x[np.abs(x) < 1e-2] = 0.3
    assert_same_run(k_layer, m_layer, x)
    assert_same_config(k_layer, m_layer)


def test_leaky_relu_accepts_keras2_alpha_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        k_layer = keras.layers.LeakyReLU(alpha=0.1)
        m_layer = mk.layers.LeakyReLU(alpha=0.1)
    assert sum("alpha" in str(w.message) for w in caught) == 2
    assert_same_config(k_layer, m_layer)


def test_softmax_with_mask(rng):
    k_layer, m_layer = make_pair("Softmax")
    x = rng.normal(size=(3, 4)).astype("float32")
    mask = np.array([[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 1, 1]], dtype=bool)
    assert_same_run(k_layer, m_layer, x, mask=mask)
    assert_same_run(k_layer, m_layer, x, mask=mask[:1].astype("float32"))


@pytest.mark.parametrize("shared_axes,shape", [(None, (4, 3)), ([1, 2], (3, 2, 4, 5)),
                                               (2, (3, 4, 2))])
def test_prelu(shared_axes, shape, rng):
    k_layer, m_layer = make_pair("PReLU", shared_axes=shared_axes)
    k_layer.build(shape)
    m_layer.build(shape)
    assert_same_weights(k_layer, m_layer)
    randomize(k_layer, m_layer, rng)
    x = rng.normal(size=shape).astype("float32")
    assert_same_run(k_layer, m_layer, x)
    assert_same_config(k_layer, m_layer)


def test_prelu_config_with_initializer_regularizer_and_constraint():
    kwargs = {"alpha_initializer": "ones", "alpha_regularizer": "l2",
              "alpha_constraint": "non_neg"}
    k_layer, m_layer = make_pair("PReLU", **kwargs)
    assert_same_config(k_layer, m_layer)
    k_layer.build((None, 2))
    m_layer.build((None, 2))
    assert_same_weights(k_layer, m_layer)
    close(sum(m_layer.losses), sum(k_layer.losses))


# --- noise and regularization ------------------------------------------------------------------

@pytest.mark.parametrize("name,kwargs", [("GaussianNoise", {"stddev": 0.3}),
                                         ("GaussianNoise", {"stddev": 0.1, "seed": 3}),
                                         ("GaussianDropout", {"rate": 0.4}),
                                         ("GaussianDropout", {"rate": 0.2, "seed": 1})])
def test_noise_layers_are_the_identity_at_inference(name, kwargs, rng):
    k_layer, m_layer = make_pair(name, **kwargs)
    x = rng.normal(size=(5, 3)).astype("float32")
    for training in (None, False):
        assert_same_run(k_layer, m_layer, x, training=training)
    assert_same_config(k_layer, m_layer)


@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.01, 0.0), (0.0, 0.2), (0.3, 0.05)])
def test_activity_regularization_loss(l1, l2, rng):
    k_layer, m_layer = make_pair("ActivityRegularization", l1=l1, l2=l2)
    x = rng.normal(size=(6, 4)).astype("float32")
    assert_same_run(k_layer, m_layer, x)
    assert len(m_layer.losses) == len(k_layer.losses) == 1
    close(m_layer.losses[0], k_layer.losses[0])
    assert_same_config(k_layer, m_layer)


def test_activity_regularization_gradient_in_a_model(rng):
    """d(output sum + penalty)/d kernel, through the activity penalty of the last layer."""
    x = rng.normal(size=(5, 3)).astype("float32")
    k_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                                keras.layers.ActivityRegularization(l1=0.1, l2=0.3)])
    m_model = mk.Sequential([mk.Input((3,)), mk.layers.Dense(2),
                             mk.layers.ActivityRegularization(l1=0.1, l2=0.3)])
    m_model.set_weights(k_model.get_weights())
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(k_model(x)) + tf.add_n(k_model.losses)
    k_grads = tape.gradient(loss, k_model.trainable_weights)
    with mk.GradientTape() as tape:
        loss_m = mk.ops.sum(m_model(x)) + sum(m_model.losses)
    m_grads = tape.gradient(loss_m, m_model.trainable_weights)
    close(loss_m, loss)
    for m_g, k_g in zip(m_grads, k_grads, strict=True):
        close(m_g, k_g, rtol=GRAD_RTOL, atol=GRAD_ATOL)


# --- configs from Keras load into minikeras ----------------------------------------------------

CONFIG_CASES = [
    ("BatchNormalization", {"axis": 1, "momentum": 0.9, "renorm": True}),
    ("Rescaling", {"scale": np.array([0.5, 2.0]), "offset": 1}),
    ("Normalization", {"axis": (1, 2), "mean": [1.0, 2.0], "variance": [3.0, 4.0]}),
    ("Reshape", {"target_shape": (2, -1)}),
    ("ReLU", {"max_value": 6.0, "threshold": 1.0}),
    ("LeakyReLU", {"negative_slope": 0.01}),
    ("ELU", {"alpha": 0.7}),
    ("PReLU", {"shared_axes": [1]}),
    ("Softmax", {"axis": [1, 2]}),
    ("GaussianNoise", {"stddev": 0.2, "seed": 5}),
    ("GaussianDropout", {"rate": 0.5}),
    ("ActivityRegularization", {"l1": 0.5}),
    ("Identity", {}),
]


def test_keras_configs_round_trip_through_minikeras():
    for name, kwargs in CONFIG_CASES:  # one test: each case is quick, a session reset is not
        k_config = getattr(keras.layers, name)(**kwargs).get_config()
        m_layer = getattr(mk.layers, name).from_config(k_config)
        assert m_layer.get_config() == k_config, name
        k_again = getattr(keras.layers, name).from_config(m_layer.get_config())
        assert k_again.get_config() == k_config, name
