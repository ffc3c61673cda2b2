"""Conv1D, MaxPooling1D, AveragePooling1D, Dot, the reshaping layers (RepeatVector, Permute,
ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D), SpatialDropout1D/2D, AlphaDropout,
UnitNormalization, GroupNormalization and Masking, with NumPy only: values against their
definitions written in NumPy, float64 finite-difference gradient checks, output shapes (with
None), config round trips and errors that say what is wrong."""

import numpy as np
import pytest
from gradcheck import floatx, gradient_check, layer_gradient_check
from test_layers_extra import _close, _fresh_session, _round_trip, _x  # noqa: F401 (fixture)

import minikeras
from minikeras import layers, ops


def conv1d_by_loops(x, kernel, stride=1, pads=(0, 0), dilation=1):
    """out[n, t, f] = Σ_{i, c} in[n, t·s + i·d, c] · K[i, c, f] on the zero-padded input."""
    x = np.pad(x, ((0, 0), pads, (0, 0)))
    k, _, f = kernel.shape
    steps = (x.shape[1] - (k - 1) * dilation - 1) // stride + 1
    out = np.zeros((x.shape[0], steps, f))
    for t in range(steps):
        for i in range(k):
            out[:, t, :] += x[:, t * stride + i * dilation, :] @ kernel[i]
    return out


# --- Conv1D ------------------------------------------------------------------------------------

# (layer kwargs, input shape, the pads the definition needs)
CONV1D_CASES = [
    (dict(kernel_size=3), (2, 7, 3), (0, 0)),
    (dict(kernel_size=3, padding="same"), (2, 7, 3), (1, 1)),
    (dict(kernel_size=4, strides=2, padding="same"), (2, 7, 2), (1, 2)),  # extra pad at the end
    (dict(kernel_size=3, padding="causal"), (2, 6, 2), (2, 0)),
    (dict(kernel_size=2, padding="causal", dilation_rate=3), (1, 8, 2), (3, 0)),
    (dict(kernel_size=2, dilation_rate=2, strides=1), (2, 6, 1), (0, 0)),
]


@pytest.mark.parametrize("kwargs,shape,pads", CONV1D_CASES, ids=str)
def test_conv1d_equals_its_definition(kwargs, shape, pads):
    with floatx("float64"):
        layer = layers.Conv1D(3, **kwargs, use_bias=False)
        x = _x(*shape, seed=1).astype("float64")
        y = layer(x)
    expected = conv1d_by_loops(x, layer.kernel.numpy(), layer.strides[0], pads,
                               layer.dilation_rate[0])
    _close(y, expected, atol=1e-12)
    assert y.shape == layer.compute_output_shape(shape)


def test_conv1d_causal_output_never_sees_the_future():
    x = _x(1, 6, 2, seed=2)
    layer = layers.Conv1D(2, 3, padding="causal")
    y = layer(x).numpy()
    x_later = x.copy()
    x_later[:, 4:] += 10.0  # change steps 4 and 5 only
    _close(layer(x_later).numpy()[:, :4], y[:, :4])


@pytest.mark.parametrize("kwargs,shape", [
    (dict(kernel_size=3), (2, 6, 2)),
    (dict(kernel_size=2, strides=2, padding="same", activation="tanh"), (2, 7, 3)),
    (dict(kernel_size=3, padding="causal", dilation_rate=2), (1, 7, 2)),
    (dict(kernel_size=2, data_format="channels_first", activation="sigmoid"), (2, 3, 5)),
    (dict(kernel_size=2, padding="causal", data_format="channels_first"), (2, 2, 5)),
], ids=str)
def test_conv1d_gradients_wrt_input_kernel_and_bias(kwargs, shape):
    with floatx("float64"):
        layer = layers.Conv1D(2, **kwargs)
        layer.build(shape)
        layer.bias.assign(_x(2, seed=3))
        layer_gradient_check(layer, _x(*shape, seed=4))


def test_conv1d_channels_first_equals_channels_last_transposed():
    x = _x(2, 3, 8, seed=5)
    first = layers.Conv1D(4, 3, padding="causal", data_format="channels_first")
    last = layers.Conv1D(4, 3, padding="causal")
    last.build((None, 8, 3))
    first.build((None, 3, 8))
    first.set_weights(last.get_weights())
    _close(first(x), np.transpose(last(np.transpose(x, (0, 2, 1))).numpy(), (0, 2, 1)))


def test_conv1d_weights_config_and_errors():
    conv = layers.Conv1D(5, 3, name="conv_a")
    conv.build((None, 10, 4))
    assert [w.path for w in conv.weights] == ["conv_a/kernel", "conv_a/bias"]
    assert [w.shape for w in conv.weights] == [(3, 4, 5), (5,)]
    config = _round_trip(layers.Conv1D(2, 4, strides=2, padding="CAUSAL")).get_config()
    assert (config["kernel_size"], config["strides"], config["padding"]) == ((4,), (2,), "causal")
    assert layers.Convolution1D is layers.Conv1D
    with pytest.raises(ValueError, match=r"layer 'conv_a'.*min_ndim=3.*\(2, 5\)"):
        conv(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match=r"layer 'conv_a'.*axis -1 .* value 4"):
        conv(np.zeros((2, 10, 3), "float32"))
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        layers.Conv1D(2, 5).build((None, 4, 1))
    with pytest.raises(ValueError, match="`padding` argument must be a list/tuple or one of"):
        layers.Conv1D(2, 3, padding="full")
    with pytest.raises(ValueError, match="`padding` argument"):
        layers.Conv2D(2, 3, padding="causal")  # causal is for 1-D only, as in Keras
    with pytest.raises(ValueError, match="`kernel_size` argument must be a tuple of 1"):
        layers.Conv1D(2, (3, 3))
    with pytest.raises(ValueError, match="groups=2, but the input has 3 channels"):
        layers.Conv1D(4, 3, groups=2).build((None, 8, 3))


# --- 1-D pooling -------------------------------------------------------------------------------

@pytest.mark.parametrize("name,kwargs", [
    ("MaxPooling1D", dict()), ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same")),
    ("MaxPooling1D", dict(pool_size=2, data_format="channels_first")),
    ("AveragePooling1D", dict(pool_size=2)),
    ("AveragePooling1D", dict(pool_size=3, strides=1, padding="same")),
    ("AveragePooling1D", dict(pool_size=2, strides=3, data_format="channels_first")),
], ids=str)
def test_pooling1d_gradients_and_shapes(name, kwargs):
    with floatx("float64"):
        layer = getattr(layers, name)(**kwargs)
        x = _x(2, 7, 3, seed=6)  # distinct values: no tied maxima
        layer_gradient_check(layer, x)
        assert layer(x).shape == layer.compute_output_shape((2, 7, 3))


def test_pooling1d_values():
    x = np.array([1, 5, 2, 0, 3, 4, -1], "float32")[None, :, None]
    np.testing.assert_array_equal(layers.MaxPooling1D()(x).numpy().ravel(), [5, 2, 4])
    # "same": one -inf pad each side; windows [pad 1 5] [5 2 0] [0 3 4] [4 -1 pad]
    np.testing.assert_array_equal(layers.MaxPooling1D(3, 2, "same")(x).numpy().ravel(),
                                  [5, 5, 4, 4])
    _close(layers.AveragePooling1D(2)(x).numpy().ravel(), [3, 1, 3.5])
    _close(layers.AveragePooling1D(2, padding="same")(x).numpy().ravel(), [3, 1, 3.5, -1])


def test_pooling1d_config_aliases_and_errors():
    pool = _round_trip(layers.MaxPooling1D(strides=1, padding="same"))
    assert (pool.pool_size, pool.strides, pool.padding) == ((2,), (1,), "same")
    assert layers.MaxPool1D is layers.MaxPooling1D
    assert layers.AvgPool1D is layers.AveragePooling1D
    with pytest.raises(TypeError):
        layers.AveragePooling1D()  # no default pool_size, as in Keras
    with pytest.raises(ValueError, match=r"layer 'pool_a'.*ndim=3.*\(2, 6\)"):
        layers.MaxPooling1D(name="pool_a")(np.zeros((2, 6), "float32"))
    with pytest.raises(ValueError, match=r"Layer 'pool_b' \(AveragePooling1D, pool_size \(3,\)"
                                         r"\) cannot pool input of shape \(1, 2, 1\)"):
        layers.AveragePooling1D(3, name="pool_b")(np.zeros((1, 2, 1), "float32"))
    assert layers.MaxPooling1D(3).compute_output_shape((None, None, 4)) == (None, None, 4)
    assert layers.MaxPooling1D(3).compute_output_shape((None, 10, 4)) == (None, 3, 4)


# --- Dot ---------------------------------------------------------------------------------------

# (axes, shape of a, shape of b, the einsum it is)
DOT_CASES = [
    (1, (3, 4), (3, 4), "ni,ni->n"),
    (-1, (2, 3, 4), (2, 5, 4), "nak,nbk->nab"),
    ((2, 1), (2, 3, 4), (2, 4, 5), "nak,nkb->nab"),
    ((1, 2), (2, 3, 4, 2), (2, 5, 3), "nkab,nck->nabc"),
    ((2, 1), (2, 3, 4), (2, 4), "nak,nk->na"),
    ((1, 1), (2, 4), (2, 4, 3), "nk,nkb->nb"),
]


@pytest.mark.parametrize("axes,shape_a,shape_b,spec", DOT_CASES, ids=str)
def test_dot_equals_einsum_and_its_gradients(axes, shape_a, shape_b, spec):
    a, b = _x(*shape_a, seed=7).astype("float64"), _x(*shape_b, seed=8).astype("float64")
    expected = np.einsum(spec, a, b)
    if expected.ndim == 1:
        expected = expected[:, None]  # Keras keeps a feature axis: (batch, 1)
    layer = layers.Dot(axes)
    _close(layer([a, b]), expected, atol=1e-12)
    assert layer.compute_output_shape([shape_a, shape_b]) == expected.shape
    gradient_check(lambda a, b: layers.Dot(axes)([a, b]), a, b)
    gradient_check(lambda a, b: layers.Dot(axes, normalize=True)([a, b]), a, b)


def test_dot_normalize_is_the_cosine_similarity():
    a, b = _x(4, 5, seed=9), _x(4, 5, seed=10)
    cosine = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    _close(layers.Dot(axes=1, normalize=True)([a, b]).numpy()[:, 0], cosine)
    _close(layers.dot([a, b], axes=1), np.sum(a * b, axis=1, keepdims=True))


def test_dot_config_shapes_and_errors():
    layer = _round_trip(layers.Dot(axes=(1, 2), normalize=True))
    assert layer.axes == (1, 2) and layer.normalize
    out = layers.Dot(-1)([minikeras.Input((None, 4)), minikeras.Input((5, 4))])
    assert out.shape == (None, None, 5)
    with pytest.raises(TypeError, match="Invalid type for argument `axes`"):
        layers.Dot(axes="1")
    with pytest.raises(ValueError, match="it should contain two elements"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="list elements should be integers"):
        layers.Dot(axes=(1, 2.0))
    with pytest.raises(ValueError, match=r"Incompatible input shapes: axis values 3 \(at axis "
                                         r"1\) != 4 \(at axis 1\)"):
        layers.Dot(1)([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="should be called on a list of 2 inputs"):
        layers.Dot(1)([np.zeros((2, 3))] * 3)


# --- reshaping ---------------------------------------------------------------------------------

def _up2d(x, size, data_format):
    axis = 2 if data_format == "channels_first" else 1
    return np.repeat(np.repeat(x, size[0], axis=axis), size[1], axis=axis + 1)


# (layer, input shape, the same thing in NumPy)
RESHAPING_CASES = [
    (lambda: layers.RepeatVector(3), (2, 4), lambda x: np.repeat(x[:, None, :], 3, axis=1)),
    (lambda: layers.Permute((2, 1)), (2, 3, 4), lambda x: x.transpose(0, 2, 1)),
    (lambda: layers.Permute((3, 1, 2)), (2, 3, 4, 2), lambda x: x.transpose(0, 3, 1, 2)),
    (lambda: layers.ZeroPadding1D(), (2, 3, 2), lambda x: np.pad(x, ((0, 0), (1, 1), (0, 0)))),
    (lambda: layers.ZeroPadding1D((0, 2), data_format="channels_first"), (2, 3, 2),
     lambda x: np.pad(x, ((0, 0), (0, 0), (0, 2)))),
    (lambda: layers.ZeroPadding2D(((1, 0), (2, 1))), (2, 3, 2, 2),
     lambda x: np.pad(x, ((0, 0), (1, 0), (2, 1), (0, 0)))),
    (lambda: layers.ZeroPadding2D((1, 2), data_format="channels_first"), (1, 2, 3, 2),
     lambda x: np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)))),
    (lambda: layers.Cropping1D((1, 2)), (2, 6, 2), lambda x: x[:, 1:4]),
    (lambda: layers.Cropping1D((2, 0)), (2, 6, 2), lambda x: x[:, 2:]),
    (lambda: layers.Cropping2D(((1, 0), (0, 2))), (2, 4, 5, 2), lambda x: x[:, 1:, :3]),
    (lambda: layers.Cropping2D(1, data_format="channels_first"), (1, 2, 4, 5),
     lambda x: x[:, :, 1:3, 1:4]),
    (lambda: layers.UpSampling1D(3), (2, 3, 2), lambda x: np.repeat(x, 3, axis=1)),
    (lambda: layers.UpSampling2D((2, 3)), (2, 2, 3, 2), lambda x: _up2d(x, (2, 3), "")),
    (lambda: layers.UpSampling2D(2, data_format="channels_first"), (1, 2, 2, 3),
     lambda x: _up2d(x, (2, 2), "channels_first")),
]


@pytest.mark.parametrize("make,shape,numpy_fn", RESHAPING_CASES, ids=str)
def test_reshaping_values_shapes_and_gradients(make, shape, numpy_fn):
    x = _x(*shape, seed=11)
    layer = make()
    y = layer(x)
    np.testing.assert_array_equal(y.numpy(), numpy_fn(x))
    assert tuple(layer.compute_output_shape(shape)) == y.shape
    assert make()(minikeras.Input(shape[1:])).shape == (None, *y.shape[1:])
    _round_trip(layer)
    with floatx("float64"):
        layer_gradient_check(make(), x)


def test_reshaping_unknown_sizes_stay_none():
    assert layers.ZeroPadding1D(2).compute_output_shape((None, None, 3)) == (None, None, 3)
    assert layers.Cropping2D(1).compute_output_shape((None, None, 5, 2)) == (None, None, 3, 2)
    assert layers.UpSampling1D().compute_output_shape((None, None, 3)) == [None, None, 3]
    assert layers.UpSampling2D().compute_output_shape((4, 3, None, 2)) == (4, 6, None, 2)
    assert layers.Permute((2, 1)).compute_output_shape((None, None, 3)) == (None, 3, None)


def test_reshaping_errors():
    with pytest.raises(TypeError, match="Expected an integer value for `n`"):
        layers.RepeatVector(2.0)
    with pytest.raises(ValueError, match="Argument `n` should be a positive integer"):
        layers.RepeatVector(0)
    with pytest.raises(ValueError, match="must be consecutive and start from 1"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match="`padding` should have two elements"):
        layers.ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match="1st entry of padding"):
        layers.ZeroPadding2D(((1, 2, 3), 1))
    with pytest.raises(ValueError, match="`cropping` cannot be negative"):
        layers.Cropping2D(-1)
    with pytest.raises(ValueError, match="must be smaller than the input length"):
        layers.Cropping1D((2, 3))(np.zeros((1, 5, 2), "float32"))
    with pytest.raises(ValueError, match="should be smaller than the corresponding spatial"):
        layers.Cropping2D(((2, 2), (0, 0))).compute_output_shape((None, 4, 5, 1))
    with pytest.raises(TypeError, match="Expected an integer value for `size`"):
        layers.UpSampling1D(size=(2,))
    with pytest.raises(NotImplementedError, match="interpolation='bilinear'.*not implemented"):
        layers.UpSampling2D(interpolation="bilinear")
    with pytest.raises(ValueError, match=r"layer 'rv'.*expected ndim=2"):
        layers.RepeatVector(2, name="rv")(np.zeros((2, 3, 4), "float32"))


# --- dropout variants --------------------------------------------------------------------------

@pytest.mark.parametrize("make,shape,shared_axes", [
    (lambda: layers.SpatialDropout1D(0.5, seed=1), (4, 6, 8), (1,)),
    (lambda: layers.SpatialDropout2D(0.5, seed=2), (4, 3, 5, 8), (1, 2)),
    (lambda: layers.SpatialDropout2D(0.5, data_format="channels_first", seed=3), (4, 8, 3, 5),
     (2, 3)),
    (lambda: layers.SpatialDropout3D(0.5, seed=1), (6, 2, 3, 2, 8), (1, 2, 3)),
    (lambda: layers.SpatialDropout3D(0.5, data_format="channels_first", seed=1),
     (6, 8, 2, 3, 2), (2, 3, 4)),
], ids=["1d", "2d", "2d_channels_first", "3d", "3d_channels_first"])
def test_spatial_dropout_drops_whole_channels(make, shape, shared_axes):
    layer = make()
    x = np.abs(_x(*shape, seed=12)) + 1.0
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: the identity
    t = minikeras.Tensor(x)
    with minikeras.GradientTape() as tape:
        tape.watch(t)
        y = layer(t, training=True)
        total = ops.sum(y)
    ratio = y.numpy() / x
    assert set(np.unique(ratio).round(6)) <= {0.0, 2.0}  # dropped, or kept and scaled by 1/(1-p)
    mask = ratio[(slice(None),) + tuple(slice(0, 1) if i in shared_axes else slice(None)
                                         for i in range(1, len(shape)))]
    np.testing.assert_array_equal(ratio, np.broadcast_to(mask, shape))  # one draw per channel
    assert 0 < (ratio == 0).mean() < 1
    _close(tape.gradient(total, t), ratio)  # d y / d x = mask / (1 - rate)


def test_spatial_dropout_config_and_errors():
    layer = layers.SpatialDropout2D(0.3, seed=4, name="sd")
    assert layer.get_config() == {"rate": 0.3, "seed": 4, "name": "sd", "dtype": "float32",
                                  "data_format": "channels_last"}
    _round_trip(layer)
    with pytest.raises(TypeError):
        layers.SpatialDropout1D(0.5, trainable=False)  # Keras 3.15 takes no other argument
    with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
        layers.SpatialDropout1D(1.5)
    with pytest.raises(ValueError, match=r"expected ndim=3"):
        layers.SpatialDropout1D(0.5)(np.zeros((2, 3), "float32"))


def test_alpha_dropout_formula_statistics_and_gradient():
    rate = 0.2
    layer = layers.AlphaDropout(rate, seed=5)
    x = _x(200, 100, seed=13)  # mean 0, variance 1: SELU's fixed point
    np.testing.assert_array_equal(layer(x).numpy(), x)
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    b = -a * alpha_p * rate
    t = minikeras.Tensor(x)
    with minikeras.GradientTape() as tape:
        tape.watch(t)
        y = layer(t, training=True)
    y = y.numpy()
    dropped = np.isclose(y, a * alpha_p + b)
    _close(y[~dropped], a * x[~dropped] + b, atol=1e-5)
    assert abs(dropped.mean() - rate) < 0.02
    assert abs(y.mean()) < 0.05 and abs(y.var() - 1) < 0.05  # mean 0 and variance 1 kept
    with minikeras.GradientTape() as tape:
        tape.watch(t)
        y2 = layer(t, training=True)
        total = ops.sum(y2)
    keep = ~np.isclose(y2.numpy(), a * alpha_p + b)
    _close(tape.gradient(total, t), a * keep)  # d y / d x = a · keep


def test_alpha_dropout_noise_shape_and_config():
    layer = layers.AlphaDropout(0.5, noise_shape=(None, 1), seed=6)
    y = layer(np.ones((5, 7), "float32"), training=True).numpy()
    assert all(len(np.unique(row)) == 1 for row in y)  # one draw per row
    assert _round_trip(layer).get_config()["noise_shape"] == (None, 1)
    with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
        layers.AlphaDropout(-0.1)


# --- normalization -----------------------------------------------------------------------------

@pytest.mark.parametrize("axis,shape", [(-1, (3, 4)), (1, (2, 3, 4)), ([1, 2], (2, 3, 4))],
                         ids=str)
def test_unit_normalization_values_and_gradient(axis, shape):
    x = _x(*shape, seed=14)
    y = layers.UnitNormalization(axis)(x).numpy()
    norm_axes = tuple(axis) if isinstance(axis, list) else axis
    _close(np.sum(y**2, axis=norm_axes), np.ones(np.sum(y**2, axis=norm_axes).shape))
    _close(y, x / np.sqrt(np.sum(x**2, axis=norm_axes, keepdims=True)))
    with floatx("float64"):
        layer_gradient_check(layers.UnitNormalization(axis), x)


def test_unit_normalization_zero_vector_config_and_errors():
    np.testing.assert_array_equal(layers.UnitNormalization()(np.zeros((2, 3))).numpy(), 0)
    assert _round_trip(layers.UnitNormalization((1, 2))).axis == [1, 2]
    with pytest.raises(TypeError, match="expected an int or a list/tuple of ints"):
        layers.UnitNormalization(axis="1")
    with pytest.raises(ValueError, match=r"Axis 3 is out of bounds for input shape"):
        layers.UnitNormalization(3).compute_output_shape((None, 4))


def group_norm_numpy(x, groups, gamma, beta, epsilon=1e-3):
    """Channels last: each sample's channels split into groups, each group standardized over
    its channels and all positions."""
    n, c = x.shape[0], x.shape[-1]
    g = x.reshape(n, -1, groups, c // groups)
    mean = g.mean(axis=(1, 3), keepdims=True)
    var = g.var(axis=(1, 3), keepdims=True)
    return ((g - mean) / np.sqrt(var + epsilon)).reshape(x.shape) * gamma + beta


@pytest.mark.parametrize("groups,shape", [(2, (3, 4)), (3, (2, 5, 6)), (-1, (2, 3, 4)),
                                          (1, (2, 2, 3, 4))], ids=str)
def test_group_normalization_values_and_gradients(groups, shape):
    x = _x(*shape, seed=15, scale=2.0, shift=1.0).astype("float64")
    gamma, beta = _x(shape[-1], seed=16), _x(shape[-1], seed=17)
    with floatx("float64"):
        layer = layers.GroupNormalization(groups)
        layer.build(shape)
        layer.set_weights([gamma, beta])
        _close(layer(x), group_norm_numpy(x, layer.groups, gamma, beta), atol=1e-10)
        layer_gradient_check(layer, x)


def test_group_normalization_channels_first_and_no_weights():
    x = _x(2, 6, 5, seed=18)
    first = layers.GroupNormalization(3, axis=1, center=False, scale=False)
    last = layers.GroupNormalization(3, center=False, scale=False)
    _close(first(x), np.transpose(last(np.transpose(x, (0, 2, 1))).numpy(), (0, 2, 1)),
           atol=1e-5)
    assert first.weights == []
    with floatx("float64"):
        layer_gradient_check(layers.GroupNormalization(2, axis=1, center=False), x)


def test_group_normalization_weights_config_and_errors():
    layer = layers.GroupNormalization(-1, name="gn")
    layer.build((None, 5, 6))
    assert [w.path for w in layer.weights] == ["gn/gamma", "gn/beta"]
    assert layer.groups == 6 and layer.get_config()["groups"] == 6  # -1 became the channels
    _round_trip(layers.GroupNormalization(4, epsilon=1e-5, gamma_regularizer="l2"))
    with pytest.raises(ValueError, match="expected a positive integer"):
        layers.GroupNormalization(0)
    with pytest.raises(ValueError, match=r"Number of groups \(4\) cannot be more than"):
        layers.GroupNormalization(4).build((None, 3))
    with pytest.raises(ValueError, match=r"Number of groups \(4\) must be a multiple"):
        layers.GroupNormalization(4).build((None, 6))
    with pytest.raises(ValueError, match="should have a defined dimension"):
        layers.GroupNormalization(2).build((None, None))


# --- Masking -----------------------------------------------------------------------------------

def test_masking_zeroes_masked_timesteps_and_computes_the_mask():
    x = _x(2, 4, 3, seed=19)
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    x[1, 0, 0] = 0.0  # one zero feature does not mask a timestep
    layer = layers.Masking()
    y = layer(x).numpy()
    np.testing.assert_array_equal(y, x)  # masked timesteps were already the mask value 0
    np.testing.assert_array_equal(layer.compute_mask(x).numpy(),
                                  [[True, False, True, True], [True, True, True, False]])
    x[:, 2] = -1.0
    masked = layers.Masking(mask_value=-1.0)
    y = masked(x).numpy()
    np.testing.assert_array_equal(y[:, 2], 0.0)  # zeroed, as Keras
    np.testing.assert_array_equal(np.delete(y, 2, axis=1), np.delete(x, 2, axis=1))
    assert _round_trip(masked).mask_value == -1.0
    # d y / d x is 1 where kept, 0 where masked (a finite difference cannot check it there:
    # moving a masked value off mask_value unmasks its timestep)
    t = minikeras.Tensor(x)
    with minikeras.GradientTape() as tape:
        tape.watch(t)
        total = ops.sum(masked(t))
    np.testing.assert_array_equal(tape.gradient(total, t).numpy(),
                                  np.broadcast_to((x != -1).any(axis=-1)[..., None], x.shape))
    with floatx("float64"):
        layer_gradient_check(layers.Masking(-1.0), _x(2, 4, 3, seed=20))  # nothing masked


# --- a model using several of them trains and saves --------------------------------------------

def test_sequence_model_trains_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 12, 3)).astype("float32")
    y = (x[:, :6, 0].mean(axis=1) > x[:, 6:, 0].mean(axis=1)).astype("float32")
    model = minikeras.Sequential([
        minikeras.Input((12, 3)), layers.Masking(), layers.ZeroPadding1D(1),
        layers.Conv1D(4, 3, padding="causal", activation="relu"), layers.MaxPooling1D(2),
        layers.GroupNormalization(2), layers.UpSampling1D(2), layers.Cropping1D((1, 1)),
        layers.SpatialDropout1D(0.1), layers.Conv1D(4, 3, strides=2),
        layers.AveragePooling1D(2, padding="same"), layers.Permute((2, 1)), layers.Flatten(),
        layers.UnitNormalization(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=minikeras.optimizers.Adam(0.02), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=10, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(str(tmp_path / "seq.keras"))
    loaded = minikeras.saving.load_model(str(tmp_path / "seq.keras"))
    _close(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
