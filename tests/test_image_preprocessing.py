"""The image preprocessing layers without TensorFlow: hand-computed resizes and crops, the
geometry of flips, rotations, zooms and shifts, the statistics of the random draws (flip
frequency, factor ranges) with fixed seeds, identity at inference, seeds that repeat,
channels_first, single images, gradients, errors that name the layer, configs that round-trip
and use inside a model. Equality with Keras: compat_tests/test_image_preprocessing_parity.py.
"""

import numpy as np
import pytest
from gradcheck import floatx, layer_gradient_check

import minikeras
from minikeras import layers

RANDOM = {  # name: (args, kwargs), a setting that changes images
    "RandomFlip": ((), {}), "RandomRotation": ((0.2,), {}), "RandomZoom": ((0.3,), {}),
    "RandomTranslation": ((0.3, 0.3), {}), "RandomContrast": ((0.5,), {}),
    "RandomBrightness": ((0.3,), {}), "RandomCrop": ((4, 5), {}),
}


@pytest.fixture(autouse=True)
def _fresh_session():
    minikeras.backend.clear_session()
    yield


def make(name, *args, **kwargs):
    return getattr(layers, name)(*args, **kwargs)


def pictures(n=4, h=6, w=8, c=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, h, w, c)).astype("float32")


def run(layer, x, training=True):
    return np.asarray(layer(x, training=training))


# --- Resizing ------------------------------------------------------------------------------------
def test_resizing_bilinear_matches_the_half_pixel_formula():
    """Width 4 -> 2: output j reads src = (j + 0.5) * 2 - 0.5 = 0.5, 2.5: the mean of the
    neighbours. Width 2 -> 4: src = -0.25, 0.25, 0.75, 1.25 (clamped at the edges)."""
    x = np.array([0, 10, 20, 40], "float32").reshape(1, 1, 4, 1)
    np.testing.assert_allclose(run(layers.Resizing(1, 2), x).ravel(), [5, 30])
    x = np.array([0, 8], "float32").reshape(1, 1, 2, 1)
    np.testing.assert_allclose(run(layers.Resizing(1, 4), x).ravel(), [0, 2, 6, 8])


def test_resizing_nearest_halving_takes_every_second_pixel_from_the_second():
    x = pictures(2, 8, 6)
    out = run(layers.Resizing(4, 3, interpolation="nearest"), x)
    np.testing.assert_array_equal(out, x[:, 1::2, 1::2])


def test_resizing_to_the_same_size_and_of_a_constant_image_change_nothing():
    x = pictures()
    np.testing.assert_array_equal(run(layers.Resizing(6, 8), x), x)
    flat = np.full((2, 5, 7, 3), 3.25, "float32")
    np.testing.assert_allclose(run(layers.Resizing(11, 3), flat), 3.25)


def test_resizing_crop_and_pad_to_aspect_ratio():
    x = pictures(1, 6, 12)
    cropped = run(layers.Resizing(6, 6, crop_to_aspect_ratio=True), x)
    np.testing.assert_array_equal(cropped, x[:, :, 3:9])  # the centred 6x6 window
    padded = run(layers.Resizing(12, 12, pad_to_aspect_ratio=True, fill_value=-1.0), x)
    np.testing.assert_array_equal(padded[:, 3:9], x)  # 3 rows of fill above and below
    assert (padded[:, :3] == -1).all() and (padded[:, 9:] == -1).all()


def test_resizing_channels_first_and_single_images_agree_with_channels_last():
    x = pictures()
    last = run(layers.Resizing(5, 11), x)
    first = run(layers.Resizing(5, 11, data_format="channels_first"), x.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(first, last.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(run(layers.Resizing(5, 11), x[2]), last[2])


def test_resizing_keeps_uint8_rounding_and_saturating():
    x = np.array([[0, 255], [255, 0]], "uint8").reshape(1, 2, 2, 1)
    out = layers.Resizing(3, 3)(x)
    assert out.dtype == "uint8"
    assert np.asarray(out)[0, 1, 1, 0] == 128  # the mean of all four, 127.5, rounds to even


def test_resizing_gradient_is_the_transpose_of_the_resize():
    """Resizing is linear, so central differences with a large step are exact (up to the
    float32 rounding TensorFlow's resize has too)."""
    with floatx("float64"):
        for interpolation in ("bilinear", "nearest", "bicubic"):
            layer = layers.Resizing(5, 3, interpolation=interpolation)
            layer_gradient_check(layer, pictures(2, 3, 4, 2) / 255, eps=0.5, rtol=1e-5,
                                 atol=1e-5)
            layer = layers.Resizing(4, 4, crop_to_aspect_ratio=True)
            layer_gradient_check(layer, pictures(1, 3, 6, 1) / 255, eps=0.5, rtol=1e-5,
                                 atol=1e-5)


def test_resizing_output_shapes():
    assert layers.Resizing(5, 6).compute_output_shape((None, 9, 9, 3)) == (None, 5, 6, 3)
    layer = layers.Resizing(5, 6, data_format="channels_first")
    assert layer.compute_output_shape((3, 9, 9)) == (3, 5, 6)
    assert tuple(layers.Resizing(5, 6)(minikeras.Input((None, None, 3))).shape) == (
        None, 5, 6, 3)


# --- CenterCrop and RandomCrop -------------------------------------------------------------------
def test_center_crop_takes_the_centre_and_resizes_small_images():
    x = pictures(2, 7, 9)
    np.testing.assert_array_equal(run(layers.CenterCrop(3, 4), x), x[:, 2:5, 2:6])
    np.testing.assert_array_equal(run(layers.CenterCrop(3, 4), x, training=False),
                                  x[:, 2:5, 2:6])
    np.testing.assert_array_equal(run(layers.CenterCrop(3, 4, data_format="channels_first"),
                                      x.transpose(0, 3, 1, 2)), x[:, 2:5, 2:6].transpose(
                                          0, 3, 1, 2))
    big = run(layers.CenterCrop(14, 9), x)  # too small: the 7x4.5 -> 7x4 window, resized
    assert big.shape == (2, 14, 9, 3)
    assert big.min() >= x.min() and big.max() <= x.max()


def test_random_crop_windows_lie_in_the_image_and_cover_every_position():
    x = np.arange(6 * 7, dtype="float32").reshape(1, 6, 7, 1)
    layer = layers.RandomCrop(4, 5, seed=11)
    corners = set()
    for _ in range(200):
        out = run(layer, x)[0, :, :, 0]
        top, left = divmod(int(out[0, 0]), 7)
        np.testing.assert_array_equal(out, x[0, top:top + 4, left:left + 5, 0])
        corners.add((top, left))
    assert corners == {(t, s) for t in range(3) for s in range(3)}


def test_random_crop_at_inference_returns_the_images_unchanged_as_keras_does():
    x = pictures(2, 7, 9)
    np.testing.assert_array_equal(run(layers.RandomCrop(4, 5), x, training=False), x)
    pixels = x.astype("uint8")
    assert layers.RandomCrop(4, 5)(pixels, training=False).dtype == "uint8"


def test_random_crop_config_records_a_drawn_seed():
    layer = layers.RandomCrop(4, 5)
    assert isinstance(layer.get_config()["seed"], int)


# --- RandomFlip ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_flips_half_the_images_along_the_mode(mode):
    x = pictures(1000, 2, 3, 1)
    out = run(layers.RandomFlip(mode, seed=3), x)
    flipped = {"horizontal": x[:, :, ::-1], "vertical": x[:, ::-1],
               "horizontal_and_vertical": x[:, ::-1, ::-1]}[mode]
    is_flipped = (out == flipped).all(axis=(1, 2, 3))
    assert (is_flipped | (out == x).all(axis=(1, 2, 3))).all()  # each image one or the other
    assert 0.45 < is_flipped.mean() < 0.55


def test_random_flip_channels_first_draws_the_same_flips():
    x = pictures(16)
    last = run(layers.RandomFlip(seed=5), x)
    first = run(layers.RandomFlip(seed=5, data_format="channels_first"),
                x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(first, last.transpose(0, 3, 1, 2))


# --- RandomRotation, RandomZoom, RandomTranslation -----------------------------------------------
def test_rotation_by_a_quarter_turn_is_rot90_counter_clockwise():
    x = pictures(2, 5, 5)
    out = run(layers.RandomRotation((0.25, 0.25), interpolation="nearest"), x)
    np.testing.assert_array_equal(out, np.rot90(x, k=1, axes=(1, 2)))


def test_rotation_angles_lie_in_the_factor_range():
    layer = layers.RandomRotation((-0.1, 0.05), seed=2)
    angles = layer.get_random_transformation(np.zeros((500, 4, 4, 1)))["angle"]
    assert angles.min() >= -36 and angles.max() < 18
    assert angles.min() < -30 and angles.max() > 12  # it explores the range


def test_zoom_with_factors_reads_a_scaled_grid():
    x = np.arange(5 * 5, dtype="float32").reshape(1, 5, 5, 1)
    # zoom 0.5 about the centre (2, 2): output pixel p reads 0.5 p + 1
    out = run(layers.RandomZoom((-0.5, -0.5), interpolation="bilinear"), x)[0, :, :, 0]
    grid = 0.5 * np.arange(5) + 1
    expected = 5 * grid[:, None] + grid[None, :]
    np.testing.assert_allclose(out, expected)


def test_zoom_factors_lie_in_range_and_width_follows_height_when_none():
    draw = layers.RandomZoom((-0.2, 0.3), seed=1).get_random_transformation(
        np.zeros((400, 4, 4, 1)))
    assert 0.8 <= draw["height_zoom"].min() and draw["height_zoom"].max() < 1.3
    np.testing.assert_array_equal(draw["width_zoom"], draw["height_zoom"])
    draw = layers.RandomZoom(0.2, width_factor=(0.5, 0.6), seed=1).get_random_transformation(
        np.zeros((400, 4, 4, 1)))
    assert 1.5 <= draw["width_zoom"].min() and draw["width_zoom"].max() < 1.6


def test_translation_by_whole_pixels_shifts_and_fills():
    x = pictures(1, 4, 8, 1)
    layer = layers.RandomTranslation((0.25, 0.25), (-0.25, -0.25), fill_mode="constant",
                                     fill_value=-1.0)
    out = run(layer, x)[0, :, :, 0]
    np.testing.assert_allclose(out[1:, :6], x[0, :3, 2:, 0])  # down 1, left 2
    assert (out[0] == -1).all() and (out[:, 6:] == -1).all()


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "nearest"])
def test_shift_fill_modes(fill_mode):
    row = np.arange(1, 5, dtype="float32").reshape(1, 1, 4, 1)  # [1 2 3 4]
    layer = layers.RandomTranslation(0.0, (0.5, 0.5), fill_mode=fill_mode,
                                     interpolation="nearest")
    out = run(layer, row).ravel()  # right by 2: positions 0, 1 read -2, -1
    expected = {"reflect": [2, 1, 1, 2], "wrap": [3, 4, 1, 2], "nearest": [1, 1, 1, 2]}
    np.testing.assert_array_equal(out, expected[fill_mode])


def test_geometric_layers_keep_values_in_the_input_range():
    x = pictures(8)
    for layer in (layers.RandomRotation(0.5, seed=1), layers.RandomZoom(0.5, seed=1),
                  layers.RandomTranslation(0.5, 0.5, seed=1)):
        out = run(layer, x)
        assert out.shape == x.shape and out.dtype == np.float32
        assert out.min() >= x.min() - 1e-3 and out.max() <= x.max() + 1e-3
        assert not np.allclose(out, x)


# --- RandomContrast and RandomBrightness ---------------------------------------------------------
def test_contrast_scales_deviations_from_each_channel_mean():
    x = np.random.default_rng(0).uniform(100, 150, (300, 4, 4, 2)).astype("float32")
    layer = layers.RandomContrast(0.5, seed=4)  # factor (0, 0.5): c in [1, 1.5)
    out = run(layer, x)
    dev_in = x - x.mean(axis=(1, 2), keepdims=True)
    dev_out = out - x.mean(axis=(1, 2), keepdims=True)
    c = (dev_out * dev_in).sum(axis=(1, 2, 3)) / (dev_in ** 2).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(dev_out, dev_in * c[:, None, None, None], atol=1e-3)  # one c
    assert c.min() >= 1 - 1e-4 and c.max() < 1.5
    np.testing.assert_allclose(out.mean(axis=(1, 2)), x.mean(axis=(1, 2)), rtol=1e-5)


def test_contrast_clips_to_the_value_range():
    x = np.array([0.0, 1.0], "float32").reshape(1, 1, 2, 1)
    out = run(layers.RandomContrast((-1.0, 1.0), value_range=(0, 1)), x)  # c = 2
    np.testing.assert_allclose(out.ravel(), [0, 1])  # -0.5, 1.5 clipped


def test_brightness_adds_one_offset_an_image_in_range():
    x = np.full((500, 2, 2, 3), 100.0, "float32")
    out = run(layers.RandomBrightness((-0.1, 0.2), seed=9), x)
    delta = out - x
    assert (delta == delta[:, :1, :1, :1]).all()
    assert delta.min() >= -25.5 - 1e-4 and delta.max() < 51
    assert delta.min() < -20 and delta.max() > 45
    top = run(layers.RandomBrightness((1.0, 1.0), value_range=(0, 255)), x)
    np.testing.assert_array_equal(top, 255)


# --- behaviour every random layer shares ---------------------------------------------------------
@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_layers_are_the_identity_at_inference(name):
    args, kwargs = RANDOM[name]
    x = pictures()
    layer = make(name, *args, **kwargs)
    np.testing.assert_array_equal(run(layer, x, training=False), x)
    model = minikeras.Sequential([minikeras.Input((6, 8, 3)), make(name, *args, **kwargs)])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_layers_augment_by_default_and_repeat_with_a_seed(name):
    args, kwargs = RANDOM[name]
    x = pictures(8)
    a, b = make(name, *args, seed=21, **kwargs), make(name, *args, seed=21, **kwargs)
    first, again = run(a, x, training=None), run(b, x, training=None)
    np.testing.assert_array_equal(first, again)  # the same seed, the same stream
    assert not np.array_equal(run(a, x), first)  # the stream moves on
    if first.shape == x.shape:
        assert not np.array_equal(first, x)  # called on data, a layer augments (Keras)
    other = run(make(name, *args, seed=22, **kwargs), x)
    assert not np.array_equal(other, first)


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_layers_take_single_images_and_channels_first(name):
    args, kwargs = RANDOM[name]
    x = pictures(1)
    single = run(make(name, *args, seed=8, **kwargs), x[0])
    batch = run(make(name, *args, seed=8, **kwargs), x)
    np.testing.assert_allclose(single, batch[0], rtol=1e-6, atol=1e-4)
    first = run(make(name, *args, seed=8, data_format="channels_first", **kwargs),
                x.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(first, batch.transpose(0, 3, 1, 2), rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_configs_round_trip(name):
    args, kwargs = RANDOM[name]
    layer = make(name, *args, seed=3, **kwargs)
    config = layer.get_config()
    assert config["data_format"] == "channels_last"
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == config


@pytest.mark.parametrize("shape", [(6, 8), (1, 2, 6, 8, 3)])
def test_wrong_ranks_are_refused_naming_the_layer(shape):
    with pytest.raises(ValueError, match=r"random_flip.*rank 3 \(single image\) or 4.*"):
        layers.RandomFlip(name="random_flip")(np.zeros(shape, "float32"))


@pytest.mark.parametrize("make_layer, message", [
    (lambda: layers.RandomRotation(1.5), r"RandomRotation.*\[-1, 1\].*factor=1.5"),
    (lambda: layers.RandomRotation(0.1, fill_mode="mirror"), r"RandomRotation.*fill_mode"),
    (lambda: layers.RandomZoom(-1.0), r"RandomZoom.*\(-1.0, 1.0\].*height_factor=-1.0"),
    (lambda: layers.RandomTranslation(0.1, 2), r"RandomTranslation.*width_factor=2"),
    (lambda: layers.RandomContrast(-0.2), r"RandomContrast.*\[0, 1\].*factor=-0.2"),
    (lambda: layers.RandomBrightness(0.1, value_range=1), r"RandomBrightness.*value_range=1"),
    (lambda: layers.RandomFlip("diagonal"), r"RandomFlip.*mode.*diagonal"),
    (lambda: layers.Resizing(0, 4), r"Resizing.*height.*0"),
    (lambda: layers.Resizing(4, 4, interpolation="cubic"), r"Resizing.*interpolation=cubic"),
    (lambda: layers.Resizing(4, 4, fill_mode="reflect"), r"Resizing.*fill_mode=reflect"),
    (lambda: layers.Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True),
     r"Resizing.*Only one"),
    (lambda: layers.CenterCrop(4, 2.5), r"CenterCrop.*width.*2.5"),
])
def test_bad_arguments_name_the_layer_argument_and_value(make_layer, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        make_layer()


def test_augmentation_model_fits_and_predicts():
    x = pictures(16, 10, 10, 3) / 255
    y = np.eye(2, dtype="float32")[np.arange(16) % 2]
    model = minikeras.Sequential([
        minikeras.Input((10, 10, 3)),
        layers.Resizing(8, 8), layers.RandomFlip("horizontal", seed=1),
        layers.RandomRotation(0.1, seed=1), layers.RandomZoom(0.1, seed=1),
        layers.RandomTranslation(0.1, 0.1, seed=1), layers.RandomContrast(0.2, seed=1),
        layers.RandomBrightness(0.1, value_range=(0, 1), seed=1), layers.RandomCrop(6, 6, seed=1),
        layers.CenterCrop(6, 6), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(2),
    ])
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(),
                                                        strict=True))
    # predict: every random layer is the identity, RandomCrop included (8x8 in, CenterCrop 6x6)
    h = x
    for layer in model.layers[:9]:
        h = layer(h, training=False)
    expected = layers.CenterCrop(6, 6)(layers.Resizing(8, 8)(x))
    np.testing.assert_allclose(np.asarray(h), np.asarray(expected), rtol=1e-6)
    assert model.predict(x, verbose=0).shape == (16, 2)
