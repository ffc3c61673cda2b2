"""minikeras's Fourier ops and spectrogram layers against Keras 3.15 on TensorFlow.

Ops: the same float32 inputs give the same (real, imag) outputs, and the gradients of
``Σ out_i · r_i`` (``r_i`` fixed random arrays) equal ``tf.GradientTape``'s on ``keras.ops``.

Tolerance: rtol 1e-5 and atol 1e-6 · scale, where ``scale`` is the largest |value| of the
outputs compared. A float32 FFT of length N rounds each output by about 1e-7 · log2(N) times
the signal's magnitude, and TensorFlow (complex64) and minikeras (complex128, rounded once)
round differently, so a bin that is near 0 while its neighbours are large differs by more
than 1e-6 absolute; relative to the largest output the two agree to about 1e-7.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras
from minikeras import ops as mk

RTOL, ATOL = 1e-5, 1e-6
RNG = np.random.default_rng(11)
LARGEST = {}  # largest |difference| / scale seen per case (printed with -s)


def _f32(*shape):
    return RNG.uniform(-1.0, 1.0, size=shape).astype("float32")


def _as_tuple(out):
    return tuple(out) if isinstance(out, tuple | list) else (out,)


def _minikeras(fn, args, rs):
    tensors = [minikeras.Tensor(a) for a in args]
    with minikeras.GradientTape() as tape:
        tape.watch(tensors)
        outs = _as_tuple(fn(*tensors))
        loss = sum(mk.sum(mk.multiply(o, r)) for o, r in zip(outs, rs, strict=True))
    grads = tape.gradient(loss, tensors)
    return [np.asarray(o) for o in outs], [None if g is None else np.asarray(g) for g in grads]


def _keras(fn, args, rs, grads=True):
    tensors = [tf.constant(a) for a in args]
    if not grads:
        return [np.asarray(o) for o in _as_tuple(fn(*tensors))], []
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        outs = _as_tuple(fn(*tensors))
        loss = tf.add_n([tf.reduce_sum(o * r) for o, r in zip(outs, rs, strict=True)])
    grads = tape.gradient(loss, tensors)
    return [np.asarray(o) for o in outs], [None if g is None else np.asarray(g) for g in grads]


def assert_parity(name, mk_fn, k_fn, *args, grads=True):
    """Same outputs (shapes, dtypes, values) and the same gradients for every argument."""
    shapes = [np.shape(o) for o in _as_tuple(k_fn(*args))]
    rs = [np.random.default_rng(0).standard_normal(s).astype("float32") for s in shapes]
    outs, mk_grads = _minikeras(mk_fn, args, rs)
    k_outs, k_grads = _keras(k_fn, args, rs, grads)
    worst = 0.0
    for i, (o, k) in enumerate(zip(outs, k_outs, strict=True)):
        assert o.shape == k.shape and o.dtype == k.dtype, (i, o.shape, k.shape, o.dtype, k.dtype)
        scale = max(1.0, float(np.max(np.abs(k), initial=0)))
        np.testing.assert_allclose(o, k, rtol=RTOL, atol=ATOL * scale, err_msg=f"output {i}")
        worst = max(worst, float(np.max(np.abs(o - k), initial=0)) / scale)
    if grads:
        for i, (g, k) in enumerate(zip(mk_grads, k_grads, strict=True)):
            scale = max(1.0, float(np.max(np.abs(k), initial=0)))
            np.testing.assert_allclose(g, k, rtol=RTOL, atol=ATOL * scale,
                                       err_msg=f"gradient w.r.t. argument {i}")
            worst = max(worst, float(np.max(np.abs(g - k), initial=0)) / scale)
    LARGEST[name] = worst


# --- ops -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8,), (3, 5), (2, 3, 64), (1, 128)])
def test_fft(shape):
    assert_parity("fft", lambda a, b: mk.fft((a, b)), lambda a, b: keras.ops.fft((a, b)),
                  _f32(*shape), _f32(*shape))


@pytest.mark.parametrize("shape", [(2, 2), (4, 6), (3, 8, 5), (2, 16, 16)])
@pytest.mark.parametrize("op", ["fft2", "ifft2"])
def test_fft2_ifft2(op, shape):
    assert_parity(op, lambda a, b: getattr(mk, op)((a, b)),
                  lambda a, b: getattr(keras.ops, op)((a, b)), _f32(*shape), _f32(*shape))


@pytest.mark.parametrize("shape, fft_length", [((8,), None), ((3, 7), None), ((2, 64), None),
                                               ((4, 9), 9), ((2, 33), 33)])
def test_rfft(shape, fft_length):
    assert_parity("rfft", lambda a: mk.rfft(a, fft_length),
                  lambda a: keras.ops.rfft(a, fft_length), _f32(*shape))


@pytest.mark.parametrize("shape, fft_length", [((8,), 5), ((2, 10), 16)])
def test_rfft_crops_and_pads_values(shape, fft_length):
    """``fft_length`` shorter or longer than the signal: values as Keras. (TensorFlow 2.21's
    RFFT gradient fails there, "Incompatible shapes", so only minikeras's is checked, against
    finite differences, in tests/test_signal.py.)"""
    assert_parity("rfft crop/pad", lambda a: mk.rfft(a, fft_length),
                  lambda a: keras.ops.rfft(a, fft_length), _f32(*shape), grads=False)


@pytest.mark.parametrize("shape, fft_length", [((5,), None), ((3, 5), 8), ((2, 5), 9),
                                               ((2, 33), 64), ((4, 17), None)])
def test_irfft(shape, fft_length):
    """The imaginary parts at 0 and N/2 are ignored, by both (random here, so it shows)."""
    assert_parity("irfft", lambda a, b: mk.irfft((a, b), fft_length),
                  lambda a, b: keras.ops.irfft((a, b), fft_length), _f32(*shape), _f32(*shape))


@pytest.mark.parametrize("shape, fft_length", [((3, 8), 5), ((2, 4), 16)])
def test_irfft_crops_and_pads(shape, fft_length):
    """More bins than N/2 + 1 (cropped): TensorFlow 2.21's IRFFT gradient fails there
    ("Incompatible shapes"), so that gradient is checked in tests/test_signal.py only."""
    assert_parity("irfft crop/pad", lambda a, b: mk.irfft((a, b), fft_length),
                  lambda a, b: keras.ops.irfft((a, b), fft_length), _f32(*shape), _f32(*shape),
                  grads=shape[-1] <= fft_length // 2 + 1)


@pytest.mark.parametrize("shape, length, stride", [((10,), 3, 2), ((2, 16), 4, 4),
                                                   ((2, 3, 20), 5, 3), ((7,), 8, 1)])
def test_extract_sequences(shape, length, stride):
    assert_parity("extract_sequences", lambda a: mk.extract_sequences(a, length, stride),
                  lambda a: keras.ops.extract_sequences(a, length, stride), _f32(*shape))


STFT_CASES = [  # (shape, sequence_length, sequence_stride, fft_length, window, center)
    ((32,), 8, 4, 8, "hann", True),
    ((2, 50), 10, 3, 16, "hamming", True),
    ((2, 50), 9, 4, 16, "hann", False),
    ((3, 40), 7, 2, 7, "hamming", False),
    ((2, 64), 16, 8, 32, None, True),
    ((1, 33), 6, 5, 8, "array", True),
    ((2, 2, 100), 32, 16, 64, "hann", True),
]


def _window(window, length):
    if window == "array":
        return np.random.default_rng(3).uniform(0.2, 1.0, length).astype("float32")
    return window


@pytest.mark.parametrize("shape, length, stride, fft_length, window, center", STFT_CASES)
def test_stft(shape, length, stride, fft_length, window, center):
    window = _window(window, length)
    assert_parity("stft", lambda a: mk.stft(a, length, stride, fft_length, window, center),
                  lambda a: keras.ops.stft(a, length, stride, fft_length, window, center),
                  _f32(*shape))


@pytest.mark.parametrize("shape, length, stride, fft_length, window, center", STFT_CASES)
@pytest.mark.parametrize("out_length", [None, 20])
def test_istft(shape, length, stride, fft_length, window, center, out_length):
    window = _window(window, length)
    real, imag = keras.ops.stft(_f32(*shape), length, stride, fft_length, window, center)
    real, imag = np.asarray(real), np.asarray(imag)
    assert_parity("istft",
                  lambda a, b: mk.istft((a, b), length, stride, fft_length, out_length, window,
                                        center),
                  lambda a, b: keras.ops.istft((a, b), length, stride, fft_length, out_length,
                                               window, center),
                  real + _f32(*real.shape) * 0.1, imag + _f32(*imag.shape) * 0.1)


def test_float64_stays_float64():
    x = RNG.normal(size=(2, 40))
    for mk_fn, k_fn in [(lambda a: mk.rfft(minikeras.Tensor(a)),
                         lambda a: keras.ops.rfft(tf.constant(a))),
                        (lambda a: mk.stft(a, 8, 4, 8), lambda a: keras.ops.stft(a, 8, 4, 8)),
                        (lambda a: mk.fft((a, a)), lambda a: keras.ops.fft((a, a)))]:
        for o, k in zip(mk_fn(x), k_fn(x), strict=True):
            assert np.asarray(o).dtype == np.asarray(k).dtype == np.float64
            np.testing.assert_allclose(np.asarray(o), np.asarray(k), rtol=1e-12, atol=1e-12)


def test_rfft_of_a_float64_array_is_float32_as_tensorflow():
    """tf.signal.rfft converts a NumPy array (not a tensor) to float32 first."""
    x = RNG.normal(size=(2, 40))
    for o, k in zip(mk.rfft(x), keras.ops.rfft(x), strict=True):
        assert np.asarray(o).dtype == np.asarray(k).dtype == np.float32
        np.testing.assert_allclose(np.asarray(o), np.asarray(k), rtol=RTOL, atol=1e-5)


def test_integer_inputs_give_float32_as_keras():
    x = np.arange(12)
    for o, k in zip(mk.rfft(x), keras.ops.rfft(x), strict=True):
        assert np.asarray(o).dtype == np.asarray(k).dtype
        np.testing.assert_allclose(np.asarray(o), np.asarray(k), rtol=RTOL, atol=1e-5)
    frames = mk.extract_sequences(x, 3, 2)
    np.testing.assert_array_equal(np.asarray(frames),
                                  np.asarray(keras.ops.extract_sequences(x, 3, 2)))
    assert np.asarray(frames).dtype == np.asarray(keras.ops.extract_sequences(x, 3, 2)).dtype


def test_docstring_examples():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0], "float32")
    for mk_out, k_out in [(mk.stft(x, 3, 2, 3), keras.ops.stft(x, 3, 2, 3)),
                          (mk.rfft(x, 3), keras.ops.rfft(x, 3)),
                          ((mk.istft(mk.stft(x, 1, 1, 1), 1, 1, 1),),
                           (keras.ops.istft(keras.ops.stft(x, 1, 1, 1), 1, 1, 1),))]:
        for o, k in zip(mk_out, k_out, strict=True):
            np.testing.assert_allclose(np.asarray(o), np.asarray(k), rtol=RTOL, atol=ATOL)


def test_namespace_matches_keras():
    """keras.ops has no ``math`` sub-namespace in 3.15: the ops live at ``keras.ops.<name>``."""
    assert not hasattr(keras.ops, "math")
    for name in ["extract_sequences", "fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft"]:
        assert hasattr(keras.ops, name) and callable(getattr(mk, name))


# --- initializers.STFT ---------------------------------------------------------------------------
@pytest.mark.parametrize("side", ["real", "imag"])
@pytest.mark.parametrize("window", ["hann", "hamming", "blackman", "bartlett", "boxcar", "cosine",
                                    None, "array"])
@pytest.mark.parametrize("scaling", ["density", "spectrum", None])
@pytest.mark.parametrize("periodic", [False, True])
def test_stft_initializer(side, window, scaling, periodic):
    """float32 kernels to 1 ulp of 1 (the float32 cosine of an angle up to 2π·400)."""
    shape = (400, 1, 257)
    if window == "array":
        window = np.random.default_rng(2).uniform(0.1, 1.0, 400)
    ours = minikeras.initializers.STFT(side, window, scaling, periodic)
    theirs = keras.initializers.STFT(side, window, scaling, periodic)
    for dtype, atol in [("float32", 2e-7), ("float64", 1e-12)]:
        np.testing.assert_allclose(ours(shape, dtype), np.asarray(theirs(shape, dtype)),
                                   rtol=RTOL, atol=atol)
        assert ours(shape, dtype).dtype == dtype
    if not isinstance(window, np.ndarray):
        assert ours.get_config() == theirs.get_config()
    assert minikeras.initializers.stft is minikeras.initializers.STFTInitializer \
        is minikeras.initializers.STFT


# --- STFTSpectrogram -----------------------------------------------------------------------------
SPECTROGRAMS = [
    dict(mode="log", frame_length=64, frame_step=32, fft_length=64),
    dict(mode="psd", frame_length=50, frame_step=20, fft_length=64, window="hamming",
         padding="same", expand_dims=True),
    dict(mode="angle", frame_length=32, periodic=True, scaling="spectrum"),
    dict(mode="stft", frame_length=32, frame_step=16, data_format="channels_first"),
    dict(mode="real", frame_length=32, window=None, scaling=None),
    dict(mode="imag", frame_length=32, expand_dims=True, data_format="channels_first"),
    dict(mode="magnitude", frame_length=40, frame_step=10, fft_length=64, window="blackman"),
    dict(mode="log", frame_length=20, frame_step=7, padding="same", data_format="channels_first",
         expand_dims=True),
]


def _signal(kwargs, batch=2, time=300, channels=3):
    x = RNG.uniform(-1, 1, (batch, time, channels)).astype("float32")
    return x.transpose(0, 2, 1).copy() if kwargs.get("data_format") == "channels_first" else x


def _layer_parity(k_layer, m_layer, x):
    """Same outputs and the same gradients for the input and the kernels; the kernels are
    Keras's, copied in. The STFT of a sum of up to 64 terms rounds like ``assert_parity``'s
    FFTs: atol 1e-6 times the largest output."""
    k_layer.build(x.shape)
    m_layer.build(x.shape)
    m_layer.set_weights(k_layer.get_weights())
    k_x, m_x = tf.constant(x), minikeras.Tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(k_x)
        k_out = k_layer(k_x)
        r = np.random.default_rng(0).standard_normal(k_out.shape).astype("float32")
        k_loss = tf.reduce_sum(k_out * r)
    k_grads = tape.gradient(k_loss, [k_x, *k_layer.trainable_weights])
    with minikeras.GradientTape() as tape:
        tape.watch(m_x)
        m_out = m_layer(m_x)
        m_loss = mk.sum(mk.multiply(m_out, r))
    m_grads = tape.gradient(m_loss, [m_x, *m_layer.trainable_weights])
    pairs = [("output", m_out, k_out)] + [
        (f"gradient {i}", g, k) for i, (g, k) in enumerate(zip(m_grads, k_grads, strict=True))]
    for what, ours, theirs in pairs:
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, what
        scale = max(1.0, float(np.max(np.abs(theirs))))
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL * scale, err_msg=what)
        LARGEST[f"STFTSpectrogram {what}"] = max(
            LARGEST.get(f"STFTSpectrogram {what}", 0.0),
            float(np.max(np.abs(ours - theirs))) / scale)


@pytest.mark.parametrize("kwargs", SPECTROGRAMS, ids=lambda kw: kw["mode"])
def test_stft_spectrogram(kwargs):
    k_layer = keras.layers.STFTSpectrogram(**kwargs)
    m_layer = minikeras.layers.STFTSpectrogram(**kwargs)
    x = _signal(kwargs)
    _layer_parity(k_layer, m_layer, x)
    assert m_layer.get_config() == k_layer.get_config()
    assert [w.path for w in m_layer.weights] == [w.path for w in k_layer.weights]
    assert [w.trainable for w in m_layer.weights] == [w.trainable for w in k_layer.weights]
    for shape in [x.shape, (None, *x.shape[1:]), (None, None, x.shape[2]) if
                  kwargs.get("data_format") != "channels_first" else (None, x.shape[1], None)]:
        assert tuple(m_layer.compute_output_shape(shape)) == \
            tuple(k_layer.compute_output_shape(shape)), shape
    fresh = minikeras.layers.STFTSpectrogram(**kwargs)
    fresh.build(x.shape)  # Keras's initial kernels without copying them
    for ours, theirs in zip(fresh.get_weights(), k_layer.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=2e-7)


def test_stft_spectrogram_errors_as_keras():
    for kwargs in [dict(frame_step=300), dict(fft_length=100), dict(mode="power"),
                   dict(scaling="l2"), dict(padding="causal"), dict(window="nonsense")]:
        with pytest.raises(ValueError):
            keras.layers.STFTSpectrogram(**kwargs)
        with pytest.raises(ValueError):
            minikeras.layers.STFTSpectrogram(**kwargs)
    with pytest.warns(UserWarning, match="power of two"):
        minikeras.layers.STFTSpectrogram(frame_length=100, fft_length=300)


# --- MelSpectrogram ------------------------------------------------------------------------------
# Tolerance: the mel filters are slopes between mel values mel(f) = 1127 ln(1 + f/700) that lie
# a few mel apart; TensorFlow's float32 log (Eigen's) and NumPy's differ by 1 ulp in about 10 %
# of values (1 ulp of 2000 mel is 2.4e-4), so single filter weights differ by up to ~2e-5 and the
# outputs by up to ~1e-5 of the largest output: atol 5e-5 times it. The linear STFT parts and
# every other step agree as the ops do.
MELS = [
    (dict(), (2, 4000)),
    (dict(fft_length=256, sequence_stride=64, num_mel_bins=40, sampling_rate=8000), (3, 1000)),
    (dict(fft_length=512, sequence_length=400, sequence_stride=160, window="hamming",
          power_to_db=False, mag_exp=1.0, max_freq=7000, min_freq=50), (1000,)),
    (dict(fft_length=128, sequence_stride=32, num_mel_bins=16, top_db=20.0, ref_power=2.0,
          min_power=1e-6), (2, 500)),
]


@pytest.mark.parametrize("kwargs, shape", MELS, ids=range(len(MELS)))
def test_mel_spectrogram(kwargs, shape):
    x = RNG.uniform(-1, 1, shape).astype("float32")
    k_layer = keras.layers.MelSpectrogram(**kwargs)
    m_layer = minikeras.layers.MelSpectrogram(**kwargs)
    ours, theirs = np.asarray(m_layer(x)), np.asarray(k_layer(x))
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    scale = float(np.max(np.abs(theirs)))
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=5e-5 * scale)
    LARGEST["MelSpectrogram"] = max(LARGEST.get("MelSpectrogram", 0.0),
                                    float(np.max(np.abs(ours - theirs))) / scale)
    assert m_layer.get_config() == k_layer.get_config()
    assert m_layer.weights == [] and k_layer.weights == []
    for s in [shape, (None,) * len(shape), (5, 1001)]:
        assert tuple(m_layer.compute_output_shape(s)) == tuple(k_layer.compute_output_shape(s))
    ours = m_layer.linear_to_mel_weight_matrix(40, 129, 8000, 20.0, 4000.0)
    theirs = np.asarray(k_layer.linear_to_mel_weight_matrix(40, 129, 8000, 20.0, 4000.0))
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=5e-5)


# --- saving --------------------------------------------------------------------------------------
def _models(lib):
    inputs = lib.Input((200, 2))
    spec = lib.layers.STFTSpectrogram(mode="log", frame_length=32, frame_step=16,
                                      window="hamming")(inputs)
    outputs = lib.layers.Dense(3)(lib.layers.Flatten()(spec))
    return lib.Model(inputs, outputs)


@pytest.mark.parametrize("direction", ["minikeras to keras", "keras to minikeras"])
def test_keras_archives_with_stft_spectrogram_load_both_ways(tmp_path, direction):
    source_lib, target_load = ((minikeras, keras.models.load_model)
                               if direction == "minikeras to keras"
                               else (keras, minikeras.saving.load_model))
    source = _models(source_lib)
    weights = source.get_weights()
    source.set_weights([w + RNG.normal(0, 0.01, w.shape).astype(w.dtype) for w in weights])
    path = str(tmp_path / "spectrogram.keras")
    source.save(path)
    loaded = target_load(path)
    x = RNG.uniform(-1, 1, (2, 200, 2)).astype("float32")
    for ours, theirs in zip(loaded.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(source(x)), rtol=1e-4,
                               atol=1e-5)
    assert loaded.layers[1].get_config() == source.layers[1].get_config()


@pytest.mark.parametrize("direction", ["minikeras to keras", "keras to minikeras"])
def test_keras_archives_with_mel_spectrogram_load_both_ways(tmp_path, direction):
    source_lib, target_load = ((minikeras, keras.models.load_model)
                               if direction == "minikeras to keras"
                               else (keras, minikeras.saving.load_model))
    layer = source_lib.layers.MelSpectrogram(fft_length=128, sequence_stride=32, num_mel_bins=16)
    source = source_lib.Sequential([source_lib.Input((400,)), layer])
    path = str(tmp_path / "mel.keras")
    source.save(path)
    loaded = target_load(path)
    assert loaded.layers[0].get_config() == source.layers[0].get_config()
    x = RNG.uniform(-1, 1, (2, 400)).astype("float32")
    scale = float(np.max(np.abs(np.asarray(source(x)))))
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(source(x)), rtol=RTOL,
                               atol=5e-5 * scale)


def test_zz_report_largest_differences():
    """Run last (with -s) to print the largest relative difference of each op."""
    for name, worst in sorted(LARGEST.items()):
        print(f"{name:20s} {worst:.2e}")
