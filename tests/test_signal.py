"""Fourier ops (minikeras/ops/signal.py): values against NumPy's FFT, shapes, errors, and
gradients against central differences (tests/gradcheck.py)."""

import numpy as np
import pytest
from gradcheck import floatx, gradient_check, layer_gradient_check

import minikeras
from minikeras import initializers, layers, ops

RNG = np.random.default_rng(5)


def _x(*shape):
    return RNG.normal(size=shape)


def _parts(out):
    return np.asarray(out[0]) + 1j * np.asarray(out[1])


# --- values and shapes -----------------------------------------------------------------------
def test_fft_fft2_ifft2_match_numpy():
    a, b = _x(3, 8), _x(3, 8)
    z = a + 1j * b
    np.testing.assert_allclose(_parts(ops.fft((a, b))), np.fft.fft(z), atol=1e-12)
    np.testing.assert_allclose(_parts(ops.fft2((a, b))), np.fft.fft2(z), atol=1e-12)
    np.testing.assert_allclose(_parts(ops.ifft2((a, b))), np.fft.ifft2(z), atol=1e-12)


def test_docstring_examples():
    real, imag = ops.fft2((np.array([[1., 2.], [2., 1.]], "float32"),
                           np.array([[0., 1.], [1., 0.]], "float32")))
    np.testing.assert_array_equal(np.asarray(real), [[6, 0], [0, -2]])
    np.testing.assert_array_equal(np.asarray(imag), [[2, 0], [0, -2]])
    real, imag = ops.rfft(np.array([0.0, 1.0, 2.0, 3.0, 4.0], "float32"), 3)
    np.testing.assert_allclose(np.asarray(real), [3.0, -1.5])
    np.testing.assert_allclose(np.asarray(imag), [0.0, 0.8660254], rtol=1e-6)
    np.testing.assert_array_equal(
        np.asarray(ops.extract_sequences(np.array([1, 2, 3, 4, 5, 6]), 3, 2)),
        [[1, 2, 3], [3, 4, 5]])


@pytest.mark.parametrize("n, fft_length", [(8, None), (7, None), (6, 4), (6, 10)])
def test_rfft_irfft_round_trip_and_shapes(n, fft_length):
    x = _x(2, n)
    real, imag = ops.rfft(x, fft_length)
    length = fft_length or n
    assert real.shape == imag.shape == (2, length // 2 + 1)
    back = np.asarray(ops.irfft((real, imag), length))
    assert back.shape == (2, length)
    np.testing.assert_allclose(back[:, :min(n, length)], x[:, :length], atol=1e-6)


def test_stft_shapes_and_istft_inverts_it():
    x = _x(2, 64).astype("float32")
    real, imag = ops.stft(x, 16, 4, 32)
    assert real.shape == (2, 1 + (64 + 32 - 32) // 4, 17)
    assert real.dtype == "float32"
    back = np.asarray(ops.istft((real, imag), 16, 4, 32, length=64))
    np.testing.assert_allclose(back[:, 16:-16], x[:, 16:-16], atol=1e-5)


def test_rfft_dtype_follows_tensorflow():
    assert ops.rfft(_x(4))[0].dtype == "float32"  # a NumPy array: converted to float32 first
    assert ops.rfft(ops.convert_to_tensor(_x(4)))[0].dtype == "float64"
    assert ops.rfft(np.arange(4))[0].dtype == "float32"


def test_extract_sequences_shapes():
    assert ops.extract_sequences(_x(2, 3, 10), 4, 3).shape == (2, 3, 3, 4)
    assert ops.extract_sequences(_x(5), 8, 1).shape == (0, 8)


# --- errors ----------------------------------------------------------------------------------
def test_errors_teach():
    with pytest.raises(ValueError, match="tuple of two tensors"):
        ops.fft(_x(4))
    with pytest.raises(ValueError, match="same shape"):
        ops.fft((_x(4), _x(5)))
    with pytest.raises(ValueError, match="not of type float"):
        ops.fft((np.arange(4), np.arange(4)))
    with pytest.raises(ValueError, match="rank >= 2"):
        ops.fft2((_x(4), _x(4)))
    with pytest.raises(ValueError, match="sequence_stride"):
        ops.stft(_x(16), 4, 0, 4)
    with pytest.raises(TypeError, match="float32"):
        ops.stft(np.arange(16), 4, 2, 4)
    with pytest.raises(ValueError, match="fft_length"):
        ops.stft(_x(16), 8, 2, 4)
    with pytest.raises(ValueError, match="hann"):
        ops.stft(_x(16), 4, 2, 4, window="kaiser")
    with pytest.raises(ValueError, match="window"):
        ops.stft(_x(16), 4, 2, 4, window=np.ones(3))
    with pytest.raises(ValueError, match="paddings must be less"):
        ops.stft(_x(4), 4, 2, 8)


# --- gradients -------------------------------------------------------------------------------
def test_fft_gradients():
    gradient_check(lambda a, b: ops.fft((a, b))[0], _x(2, 6), _x(2, 6))
    gradient_check(lambda a, b: ops.fft((a, b))[1], _x(2, 6), _x(2, 6))
    gradient_check(lambda a, b: ops.fft2((a, b))[1], _x(3, 4), _x(3, 4))
    gradient_check(lambda a, b: ops.ifft2((a, b))[0], _x(4, 3), _x(4, 3))


@pytest.mark.parametrize("n, fft_length", [(8, None), (7, None), (6, 4), (6, 9)])
def test_rfft_gradients(n, fft_length):
    """(A float64 NumPy array would be computed in float32, as TensorFlow converts it: the
    finite differences need a float64 tensor.)"""
    gradient_check(lambda a: ops.rfft(ops.convert_to_tensor(a), fft_length)[0], _x(2, n))
    gradient_check(lambda a: ops.rfft(ops.convert_to_tensor(a), fft_length)[1], _x(2, n))


@pytest.mark.parametrize("bins, fft_length", [(5, None), (5, 9), (8, 5), (3, 16)])
def test_irfft_gradients(bins, fft_length):
    gradient_check(lambda a, b: ops.irfft((a, b), fft_length), _x(2, bins), _x(2, bins))


def test_frame_gradients():
    gradient_check(lambda a: ops.extract_sequences(a, 4, 3), _x(2, 13))
    gradient_check(lambda a: ops.stft(a, 6, 3, 8, "hamming")[1], _x(2, 20))
    gradient_check(lambda a: ops.stft(a, 5, 2, 5, None, center=False)[0], _x(11))


def test_istft_gradients():
    real, imag = ops.stft(_x(2, 20), 6, 3, 8)
    gradient_check(lambda a, b: ops.istft((a, b), 6, 3, 8), np.asarray(real), np.asarray(imag))
    gradient_check(lambda a, b: ops.istft((a, b), 6, 3, 8, length=9, center=False),
                   np.asarray(real), np.asarray(imag))


def test_gradients_do_not_flow_into_the_window():
    x = minikeras.Tensor(_x(16))
    with minikeras.GradientTape() as tape:
        tape.watch(x)
        loss = ops.sum(ops.stft(x, 4, 2, 4)[0])
    assert tape.gradient(loss, x).shape == (16,)


# --- initializers.STFT -----------------------------------------------------------------------
def test_stft_initializer_is_a_windowed_dft():
    """With the rectangular window and no scaling, the kernels are the DFT's cos and sin rows."""
    real = initializers.STFT("real", "boxcar", None)((8, 1, 5), "float64")[:, 0, :]
    imag = initializers.STFT("imag", "boxcar", None)((8, 1, 5), "float64")[:, 0, :]
    dft = np.exp(-2j * np.pi * np.outer(np.arange(8), np.arange(5)) / 8)
    np.testing.assert_allclose(real + 1j * imag, dft, atol=1e-12)
    hann = initializers.STFT("real", "hann", "density")((8, 1, 5), "float32")
    assert hann.dtype == "float32"
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(8) / 7)  # symmetric: periodic=False
    np.testing.assert_allclose(hann[:, 0, 0], window / np.sqrt(np.sum(window ** 2)), rtol=1e-6)
    assert initializers.STFT("imag", "hamming", "spectrum", True).get_config() == {
        "side": "imag", "window": "hamming", "periodic": True, "scaling": "spectrum"}


def test_windows_are_scipys():
    np.testing.assert_allclose(initializers.get_window("hann", 4, periodic=True),
                               [0, 0.5, 1, 0.5], atol=1e-15)
    np.testing.assert_allclose(initializers.get_window("bartlett", 5), [0, 0.5, 1, 0.5, 0])
    np.testing.assert_array_equal(initializers.get_window("hamming", 1), [1.0])
    with pytest.raises(ValueError, match="Invalid window name"):
        initializers.get_window("kaiser", 4)
    with pytest.raises(ValueError, match="side"):
        initializers.STFT("complex")
    with pytest.raises(ValueError, match="Scaling"):
        initializers.STFT("real", "hann", "l2")
    with pytest.raises(ValueError, match="frame_length"):
        initializers.STFT("real", np.ones(3))((4, 1, 3))


# --- STFTSpectrogram -------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, expected", [
    (dict(frame_length=16, frame_step=8), (2, 11, 27)),
    (dict(frame_length=16, frame_step=8, padding="same"), (2, 13, 27)),
    (dict(frame_length=16, mode="stft"), (2, 11, 54)),
    (dict(frame_length=16, expand_dims=True), (2, 11, 9, 3)),
    (dict(frame_length=16, data_format="channels_first"), (2, 27, 11)),
    (dict(frame_length=16, data_format="channels_first", expand_dims=True), (2, 3, 11, 9)),
])
def test_stft_spectrogram_shapes(kwargs, expected):
    layer = layers.STFTSpectrogram(**kwargs)
    channels_first = kwargs.get("data_format") == "channels_first"
    x = _x(2, 3, 100) if channels_first else _x(2, 100, 3)
    out = layer(x.astype("float32"))
    assert out.shape == expected
    assert tuple(layer.compute_output_shape(x.shape)) == expected
    assert [w.name for w in layer.weights] == ["real_kernel", "imag_kernel"]


def test_stft_spectrogram_equals_the_stft_op():
    """The convolution computes ops.stft's frames (no centering, window of the full frame)."""
    x = _x(1, 64, 1).astype("float32")
    layer = layers.STFTSpectrogram("stft", frame_length=16, frame_step=4, window="hann",
                                   periodic=True, scaling=None)
    out = np.asarray(layer(x))[0]
    real, imag = ops.stft(x[0, :, 0], 16, 4, 16, "hann", center=False)
    np.testing.assert_allclose(out[:, :9], np.asarray(real), atol=1e-5)
    np.testing.assert_allclose(out[:, 9:], np.asarray(imag), atol=1e-5)


def test_stft_spectrogram_modes_and_errors():
    x = _x(2, 64, 1).astype("float32")
    real_only = layers.STFTSpectrogram("real", 16)
    real_only(x)
    assert [w.name for w in real_only.weights] == ["real_kernel"]
    with pytest.raises(ValueError, match="frame_step"):
        layers.STFTSpectrogram(frame_length=16, frame_step=17)
    with pytest.raises(ValueError, match="fft_length"):
        layers.STFTSpectrogram(frame_length=16, fft_length=8)
    with pytest.raises(ValueError, match="Output mode"):
        layers.STFTSpectrogram(mode="power")
    with pytest.raises(ValueError, match="Invalid window"):
        layers.STFTSpectrogram(window="nonsense")
    with pytest.warns(UserWarning, match="power of two"):
        layers.STFTSpectrogram(frame_length=16, fft_length=24)
    with pytest.raises(ValueError, match="ndim"):
        layers.STFTSpectrogram(frame_length=16)(_x(64, 1))


@pytest.mark.parametrize("mode", ["log", "magnitude", "psd", "stft", "real", "imag"])
def test_stft_spectrogram_gradients(mode):
    """("angle" is left out: the DC and N/2 bins have imag = 0 exactly, on atan2's branch cut
    wherever real < 0, where finite differences jump by 2π; compat_tests checks it against
    TensorFlow's gradient.)"""
    with floatx("float64"):
        layer = layers.STFTSpectrogram(mode, frame_length=8, frame_step=4, fft_length=8)
        x = _x(1, 24, 2) + 0.5
        layer.build(x.shape)
        layer_gradient_check(layer, x, rtol=1e-4, atol=1e-6)


# --- MelSpectrogram --------------------------------------------------------------------------
def test_mel_spectrogram_shapes_and_config():
    layer = layers.MelSpectrogram(fft_length=128, sequence_stride=32, num_mel_bins=16)
    out = layer(_x(3, 400).astype("float32"))
    assert out.shape == (3, 16, 13) and out.dtype == "float32"
    assert layer(_x(400).astype("float32")).shape == (16, 13)
    assert tuple(layer.compute_output_shape((None, 400))) == (None, 16, 13)
    config = layer.get_config()
    assert config["sequence_length"] == 128 and config["max_freq"] == 8000
    assert layers.MelSpectrogram.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="fft_length"):
        layers.MelSpectrogram(fft_length=64, sequence_length=128)


def test_mel_filters_are_triangles_of_peak_one():
    matrix = layers.MelSpectrogram().linear_to_mel_weight_matrix(10, 257, 16000, 100.0, 6000.0)
    assert matrix.shape == (257, 10) and matrix.dtype == "float32"
    assert np.all(matrix[0] == 0) and np.all(matrix >= 0) and np.all(matrix <= 1)
    assert np.all(matrix.max(axis=0) > 0.7)


def test_mel_spectrogram_db_floor():
    layer = layers.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=8, top_db=30.0)
    x = np.zeros(256, "float32")
    x[100] = 1.0
    out = np.asarray(layer(x))
    assert out.max() - out.min() <= 30.0 + 1e-4
