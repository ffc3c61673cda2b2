"""BatchNormalization, Rescaling, Normalization, Reshape, the activation layers, the noise layers,
ActivityRegularization and Identity: formulas against NumPy, training vs inference, moving
statistics, float64 gradient checks, config round trips and clear errors."""

import warnings

import numpy as np
import pytest
from gradcheck import floatx, layer_gradient_check

import minikeras
from minikeras import layers, ops


@pytest.fixture(autouse=True)
def _fresh_session():
    minikeras.backend.clear_session()
    yield


def _x(*shape, seed=0, scale=1.0, shift=0.0):
    return (np.random.default_rng(seed).normal(size=shape) * scale + shift).astype("float32")


def _close(actual, expected, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def _round_trip(layer):
    """from_config(get_config()) gives the same config (and, built alike, the same weights)."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    return clone


def _bn_numpy(x, mean, var, gamma, beta, epsilon):
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


# --- BatchNormalization ------------------------------------------------------------------------

def test_batch_normalization_weights_order_and_defaults():
    bn = layers.BatchNormalization()
    bn.build((None, 3))
    assert [w.path for w in bn.weights] == ["batch_normalization/gamma",
                                            "batch_normalization/beta",
                                            "batch_normalization/moving_mean",
                                            "batch_normalization/moving_variance"]
    assert [w.trainable for w in bn.weights] == [True, True, False, False]
    for value, expected in zip(bn.get_weights(), [1, 0, 0, 1], strict=True):
        np.testing.assert_array_equal(value, np.full(3, expected, "float32"))
    assert (bn.momentum, bn.epsilon, bn.axis) == (0.99, 1e-3, -1)
    no_affine = layers.BatchNormalization(center=False, scale=False)
    no_affine.build((None, 2))
    assert [w.name for w in no_affine.weights] == ["moving_mean", "moving_variance"]


def test_batch_normalization_training_uses_batch_statistics_and_updates_moving_ones():
    bn = layers.BatchNormalization(momentum=0.8, epsilon=1e-2)
    bn.build((None, 3))
    gamma, beta = np.array([1.5, -0.5, 2.0], "float32"), np.array([0.1, 0.2, -0.3], "float32")
    bn.set_weights([gamma, beta, np.zeros(3, "float32"), np.ones(3, "float32")])
    moving_mean, moving_var = np.zeros(3), np.ones(3)
    for step in range(4):
        x = _x(16, 3, seed=step, scale=step + 1, shift=3 * step)
        y = bn(x, training=True)
        _close(y, _bn_numpy(x, x.mean(0), x.var(0), gamma, beta, 1e-2), atol=1e-5)
        moving_mean = moving_mean * 0.8 + x.mean(0) * 0.2
        moving_var = moving_var * 0.8 + x.var(0) * 0.2  # biased (population) variance
        _close(bn.moving_mean.numpy(), moving_mean, atol=1e-5)
        _close(bn.moving_variance.numpy(), moving_var, atol=1e-5)
    x = _x(5, 3, seed=9)
    for training in (False, None):
        _close(bn(x, training=training),
               _bn_numpy(x, moving_mean, moving_var, gamma, beta, 1e-2), atol=1e-5)
    _close(bn.moving_mean.numpy(), moving_mean, atol=1e-5)  # inference leaves them alone


def test_batch_normalization_feature_axis_other_than_last():
    bn = layers.BatchNormalization(axis=1, center=False)
    x = _x(4, 3, 5, scale=2.0, shift=1.0)
    y = bn(x, training=True)
    mean, var = x.mean((0, 2), keepdims=True), x.var((0, 2), keepdims=True)
    _close(y, (x - mean) / np.sqrt(var + 1e-3), atol=1e-5)
    assert bn.moving_mean.shape == (3,)
    _close(bn.moving_mean.numpy(), 0.01 * mean.ravel(), atol=1e-6)
    assert bn.compute_output_shape((None, 3, 5)) == (None, 3, 5)


def test_batch_normalization_frozen_layer_runs_in_inference_mode():
    bn = layers.BatchNormalization()
    x = _x(6, 2, shift=4.0)
    bn.build(x.shape)
    bn.trainable = False
    _close(bn(x, training=True), x / np.sqrt(1 + 1e-3))
    np.testing.assert_array_equal(bn.moving_mean.numpy(), np.zeros(2, "float32"))


def test_batch_normalization_synchronized_and_mask():
    x = _x(12, 3, scale=2.0, shift=1.0)
    plain, synced = layers.BatchNormalization(), layers.BatchNormalization(synchronized=True)
    _close(synced(x, training=True), plain(x, training=True), atol=1e-5)
    _close(synced.moving_variance.numpy(), plain.moving_variance.numpy())
    x3 = _x(4, 5, 3)
    mask = np.random.default_rng(1).random((4, 5)) > 0.4
    bn = layers.BatchNormalization(momentum=0.0)
    y = bn(x3, training=True, mask=mask)
    kept = x3[mask]
    _close(bn.moving_mean.numpy(), kept.mean(0), atol=1e-6)
    _close(bn.moving_variance.numpy(), kept.var(0), atol=1e-5)
    _close(y, (x3 - kept.mean(0)) / np.sqrt(kept.var(0) + 1e-3), atol=1e-4)
    with pytest.raises(ValueError, match="one dimension less"):
        bn(x3, training=True, mask=mask[:, :, None])


def test_batch_renormalization_formula():
    bn = layers.BatchNormalization(renorm=True, renorm_momentum=0.5, momentum=0.5,
                                   renorm_clipping={"rmax": 1.2, "dmax": 0.5})
    bn.build((None, 2))
    assert [w.name for w in bn.weights][4:] == ["moving_stddev", "renorm_mean", "renorm_stddev"]
    renorm_mean, renorm_std, moving_std = np.zeros(2), np.ones(2), np.ones(2)
    for step in range(3):
        x = _x(10, 2, seed=step, scale=3.0, shift=step)
        mean, std = x.mean(0), np.sqrt(x.var(0) + 1e-3)
        r = np.minimum(std / np.maximum(renorm_std, np.sqrt(1e-3)), 1.2)
        d = np.clip((mean - renorm_mean) / np.maximum(renorm_std, np.sqrt(1e-3)), -0.5, 0.5)
        _close(bn(x, training=True), (x - mean) / std * r + d, atol=1e-5)
        renorm_mean, renorm_std = 0.5 * renorm_mean + 0.5 * mean, 0.5 * renorm_std + 0.5 * std
        moving_std = 0.5 * moving_std + 0.5 * std
        _close(bn.renorm_stddev.numpy(), renorm_std)
        _close(bn.moving_variance.numpy(), moving_std**2 - 1e-3, atol=1e-5)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kwargs,shape", [({}, (5, 3)), ({"axis": 1}, (3, 2, 4)),
                                          ({"center": False}, (4, 2)),
                                          ({"synchronized": True, "scale": False}, (6, 2))])
def test_batch_normalization_gradients(kwargs, shape, training):
    """Training mode: the gradient flows through the batch mean and variance too.
    (Not renorm: its corrections r and d depend on the batch but are constants for the tape by
    design, so finite differences disagree; the parity tests check renorm's gradients.)"""
    with floatx("float64"):
        bn = layers.BatchNormalization(momentum=0.5, **kwargs)
        bn.build(shape)
        rng = np.random.default_rng(3)
        bn.set_weights([np.abs(rng.normal(size=w.shape)) + 0.5 if "variance" in w.name
                        else rng.normal(size=w.shape) for w in bn.weights])
        assert bn.gamma is None or bn.gamma.dtype == "float64"
        layer_gradient_check(bn, _x(*shape, scale=2.0), training=training)


def test_batch_normalization_config_round_trip_and_errors():
    bn = layers.BatchNormalization(axis=1, momentum=0.9, epsilon=0.01, center=False,
                                   gamma_regularizer="l2", beta_constraint="non_neg",
                                   renorm=True, renorm_clipping={"rmin": 0.5})
    config = bn.get_config()
    assert config["renorm_clipping"] == {"rmin": 0.5} and config["synchronized"] is False
    assert config["gamma_regularizer"]["class_name"] == "L2"
    _round_trip(bn)
    with pytest.raises(TypeError, match="axis"):
        layers.BatchNormalization(axis=[1, 2])
    with pytest.raises(ValueError, match="out of bounds"):
        layers.BatchNormalization(axis=2)(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="invalid keys"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"max": 1})
    with pytest.raises(ValueError, match="rmax should be greater than rmin"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmin": 2, "rmax": 1})
    bn = layers.BatchNormalization()
    bn(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        bn(np.zeros((2, 4)))


def test_batch_normalization_in_a_model_follows_the_training_flag():
    model = minikeras.Sequential([minikeras.Input((3,)), layers.BatchNormalization()])
    x = _x(32, 3, scale=5.0, shift=10.0)
    for _ in range(3):
        model(x, training=True)
    bn = model.layers[0]
    moving_mean = (1 - 0.99**3) * x.mean(0)
    moving_var = 0.99**3 + (1 - 0.99**3) * x.var(0)
    _close(bn.moving_mean.numpy(), moving_mean, atol=1e-5)
    _close(bn.moving_variance.numpy(), moving_var, rtol=1e-5)
    _close(model(x), (x - moving_mean) / np.sqrt(moving_var + 1e-3), atol=1e-5)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


# --- Rescaling ---------------------------------------------------------------------------------

def test_rescaling_formula_dtype_and_gradient():
    layer = layers.Rescaling(1 / 127.5, offset=-1)
    pixels = np.array([[0, 127, 255]], dtype="uint8")
    y = layer(pixels)
    assert y.dtype == "float32"
    _close(y, pixels / 127.5 - 1)
    per_channel = layers.Rescaling(np.array([1.0, 2.0, -1.0]), offset=0.5)
    _close(per_channel(np.ones((2, 3))), [[1.5, 2.5, -0.5]] * 2)
    with floatx("float64"):
        layer_gradient_check(layers.Rescaling(np.array([0.5, -3.0])), _x(3, 2))
    assert per_channel.compute_output_shape((None, 3)) == (None, 3)


def test_rescaling_config_round_trip_with_an_array():
    layer = layers.Rescaling(np.array([0.5, 2.0], "float32"), offset=1)
    config = layer.get_config()
    assert config["scale"] == {"class_name": "__numpy__",
                               "config": {"value": [0.5, 2.0], "dtype": "float32"}}
    clone = _round_trip(layer)
    assert isinstance(clone.scale, np.ndarray) and clone.scale.dtype == np.float32
    assert layers.Rescaling(np.float32(0.25)).get_config()["scale"] == 0.25


# --- Normalization -----------------------------------------------------------------------------

def test_normalization_adapt_and_weights():
    data = _x(50, 3, scale=4.0, shift=2.0)
    layer = layers.Normalization()
    layer.adapt(data)
    assert [w.name for w in layer.weights] == ["mean", "variance", "count"]
    assert [w.dtype for w in layer.weights] == ["float32", "float32", "int64"]
    assert not any(w.trainable for w in layer.weights)
    _close(layer.adapt_mean.numpy(), data.mean(0))
    _close(layer.adapt_variance.numpy(), data.var(0))  # population variance (ddof=0)
    assert int(layer.count.numpy()) == 0
    x = _x(4, 3, seed=1)
    _close(layer(x), (x - data.mean(0)) / np.sqrt(data.var(0)), atol=1e-5)


@pytest.mark.parametrize("axis,reduce", [(None, (0, 1, 2)), ((1, 2), (0,)), (1, (0, 2)),
                                         ((-1, 0), (1,))])
def test_normalization_axes(axis, reduce):
    data = _x(6, 2, 3, scale=2.0, shift=-1.0)
    layer = layers.Normalization(axis=axis)
    layer.adapt(data)
    mean, var = data.mean(reduce, keepdims=True), data.var(reduce, keepdims=True)
    _close(layer(data), (data - mean) / np.sqrt(var), atol=1e-5)
    assert layer.adapt_mean.shape == np.squeeze(mean, reduce).shape


def test_normalization_adapt_on_batches_equals_adapt_on_the_array():
    data = np.random.default_rng(0).normal(size=(40, 2)) * [1.0, 100.0] + [5.0, -20.0]
    whole, batched, generated = (layers.Normalization() for _ in range(3))
    whole.adapt(data)
    batched.adapt([data[:9], data[9:30], (data[30:], np.zeros(10))])
    generated.adapt(data[i:i + 8] for i in range(0, 40, 8))
    for layer in (batched, generated):
        _close(layer.adapt_mean.numpy(), whole.adapt_mean.numpy(), rtol=1e-5, atol=1e-5)
        _close(layer.adapt_variance.numpy(), whole.adapt_variance.numpy(), rtol=1e-5)
    tensor = layers.Normalization()
    tensor.adapt(ops.convert_to_tensor(data.astype("float32")))
    _close(tensor.adapt_mean.numpy(), whole.adapt_mean.numpy(), rtol=1e-5)


def test_normalization_epsilon_invert_and_given_statistics():
    layer = layers.Normalization(mean=[1.0, 0.0], variance=[4.0, 0.0])
    y = layer(np.array([[3.0, 1e-7]]))
    _close(y, [[1.0, 1.0]], atol=1e-6)  # variance 0: divide by epsilon = 1e-7, not by 0
    assert layer.weights == []
    x = _x(5, 2)
    inverse = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    _close(inverse(x), x * [2.0, 3.0] + [1.0, 2.0], atol=1e-5)
    forward = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])
    _close(forward(inverse(x)), x, atol=1e-5)
    scalar = layers.Normalization(mean=3.0, variance=2.0)
    _close(scalar(np.array([[1.0], [3.0]])), [[-2 / np.sqrt(2)], [0.0]])
    grid = layers.Normalization(axis=(1, 2), mean=[1.0, -1.0], variance=[1.0, 4.0])
    _close(grid(np.zeros((1, 3, 2))), np.tile([[-1.0, 0.5]], (1, 3, 1)))


def test_normalization_reads_its_weights_at_every_call():
    layer = layers.Normalization()
    layer.build((None, 2))
    layer.set_weights([np.array([1.0, -1.0]), np.array([4.0, 0.25]), np.array(0)])
    _close(layer(np.array([[3.0, 0.0]])), [[1.0, 2.0]])


def test_normalization_gradients():
    with floatx("float64"):
        layer = layers.Normalization(axis=(1, 2))
        layer.adapt(_x(20, 2, 3, scale=3.0))
        layer_gradient_check(layer, _x(4, 2, 3, seed=1))
        layer_gradient_check(layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 0.5],
                                                  invert=True), _x(3, 2))


def test_normalization_config_and_errors():
    layer = layers.Normalization(axis=[1, 2], mean=[1.0, 2.0], variance=[3.0, 4.0])
    assert layer.get_config()["axis"] == (1, 2)
    assert layer.get_config()["mean"] == [1.0, 2.0]
    _round_trip(layer)
    plain = layers.Normalization(axis=None)
    assert plain.get_config()["axis"] == () and plain.get_config()["mean"] is None
    _round_trip(plain)
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0])
    with pytest.raises(ValueError, match="rank of `mean`"):
        layers.Normalization(mean=[[1.0]], variance=[[1.0]])
    with pytest.raises(ValueError, match=r"range \[-ndim, ndim\)"):
        layers.Normalization(axis=3).adapt(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="incompatible shape"):
        adapted = layers.Normalization()
        adapted.adapt(np.zeros((4, 2)))
        adapted.adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="are fixed"):
        layers.Normalization(mean=1.0, variance=1.0).adapt(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt([])
    with pytest.raises(TypeError, match="Unsupported data type"):
        layers.Normalization().adapt(3.0)
    with pytest.raises(TypeError, match="`.shape`"):
        layers.Normalization().adapt([1.0, 2.0])


# --- Reshape -----------------------------------------------------------------------------------

def test_reshape_formula_shapes_and_gradient():
    x = _x(2, 12)
    layer = layers.Reshape((3, -1))
    np.testing.assert_array_equal(layer(x), x.reshape(2, 3, 4))
    assert layer.compute_output_shape((None, 12)) == (None, 3, 4)
    assert layer.compute_output_shape((None, None)) == (None, 3, None)
    assert layers.Reshape((2, 6)).compute_output_shape((5, 3, 4)) == (5, 2, 6)
    assert layer.get_config()["target_shape"] == (3, -1)
    _round_trip(layer)
    with floatx("float64"):
        layer_gradient_check(layers.Reshape((-1,)), _x(2, 2, 3))


def test_reshape_errors():
    with pytest.raises(ValueError, match="at most one unknown dimension"):
        layers.Reshape((-1, -1))
    with pytest.raises(ValueError, match="non-negative integer"):
        layers.Reshape((-2, 3))
    with pytest.raises(ValueError, match="non-negative integer"):
        layers.Reshape((2.5,))
    with pytest.raises(ValueError, match=r"must be unchanged. Received: input_shape=\(6,\)"):
        layers.Reshape((4,))(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="cannot be divided"):
        layers.Reshape((5, -1))(np.zeros((2, 6)))


# --- activation layers -------------------------------------------------------------------------

def _relu_numpy(x, max_value=None, negative_slope=0.0, threshold=0.0):
    """The piecewise rule from Keras's ReLU docstring."""
    y = np.where(x >= threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else np.where(x >= max_value, max_value, y)


@pytest.mark.parametrize("kwargs", [{}, {"max_value": 1.0}, {"negative_slope": 0.1},
                                    {"threshold": 0.5}, {"max_value": 2.0, "threshold": 0.5,
                                                         "negative_slope": 0.2}])
def test_relu_layer(kwargs):
    x = _x(4, 6, scale=2.0)
    layer = layers.ReLU(**kwargs)
    _close(layer(x), _relu_numpy(x, **kwargs))
    _round_trip(layer)


def test_leaky_relu_elu_softmax_formulas():
    x = _x(3, 4, scale=2.0)
    _close(layers.LeakyReLU()(x), np.where(x > 0, x, 0.3 * x))
    _close(layers.LeakyReLU(negative_slope=0.05)(x), np.where(x > 0, x, 0.05 * x))
    _close(layers.ELU(alpha=0.5)(x), np.where(x > 0, x, 0.5 * np.expm1(x)))
    e = np.exp(x - x.max(-1, keepdims=True))
    _close(layers.Softmax()(x), e / e.sum(-1, keepdims=True))
    e0 = np.exp(x - x.max(0, keepdims=True))
    _close(layers.Softmax(axis=0)(x), e0 / e0.sum(0, keepdims=True))
    x3 = _x(2, 3, 4)
    e3 = np.exp(x3 - x3.max((1, 2), keepdims=True))
    _close(layers.Softmax(axis=[1, 2])(x3), e3 / e3.sum((1, 2), keepdims=True))
    big = np.array([[1000.0, 0.0, -1000.0]], "float32")  # stable: no overflow warning
    _close(layers.Softmax()(big), [[1.0, 0.0, 0.0]])
    for layer in (layers.LeakyReLU(0.1), layers.ELU(0.7), layers.Softmax(axis=[1, 2])):
        _round_trip(layer)


def test_softmax_mask():
    x = _x(2, 4)
    mask = np.array([[1, 0, 1, 1], [0, 0, 0, 0]], bool)
    y = np.asarray(layers.Softmax()(x, mask=mask))
    e = np.exp(x[0, mask[0]] - x[0, mask[0]].max())
    _close(y[0, mask[0]], e / e.sum())
    assert np.all(y[~mask] == 0)
    with pytest.raises(ValueError, match="broadcastable"):
        layers.Softmax()(x, mask=np.ones((2, 3), bool))


def test_activation_layer_gradients():
    x = _x(3, 5, scale=2.0)
    x[np.abs(x) < 0.05] = 0.3  # keep finite differences away from kinks
    x[np.abs(x - 0.5) < 0.05] = 0.7
    with floatx("float64"):
        for layer in (layers.ReLU(max_value=6.0, negative_slope=0.2, threshold=0.5),
                      layers.LeakyReLU(), layers.ELU(alpha=0.5), layers.Softmax(),
                      layers.Softmax(axis=[0, 1])):
            layer_gradient_check(layer, x)


def test_prelu_formula_weights_and_gradients():
    x = _x(4, 2, 3)
    layer = layers.PReLU(shared_axes=[1])
    layer.build(x.shape)
    assert [(w.name, w.shape) for w in layer.weights] == [("alpha", (1, 3))]
    np.testing.assert_array_equal(layer.alpha.numpy(), np.zeros((1, 3), "float32"))
    alpha = np.array([[0.1, -0.5, 2.0]], "float32")
    layer.set_weights([alpha])
    _close(layer(x), np.where(x > 0, x, alpha * x))
    with pytest.raises(ValueError, match="expected axis 2 of input shape to have value 3"):
        layer(np.zeros((4, 2, 5)))
    assert layers.PReLU(shared_axes=2).shared_axes == [2]
    with floatx("float64"):
        prelu = layers.PReLU(shared_axes=[2], alpha_initializer="random_normal")
        x64 = _x(3, 2, 4, seed=2)
        x64[np.abs(x64) < 0.05] = 0.2
        layer_gradient_check(prelu, x64)


def test_prelu_config_and_bad_shared_axes():
    layer = layers.PReLU(alpha_initializer="ones", alpha_regularizer="l2",
                         alpha_constraint="non_neg", shared_axes=(1,))
    config = layer.get_config()
    assert config["shared_axes"] == [1] and config["alpha_initializer"]["class_name"] == "Ones"
    _round_trip(layer)
    assert layers.PReLU().get_config()["alpha_initializer"]["class_name"] == "Zeros"
    with pytest.raises(ValueError, match="shared_axes"):
        layers.PReLU(shared_axes=[3])(np.zeros((2, 3)))


def test_activation_layer_argument_errors_and_keras2_alpha():
    with pytest.raises(ValueError, match="max_value of a ReLU layer"):
        layers.ReLU(max_value=-1.0)
    with pytest.raises(ValueError, match="negative_slope of a ReLU layer"):
        layers.ReLU(negative_slope=None)
    with pytest.raises(ValueError, match="threshold of a ReLU layer"):
        layers.ReLU(threshold=-0.5)
    with pytest.raises(ValueError, match="negative_slope value of a Leaky ReLU"):
        layers.LeakyReLU(negative_slope=-0.1)
    with pytest.warns(UserWarning, match="`alpha` is deprecated"):
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1 and "alpha" not in layer.get_config()
    config = layers.ELU(0.5).get_config()
    assert list(config)[:2] == ["name", "alpha"]  # Keras's key order


# --- noise and regularization layers -----------------------------------------------------------

def test_gaussian_noise_statistics_seed_and_inference():
    x = np.full((400, 250), 2.0, "float32")
    layer = layers.GaussianNoise(0.3, seed=1)
    for training in (None, False):
        np.testing.assert_array_equal(layer(x, training=training), x)
    noise = np.asarray(layer(x, training=True)) - 2.0
    assert abs(noise.mean()) < 0.003 and abs(noise.std() - 0.3) < 0.003
    again = np.asarray(layers.GaussianNoise(0.3, seed=1)(x, training=True)) - 2.0
    np.testing.assert_array_equal(again, noise)
    assert not np.array_equal(np.asarray(layer(x, training=True)) - 2.0, noise)
    xt = ops.convert_to_tensor(_x(3, 2))
    with minikeras.GradientTape() as tape:
        tape.watch(xt)
        total = ops.sum(layer(xt, training=True))
    np.testing.assert_array_equal(tape.gradient(total, xt), np.ones((3, 2)))
    assert layer.get_config()["stddev"] == 0.3 and layer.get_config()["seed"] == 1
    _round_trip(layer)


def test_gaussian_dropout_statistics_and_gradient():
    x = np.full((400, 250), 3.0, "float32")
    layer = layers.GaussianDropout(0.2, seed=4)
    np.testing.assert_array_equal(layer(x), x)
    factor = np.asarray(layer(x, training=True)) / 3.0
    assert abs(factor.mean() - 1) < 0.003 and abs(factor.std() - 0.5) < 0.003  # sqrt(.2/.8)
    xt = ops.convert_to_tensor(_x(4, 3, shift=5.0))
    with minikeras.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt, training=True)
        total = ops.sum(y)
    _close(tape.gradient(total, xt), np.asarray(y) / np.asarray(xt))
    _round_trip(layer)
    np.testing.assert_array_equal(layers.GaussianDropout(0.0)(x, training=True), x)


@pytest.mark.parametrize("factory,message", [
    (lambda: layers.GaussianNoise(1.5), "stddev"),
    (lambda: layers.GaussianNoise(-0.1), "stddev"),
    (lambda: layers.GaussianDropout(1.1), "rate"),
    (lambda: layers.GaussianDropout("0.5"), "rate"),
])
def test_noise_argument_errors(factory, message):
    with pytest.raises(ValueError, match=f"argument `{message}`"):
        factory()


def test_activity_regularization_loss_and_gradient():
    x = _x(5, 3)
    layer = layers.ActivityRegularization(l1=0.1, l2=0.3)
    np.testing.assert_array_equal(layer(x), x)
    expected = (0.1 * np.abs(x).sum() + 0.3 * np.square(x).sum()) / 5  # divided by batch size
    assert len(layer.losses) == 1
    _close(layer.losses[0], expected)
    layer(x[:2])
    assert len(layer.losses) == 1  # replaced at every call, not accumulated
    xt = ops.convert_to_tensor(x)
    with minikeras.GradientTape() as tape:
        tape.watch(xt)
        layer(xt)
        penalty = layer.losses[0]
    _close(tape.gradient(penalty, xt), (0.1 * np.sign(x) + 0.6 * x) / 5)
    config = layer.get_config()
    assert (config["l1"], config["l2"]) == (0.1, 0.3) and "activity_regularizer" not in config
    _round_trip(layer)
    with pytest.raises(ValueError, match="l1"):
        layers.ActivityRegularization(l1=-1.0)


def test_identity():
    x = _x(2, 3)
    layer = layers.Identity()
    np.testing.assert_array_equal(layer(x), x)
    assert layer.weights == [] and layer.compute_output_shape((None, 3)) == (None, 3)
    assert set(layer.get_config()) == {"name", "trainable", "dtype"}
    _round_trip(layer)


def test_extra_layers_build_inside_a_sequential_model():
    model = minikeras.Sequential([
        minikeras.Input((4,)), layers.Rescaling(0.5), layers.Reshape((2, 2)),
        layers.PReLU(), layers.BatchNormalization(axis=1), layers.Reshape((-1,)),
        layers.LeakyReLU(), layers.GaussianNoise(0.1), layers.Softmax(),
        layers.ActivityRegularization(l2=0.01), layers.Identity()])
    assert [w.shape for w in model.weights] == [(2, 2), (2,), (2,), (2,), (2,)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarning on extreme inputs either
        y = model(np.array([[1e30, -1e30, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]], "float32"))
    assert y.shape == (2, 4) and np.all(np.isfinite(y))
    _close(np.sum(y, axis=-1), [1.0, 1.0])
