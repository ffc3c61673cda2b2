"""The 3-D reshaping layers (ZeroPadding3D, Cropping3D, UpSampling3D), SpatialDropout3D and
RMSNormalization, with NumPy only: values against their definitions written in NumPy, float64
finite-difference gradient checks, output shapes (with None), config round trips, errors that
say what is wrong, and a model with all of them that trains and saves."""

import numpy as np
import pytest
from gradcheck import floatx, layer_gradient_check
from test_layers_extra import _close, _fresh_session, _round_trip, _x  # noqa: F401 (fixture)

import minikeras
from minikeras import layers, ops

CF = {"data_format": "channels_first"}


# --- ZeroPadding3D, Cropping3D, UpSampling3D -------------------------------------------------

def _up3d(x, size, first_axis):
    for i, s in enumerate(size):
        x = np.repeat(x, s, axis=first_axis + i)
    return x


# (layer, input shape, the same thing in NumPy)
RESHAPING_3D_CASES = [
    (lambda: layers.ZeroPadding3D(), (2, 2, 3, 2, 2),
     lambda x: np.pad(x, ((0, 0), (1, 1), (1, 1), (1, 1), (0, 0)))),
    (lambda: layers.ZeroPadding3D(((1, 0), (0, 2), (2, 1))), (2, 2, 3, 2, 2),
     lambda x: np.pad(x, ((0, 0), (1, 0), (0, 2), (2, 1), (0, 0)))),
    (lambda: layers.ZeroPadding3D((1, 0, 2), **CF), (1, 2, 2, 3, 2),
     lambda x: np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0), (2, 2)))),
    (lambda: layers.ZeroPadding3D(2), (1, 1, 2, 1, 3),
     lambda x: np.pad(x, ((0, 0), (2, 2), (2, 2), (2, 2), (0, 0)))),
    (lambda: layers.Cropping3D(), (2, 3, 4, 5, 2), lambda x: x[:, 1:-1, 1:-1, 1:-1]),
    (lambda: layers.Cropping3D(((1, 0), (0, 2), (2, 1))), (2, 3, 4, 5, 2),
     lambda x: x[:, 1:, :2, 2:4]),
    (lambda: layers.Cropping3D((0, 1, 2), **CF), (1, 2, 3, 4, 5),
     lambda x: x[:, :, :, 1:3, 2:3]),
    (lambda: layers.Cropping3D(0), (1, 2, 2, 2, 1), lambda x: x),
    (lambda: layers.UpSampling3D(), (2, 1, 2, 2, 3), lambda x: _up3d(x, (2, 2, 2), 1)),
    (lambda: layers.UpSampling3D((1, 3, 2)), (2, 2, 2, 3, 2), lambda x: _up3d(x, (1, 3, 2), 1)),
    (lambda: layers.UpSampling3D(2, **CF), (1, 2, 2, 1, 3), lambda x: _up3d(x, (2, 2, 2), 2)),
]


@pytest.mark.parametrize("make,shape,numpy_fn", RESHAPING_3D_CASES, ids=str)
def test_reshaping_3d_values_shapes_and_gradients(make, shape, numpy_fn):
    x = _x(*shape, seed=11)
    layer = make()
    y = layer(x)
    np.testing.assert_array_equal(y.numpy(), numpy_fn(x))
    assert tuple(layer.compute_output_shape(shape)) == y.shape
    assert make()(minikeras.Input(shape[1:])).shape == (None, *y.shape[1:])
    assert layer.weights == []
    _round_trip(layer)
    with floatx("float64"):
        layer_gradient_check(make(), x)


def test_reshaping_3d_gradients_move_back():
    """The gradient of a padded zero is dropped, of a cropped value 0, of a repeated value the
    sum of its copies'."""
    x = minikeras.Tensor(_x(1, 2, 2, 2, 1, seed=3))
    with minikeras.GradientTape(persistent=True) as tape:
        tape.watch(x)
        padded = ops.sum(layers.ZeroPadding3D(1)(x))
        cropped = ops.sum(layers.Cropping3D(((1, 0), (0, 0), (0, 1)))(x))
        upsampled = ops.sum(layers.UpSampling3D((1, 2, 3))(x))
    np.testing.assert_array_equal(tape.gradient(padded, x), np.ones(x.shape))
    expected = np.zeros(x.shape)
    expected[:, 1:, :, :1] = 1
    np.testing.assert_array_equal(tape.gradient(cropped, x), expected)
    np.testing.assert_array_equal(tape.gradient(upsampled, x), np.full(x.shape, 6.0))


def test_reshaping_3d_unknown_sizes_stay_none():
    assert layers.ZeroPadding3D(2).compute_output_shape((None, None, 3, 4, 2)) == (
        None, None, 7, 8, 2)
    assert layers.ZeroPadding3D(1, **CF).compute_output_shape((None, 2, 3, None, 5)) == (
        None, 2, 5, None, 7)
    assert layers.Cropping3D(1).compute_output_shape((None, 4, None, 5, 2)) == (
        None, 2, None, 3, 2)
    assert layers.UpSampling3D((2, 3, 1)).compute_output_shape((4, None, 2, 5, 1)) == (
        4, None, 6, 5, 1)
    assert layers.UpSampling3D(2, **CF).compute_output_shape((4, 3, None, 2, 1)) == (
        4, 3, None, 4, 2)


def test_reshaping_3d_configs():
    assert layers.ZeroPadding3D((1, 2, 3), name="zp").get_config()["padding"] == (
        (1, 1), (2, 2), (3, 3))
    assert layers.Cropping3D(((1, 2), 0, (3, 0))).get_config()["cropping"] == (
        (1, 2), (0, 0), (3, 0))
    config = layers.UpSampling3D(name="up", data_format="channels_first").get_config()
    assert config["size"] == (2, 2, 2) and config["data_format"] == "channels_first"
    assert "interpolation" not in config  # Keras's UpSampling3D has only "nearest"


def test_reshaping_3d_errors():
    with pytest.raises(ValueError, match=r"`padding` should have 3 elements. Received: \(1, 2\)"):
        layers.ZeroPadding3D((1, 2))
    with pytest.raises(ValueError, match="2nd entry of padding"):
        layers.ZeroPadding3D((1, (1, 2, 3), 1))
    with pytest.raises(ValueError, match=r"`padding` should be either an int, a tuple of 3 ints "
                                         r"\(symmetric_dim1_pad"):
        layers.ZeroPadding3D(1.5)
    with pytest.raises(ValueError, match="`cropping` cannot be negative"):
        layers.Cropping3D(-1)
    with pytest.raises(ValueError, match="3rd entry of cropping"):
        layers.Cropping3D((1, 1, (1, -1)))
    with pytest.raises(ValueError, match="`cropping` should have 3 elements"):
        layers.Cropping3D(((1, 1), (1, 1)))
    with pytest.raises(ValueError, match="should be smaller than the corresponding spatial"):
        layers.Cropping3D((0, (2, 2), 0)).compute_output_shape((None, 5, 4, 5, 1))
    with pytest.raises(ValueError, match=r"Received: inputs.shape=\(1, 2, 3, 3, 1\)"):
        layers.Cropping3D(1)(np.zeros((1, 2, 3, 3, 1), "float32"))
    with pytest.raises(ValueError, match="The `size` argument must be a tuple of 3 integers"):
        layers.UpSampling3D((2, 2))
    with pytest.raises(ValueError, match="do not satisfy `value > 0`"):
        layers.UpSampling3D((2, 0, 1))
    with pytest.raises(ValueError, match="The `data_format` argument must be one of"):
        layers.ZeroPadding3D(data_format="channels_middle")
    with pytest.raises(ValueError, match=r"layer 'up'.*expected ndim=5"):
        layers.UpSampling3D(name="up")(np.zeros((2, 3, 4, 5), "float32"))


# --- SpatialDropout3D --------------------------------------------------------------------------

# (how it drops channels: tests/test_layers_more.py, with the 1-D and 2-D ones)


def test_spatial_dropout_3d_config_and_errors():
    layer = layers.SpatialDropout3D(0.3, seed=4, name="sd")
    assert layer.get_config() == {"rate": 0.3, "seed": 4, "name": "sd", "dtype": "float32",
                                  "data_format": "channels_last"}
    assert layer.noise_shape == (None, 1, 1, 1, None)
    assert layers.SpatialDropout3D(0.3, "channels_first").noise_shape == (None, None, 1, 1, 1)
    _round_trip(layer)
    with pytest.raises(TypeError):
        layers.SpatialDropout3D(0.5, trainable=False)  # Keras 3.15 takes no other argument
    with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
        layers.SpatialDropout3D(1.5)
    with pytest.raises(ValueError, match=r"expected ndim=5"):
        layers.SpatialDropout3D(0.5)(np.zeros((2, 3, 4, 5), "float32"))


# --- RMSNormalization ----------------------------------------------------------------------------

def _rms_numpy(x, scale, axis, epsilon):
    return x / np.sqrt(np.mean(x**2, axis=axis, keepdims=True) + epsilon) * scale


@pytest.mark.parametrize("kwargs,shape,axes", [
    ({}, (4, 5), (-1,)),
    ({"epsilon": 1e-2}, (2, 3, 4), (-1,)),
    ({"axis": [1, 2]}, (2, 3, 4), (1, 2)),
    ({"axis": (-1, -2)}, (2, 3, 4, 5), (-2, -1)),
])
def test_rms_normalization_values_weights_and_gradients(kwargs, shape, axes):
    layer = layers.RMSNormalization(**kwargs)
    x = _x(*shape, seed=5, scale=2.0, shift=0.5)
    layer.build(shape)
    assert [v.path for v in layer.weights] == [f"{layer.name}/scale"]
    assert layer.scale.shape == tuple(shape[a] for a in axes)
    np.testing.assert_array_equal(layer.scale.numpy(), np.ones(layer.scale.shape))
    scale = _x(*layer.scale.shape, seed=6)
    layer.set_weights([scale])
    epsilon = kwargs.get("epsilon", 1e-6)
    _close(layer(x), _rms_numpy(x, scale, axes, epsilon), rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape(shape) == shape
    with floatx("float64"):
        checked = layers.RMSNormalization(**kwargs)
        checked.build(shape)
        checked.set_weights([scale.astype("float64")])
        layer_gradient_check(checked, x)  # input and scale


def test_rms_normalization_of_zeros_and_huge_values_is_finite():
    layer = layers.RMSNormalization()
    np.testing.assert_array_equal(layer(np.zeros((2, 3), "float32")).numpy(), 0.0)
    y = layer(np.full((1, 3), 1e20, "float32")).numpy()  # x² overflows: rsqrt(inf) = 0
    np.testing.assert_array_equal(y, 0.0)  # as TensorFlow gives
    t = minikeras.Tensor(np.zeros((2, 3), "float32"))
    with minikeras.GradientTape() as tape:
        tape.watch(t)
        total = ops.sum(layer(t))
    assert np.all(np.isfinite(tape.gradient(total, t)))  # r = rsqrt(epsilon), finite


def test_rms_normalization_config_and_axis_as_keras():
    layer = layers.RMSNormalization(name="rms")
    assert layer.get_config() == {"name": "rms", "trainable": True,
                                  "dtype": layer.get_config()["dtype"], "axis": -1,
                                  "epsilon": 1e-6}
    layer.build((None, 3))
    assert layer.get_config()["axis"] == [-1]  # build turns axis into a sorted list
    assert _round_trip(layer).get_config() == layer.get_config()
    multi = layers.RMSNormalization(axis=(2, 1))
    assert multi.get_config()["axis"] == (2, 1)
    multi.build((None, 3, 4))
    assert multi.axis == [1, 2] and multi.scale.shape == (3, 4)
    assert layers.RMSNormalization().compute_output_shape([None, 3]) == [None, 3]
    assert layers.RMSNormalization()(minikeras.Input((4, 3))).shape == (None, 4, 3)
    restored = layers.deserialize(layers.serialize(layers.RMSNormalization(epsilon=1e-3)))
    assert type(restored) is layers.RMSNormalization and restored.epsilon == 1e-3
    assert layers.serialize(layer)["module"] == "keras.layers"


def test_rms_normalization_errors():
    with pytest.raises(ValueError, match=r"Axis 3 is out of bounds for input shape \(2, 3\)"):
        layers.RMSNormalization(axis=3).compute_output_shape((2, 3))
    with pytest.raises(ValueError, match=r"Received: axis=\[0, 3\]"):
        layers.RMSNormalization(axis=[0, 3]).compute_output_shape((2, 3))
    with pytest.raises(IndexError, match="Axis -3 is out of bounds"):  # Keras: IndexError too
        layers.RMSNormalization(axis=-3).build((2, 3))


def test_rms_normalization_float64_and_float16():
    with floatx("float64"):
        y = layers.RMSNormalization()(np.ones((2, 3)))
    assert y.dtype == "float64"
    y = layers.RMSNormalization(dtype="float16")(np.full((2, 3), 300.0, "float32"))
    assert y.dtype == "float16"  # computed in float32 (300² overflows float16), cast back
    np.testing.assert_allclose(y.numpy().astype("float32"), 1.0, rtol=1e-3)


# --- a model with all of them trains and saves ---------------------------------------------------

def test_volume_model_trains_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3, 4, 4, 2)).astype("float32")
    y = (x[:, :, :2].mean(axis=(1, 2, 3, 4)) > 0).astype("float32")
    model = minikeras.Sequential([
        minikeras.Input((3, 4, 4, 2)), layers.ZeroPadding3D(((1, 0), 1, (0, 1))),
        layers.UpSampling3D((1, 2, 1)), layers.Cropping3D(((0, 1), (2, 2), 1)),
        layers.SpatialDropout3D(0.2), layers.RMSNormalization(), layers.Flatten(),
        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=minikeras.optimizers.Adam(0.02), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=8, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(model.layers[4].scale.numpy(), 1.0)  # the scale was trained
    model.save(str(tmp_path / "volume.keras"))
    loaded = minikeras.saving.load_model(str(tmp_path / "volume.keras"))
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers]
    _close(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
