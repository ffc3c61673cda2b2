"""The colour image layers without TensorFlow: RandomGrayscale, RandomInvert, Solarization,
RandomPosterization, AutoContrast, Equalization. Hand-computed outputs at fixed settings, the
share of images a random layer changes (over many draws, seeded), identity at inference where
Keras's is, dtypes, channels_first, single images, errors that name the layer, configs that
round-trip and use inside a model. Equality with Keras: compat_tests/
test_image_color_layers_parity.py.
"""

import numpy as np
import pytest

import minikeras
from minikeras import layers

LAYERS = {  # name: (args, kwargs)
    "RandomGrayscale": ((0.5,), {}), "RandomInvert": ((), {}), "Solarization": ((0.2, 0.5), {}),
    "RandomPosterization": ((4,), {}), "AutoContrast": ((), {}), "Equalization": ((), {}),
}
RANDOM = ("RandomGrayscale", "RandomInvert", "Solarization", "RandomPosterization")


@pytest.fixture(autouse=True)
def _fresh_session():
    minikeras.backend.clear_session()
    yield


def pictures(n=4, h=6, w=8, c=3, seed=0, dtype="float32"):
    x = np.random.default_rng(seed).integers(0, 256, (n, h, w, c))
    return x.astype(dtype)


def run(layer, x, training=True):
    return np.asarray(layer(x, training=training))


def changed(before, after):
    """Which images of a batch the layer changed."""
    return np.any(before != after, axis=(1, 2, 3))


# --- RandomGrayscale -----------------------------------------------------------------------------
def test_grayscale_weights_and_channels_kept():
    x = pictures()
    y = run(layers.RandomGrayscale(1.0), x)
    gray = 0.2989 * x[..., 0] + 0.5870 * x[..., 1] + 0.1140 * x[..., 2]
    for c in range(3):
        np.testing.assert_allclose(y[..., c], gray, rtol=1e-6)
    np.testing.assert_array_equal(run(layers.RandomGrayscale(0.0), x), x)


def test_grayscale_uint8_truncates_and_keeps_dtype():
    x = np.array([[[[255, 255, 255], [10, 20, 30]]]], "uint8")
    y = run(layers.RandomGrayscale(1.0), x)
    assert y.dtype == np.uint8
    np.testing.assert_array_equal(y[0, 0, :, 0], [254, 18])  # 254.97, 18.15 truncated


def test_grayscale_channels_first_and_single_image():
    x = pictures()
    first = np.transpose(x, (0, 3, 1, 2))
    y = run(layers.RandomGrayscale(1.0, data_format="channels_first"), first)
    np.testing.assert_allclose(np.transpose(y, (0, 2, 3, 1)), run(layers.RandomGrayscale(1.0), x),
                               rtol=1e-6)
    assert run(layers.RandomGrayscale(1.0), x[0]).shape == x[0].shape


def test_grayscale_changes_about_factor_of_the_images():
    x = pictures(n=400)
    layer = layers.RandomGrayscale(0.3, seed=5)
    share = np.mean([changed(x, run(layer, x)).mean() for _ in range(5)])
    assert abs(share - 0.3) < 0.03  # 2000 images: sd 0.01


def test_grayscale_needs_1_or_3_channels():
    with pytest.raises(ValueError, match="channel"):
        layers.RandomGrayscale(1.0)(pictures(c=4))
    one = pictures(c=1)
    np.testing.assert_array_equal(run(layers.RandomGrayscale(1.0), one), one)


# --- RandomInvert --------------------------------------------------------------------------------
def test_invert_subtracts_from_the_upper_end():
    x = pictures()
    np.testing.assert_array_equal(run(layers.RandomInvert((1.0, 1.0)), x), 255 - x)
    y = run(layers.RandomInvert((1.0, 1.0), value_range=(-1, 1)), x / 255)
    np.testing.assert_allclose(y, 1 - x / 255, rtol=1e-6)  # Keras's: not -1 + 1 - x
    np.testing.assert_array_equal(run(layers.RandomInvert(0.0), x), x)


def test_invert_default_inverts_half_and_factor_pair_sets_probability():
    x = pictures(n=400) + 1  # no all-127.5 images
    for factor, expected in ((1.0, 0.5), ((0.2, 0.2), 0.2), ((0.6, 1.0), 0.8)):
        layer = layers.RandomInvert(factor, seed=3)
        share = np.mean([changed(x, run(layer, x)).mean() for _ in range(5)])
        assert abs(share - expected) < 0.035, (factor, share)


def test_invert_training_outputs_are_float():
    x = pictures(dtype="uint8")
    assert run(layers.RandomInvert((1, 1)), x).dtype == np.float32
    assert run(layers.RandomInvert((1, 1)), x, training=False).dtype == np.uint8


# --- Solarization --------------------------------------------------------------------------------
def test_solarization_defaults_invert_every_pixel():
    x = pictures()
    np.testing.assert_array_equal(run(layers.Solarization(), x), 255 - x)
    y = run(layers.Solarization(value_range=(0, 1)), x / 255)
    np.testing.assert_allclose(y, 1 - x / 255, rtol=1e-5, atol=1e-6)


def test_solarization_given_additions_and_thresholds():
    layer = layers.Solarization()
    x = np.array([[[[10.0, 100.0, 200.0, 250.0]]]], "float32")
    transformation = {"additions": np.full((1, 1, 1, 1), 20.0, "float32"),
                      "thresholds": np.full((1, 1, 1, 1), 150.0, "float32")}
    y = np.asarray(layer.transform_images(x, transformation))
    np.testing.assert_array_equal(y[0, 0, 0], [30, 120, 255 - 220, 0])  # 270 clips to 255


def test_solarization_draws_in_keras_ranges():
    layer = layers.Solarization(0.4, (0.2, 0.6), seed=1)
    t = layer.get_random_transformation(pictures(n=500))
    assert t["additions"].shape == (500, 1, 1, 1)
    assert 0 <= t["additions"].min() and t["additions"].max() < 0.4 * 255
    assert 0.2 <= t["thresholds"].min() and t["thresholds"].max() < 0.6 * 255


def test_solarization_outputs_are_float_also_at_inference():
    x = pictures(dtype="uint8")
    y = run(layers.Solarization(), x, training=False)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, x)


# --- RandomPosterization -------------------------------------------------------------------------
def test_posterization_keeps_the_top_bits():
    x = np.arange(256, dtype="float32").reshape(1, 16, 16, 1)
    for bits in range(1, 9):
        y = run(layers.RandomPosterization((bits, bits)), x)
        step = 2 ** (8 - bits)
        np.testing.assert_array_equal(y, x // step * step)


def test_posterization_in_unit_range():
    x = np.arange(256, dtype="float32").reshape(1, 16, 16, 1)
    y = run(layers.RandomPosterization((3, 3), value_range=(0, 1)), x / 255)
    np.testing.assert_allclose(y * 255, x // 32 * 32, atol=1e-4)


def test_posterization_draws_below_the_upper_bit_count():
    layer = layers.RandomPosterization(4, seed=2)  # factor (1, 4): 1, 2 or 3 bits
    shifts = np.concatenate([layer.get_random_transformation(pictures(n=100))["shift_factor"]
                             for _ in range(5)])
    assert shifts.dtype == np.uint8
    assert set(shifts.tolist()) == {5, 6, 7}
    assert layer.factor == (1, 4)


# --- AutoContrast --------------------------------------------------------------------------------
def test_auto_contrast_stretches_each_channel_and_keeps_constant_ones():
    x = np.zeros((2, 3, 4, 2), "float32")
    x[..., 0] = np.linspace(50, 100, 12).reshape(3, 4)
    x[..., 1] = 7.0
    x[1] = 30.0
    expected = x.copy()
    expected[0, ..., 0] = (x[0, ..., 0] - 50) * 255 / 50
    for training in (True, False):  # applied at inference too
        np.testing.assert_allclose(run(layers.AutoContrast(), x, training), expected, rtol=1e-5,
                                   atol=1e-4)


def test_auto_contrast_unit_range_and_uint8():
    x = pictures(dtype="uint8") // 2 + 20
    y = run(layers.AutoContrast(), x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.min(axis=(1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(y.max(axis=(1, 2)), 255, rtol=1e-6)
    z = run(layers.AutoContrast(value_range=(0, 1)), x.astype("float32") / 255)
    np.testing.assert_allclose(z, y / 255, rtol=1e-5, atol=1e-6)


# --- Equalization --------------------------------------------------------------------------------
def test_equalization_of_a_two_level_image():
    x = np.zeros((1, 2, 2, 1), "float32")
    x[0, 0, :, 0] = 100.0
    x[0, 1, :, 0] = 50.0
    y = run(layers.Equalization(), x)  # cdf 2 at 50, 4 at 100: (cdf - 2) * 255 / 2
    np.testing.assert_array_equal(y[0, :, :, 0], [[255, 255], [0, 0]])
    np.testing.assert_array_equal(run(layers.Equalization(), x, training=False), x)


def test_equalization_flattens_the_histogram():
    x = (np.random.default_rng(0).beta(2, 8, (1, 32, 32, 1)) * 255).astype("float32")
    y = run(layers.Equalization(), x)
    assert y.min() == 0 and y.max() == 255
    counts = np.histogram(y, bins=4, range=(0, 256))[0]
    assert counts.min() > 0.15 * x.size  # ~ a quarter of the pixels in each quarter


def test_equalization_one_level_channel_is_kept_and_channels_first():
    x = pictures()
    x[..., 1] = 9.0
    y = run(layers.Equalization(), x)
    np.testing.assert_array_equal(y[..., 1], 9.0)
    first = run(layers.Equalization(data_format="channels_first"), np.transpose(x, (0, 3, 1, 2)))
    np.testing.assert_array_equal(np.transpose(first, (0, 2, 3, 1)), y)


# --- shared: inference, shapes, seeds, errors, configs, models -----------------------------------
@pytest.mark.parametrize("name", RANDOM + ("Equalization",))
def test_random_layers_are_the_identity_at_inference(name):
    args, kwargs = LAYERS[name]
    x = pictures()
    np.testing.assert_array_equal(run(getattr(layers, name)(*args, **kwargs), x, False), x)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_shapes_single_images_and_output_shape(name):
    args, kwargs = LAYERS[name]
    layer = getattr(layers, name)(*args, **kwargs)
    x = pictures()
    assert run(layer, x).shape == x.shape
    assert run(layer, x[0]).shape == x[0].shape
    assert layer.compute_output_shape((None, 6, 8, 3)) == (None, 6, 8, 3)
    with pytest.raises(ValueError, match="rank 3"):
        layer(np.zeros((6, 8), "float32"))


@pytest.mark.parametrize("name", RANDOM)
def test_seeds_repeat(name):
    args, kwargs = LAYERS[name]
    x = pictures(n=8)
    a = run(getattr(layers, name)(*args, seed=11, **kwargs), x)
    b = run(getattr(layers, name)(*args, seed=11, **kwargs), x)
    np.testing.assert_array_equal(a, b)


BAD = [
    ("RandomGrayscale", (1.5,), {}, ValueError), ("RandomGrayscale", (-0.1,), {}, ValueError),
    ("RandomGrayscale", ("a",), {}, TypeError),
    ("RandomInvert", (1.5,), {}, ValueError), ("RandomInvert", ((0.1, 0.2, 0.3),), {}, ValueError),
    ("Solarization", (1.5,), {}, ValueError), ("Solarization", (0.1, (0.1, 0.2, 0.3)), {},
                                                ValueError),
    ("Solarization", (), {"value_range": 7}, ValueError),
    ("RandomPosterization", (0,), {}, ValueError), ("RandomPosterization", (9,), {}, ValueError),
    ("RandomPosterization", (4,), {"value_range": (0, 1, 2)}, ValueError),
    ("AutoContrast", (), {"value_range": (1, 2, 3)}, ValueError),
    ("Equalization", (), {"value_range": 5}, ValueError),
]


@pytest.mark.parametrize("name, args, kwargs, error", BAD,
                         ids=[f"{n}-{a}-{k}" for n, a, k, _ in BAD])
def test_bad_arguments_raise(name, args, kwargs, error):
    with pytest.raises(error) as info:
        getattr(layers, name)(*args, **kwargs)
    if error is ValueError:
        assert name in str(info.value)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_configs_round_trip(name):
    args, kwargs = LAYERS[name]
    layer = getattr(layers, name)(*args, **kwargs)
    again = type(layer).from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    x = pictures()
    if name not in RANDOM:
        np.testing.assert_array_equal(run(again, x), run(layer, x))


def test_in_a_model_saved_and_loaded(tmp_path):
    def model():
        return minikeras.Sequential([
            minikeras.Input((6, 8, 3)),
            layers.AutoContrast(),
            layers.RandomGrayscale(0.0),
            layers.Solarization(),
            layers.RandomPosterization((5, 5)),
            layers.RandomInvert(0.0),
            layers.Equalization(bins=64),
            layers.Flatten(),
            layers.Dense(2),
        ])

    m = model()
    x = pictures()
    path = str(tmp_path / "color.keras")
    m.save(path)
    loaded = minikeras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)
    assert [type(a) for a in loaded.layers] == [type(b) for b in m.layers]
