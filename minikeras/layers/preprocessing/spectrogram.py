"""Spectrograms of audio signals: ``keras.layers.STFTSpectrogram`` and ``MelSpectrogram``.

STFTSpectrogram computes its STFT as a strided 1-D convolution with two kernels, the cosines
and sines of a windowed DFT (``initializers.STFT``): trainable weights, differentiable like any
Conv1D. MelSpectrogram is a preprocessing layer (not differentiable): ``ops.stft``, magnitude,
a triangular mel filter bank, then decibels.
"""

import math
import warnings

import numpy as np

from minikeras import backend, initializers, ops
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer
from minikeras.layers.preprocessing.data_layer import DataLayer, untracked
from minikeras.ops.signal import extract_sequences, stft

_MODES = ["log", "magnitude", "psd", "real", "imag", "angle", "stft"]


class STFTSpectrogram(Layer):
    """The STFT of each channel of (batch, time, channels) signals, as a convolution:
        real[t, f] = Σ_k x[t·step + k] w[k] cos(-2π k f / N) / s,  imag the same with sin
    ``mode``: "real", "imag", "stft" (both, concatenated), "angle" (atan2(imag, real)),
    "psd" (|X|², the bins strictly between 0 and N/2 doubled), "magnitude" (|X|, at least
    sqrt(ε)) or "log" (log |X|, the default). s: see ``initializers.STFT`` (``scaling``).
    Output (channels_last): (batch, frames, channels · bins), or with ``expand_dims``
    (batch, frames, bins, channels); bins = fft_length // 2 + 1.
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None,
                 window="hann", periodic=False, scaling="density", padding="valid",
                 expand_dims=False, data_format=None, **kwargs):
        _check_arguments(mode, frame_length, frame_step, fft_length, scaling, padding)
        if isinstance(window, str):
            initializers.get_window(window, 1)  # an unknown window fails now, as in Keras
        super().__init__(**kwargs)
        self.mode, self.frame_length, self.frame_step = mode, frame_length, frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window, self.periodic, self.scaling = window, periodic, scaling
        self.padding, self.expand_dims = padding, expand_dims
        self.data_format = backend.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        for side in ("real", "imag"):
            if self.mode != {"real": "imag", "imag": "real"}[side]:
                setattr(self, f"{side}_kernel", self.add_weight(
                    name=f"{side}_kernel", shape=shape, initializer=initializers.STFT(
                        side, self.window, self.scaling, self.periodic)))
        self.built = True

    def call(self, inputs):
        dtype = backend.standardize_dtype(inputs.dtype)
        if dtype not in {"float16", "float32", "float64"}:
            raise TypeError("Invalid input type. Expected `float16`, `float32` or `float64`. "
                            f"Received: input type={dtype}")
        real = self._apply_conv(inputs, self.real_kernel) if self.mode != "imag" else None
        imag = self._apply_conv(inputs, self.imag_kernel) if self.mode != "real" else None
        if self.mode in ("real", "imag"):
            return self._adjust_shapes(real if self.mode == "real" else imag)
        if self.mode == "angle":
            return self._adjust_shapes(ops.arctan2(imag, real))
        if self.mode == "stft":
            return self._adjust_shapes(ops.concatenate([real, imag], axis=2))
        power = ops.add(ops.square(real), ops.square(imag))
        if self.mode == "psd":  # one-sided: the bins that stand for two frequencies count twice
            inner = ops.pad(power[:, :, 1:-1, :], [[0, 0], [0, 0], [1, 1], [0, 0]])
            return self._adjust_shapes(ops.add(power, inner))
        magnitude = self._adjust_shapes(ops.sqrt(ops.maximum(power, backend.epsilon())))
        if self.mode == "magnitude":
            return magnitude
        return ops.log(ops.maximum(magnitude, backend.epsilon()))

    def _apply_conv(self, inputs, kernel):
        """Each channel as its own signal: (batch·channels, time, 1) * kernel, then
        (batch, channels, bins, frames)."""
        if self.data_format == "channels_last":
            _, time, channels = inputs.shape
            inputs = ops.reshape(ops.transpose(inputs, [0, 2, 1]), [-1, time, 1])
        else:
            _, channels, time = inputs.shape
            inputs = ops.reshape(inputs, [-1, 1, time])
        outputs = ops.conv(inputs, ops.cast(kernel, inputs.dtype), padding=self.padding,
                           strides=self._frame_step, data_format=self.data_format)
        if self.data_format == "channels_last":
            _, frames, bins = outputs.shape
            outputs = ops.transpose(outputs, [0, 2, 1])
        else:
            _, bins, frames = outputs.shape
        return ops.reshape(outputs, [-1, channels, bins, frames])

    def _adjust_shapes(self, outputs):
        _, channels, bins, frames = outputs.shape
        if self.expand_dims:
            order = [0, 3, 2, 1] if self.data_format == "channels_last" else [0, 1, 3, 2]
            return ops.transpose(outputs, order)
        outputs = ops.reshape(outputs, [-1, channels * bins, frames])
        if self.data_format == "channels_last":
            return ops.transpose(outputs, [0, 2, 1])
        return outputs

    def compute_output_shape(self, input_shape):
        last = self.data_format == "channels_last"
        batch, time, channels = (input_shape if last else
                                 (input_shape[0], input_shape[2], input_shape[1]))
        bins = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        frames = None
        if time is not None:
            frames = ((time - self.frame_length) // self._frame_step + 1
                      if self.padding == "valid" else -(-time // self._frame_step))
        if self.expand_dims:
            return (batch, frames, bins, channels) if last else (batch, channels, frames, bins)
        features = None if channels is None else channels * bins
        return (batch, frames, features) if last else (batch, features, frames)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length,
                "window": self.window, "periodic": self.periodic, "scaling": self.scaling,
                "padding": self.padding, "data_format": self.data_format,
                "expand_dims": self.expand_dims}


def _check_arguments(mode, frame_length, frame_step, fft_length, scaling, padding):
    if frame_step is not None and (frame_step > frame_length or frame_step < 1):
        raise ValueError("`frame_step` should be a positive integer not greater than "
                         f"`frame_length`. Received frame_step={frame_step}, "
                         f"frame_length={frame_length}")
    if fft_length is not None and fft_length < frame_length:
        raise ValueError("`fft_length` should be not less than `frame_length`. "
                         f"Received fft_length={fft_length}, frame_length={frame_length}")
    if fft_length is not None and (fft_length & -fft_length) != fft_length:
        warnings.warn(f"`fft_length` is recommended to be a power of two. Received "
                      f"fft_length={fft_length}", stacklevel=3)
    if mode not in _MODES:
        raise ValueError(f"Output mode is invalid, it must be one of {', '.join(_MODES)}. "
                         f"Received: mode={mode}")
    if scaling is not None and scaling not in ["density", "spectrum"]:
        raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                         f"Received scaling={scaling}")
    if padding not in ["valid", "same"]:
        raise ValueError(f"Padding is invalid, it should be 'valid', 'same'. Received: "
                         f"padding={padding}")


# --- MelSpectrogram --------------------------------------------------------------------------
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


class MelSpectrogram(DataLayer):
    """Audio (samples,) or (batch, samples) -> mel spectrogram (..., num_mel_bins, frames):
        S = |stft(x)|^mag_exp            (centered frames, ``window``, ``fft_length``)
        M = S · A                        A: HTK triangular filters, mel(f) = 1127 ln(1 + f/700)
        dB = 10 log10(max(M, min_power)) - 10 log10(max(|ref_power|, min_power)),
             at least max(dB) - top_db (the largest value of the whole batch)
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None,
                 window="hann", sampling_rate=16000, num_mel_bins=128, min_freq=20.0,
                 max_freq=None, power_to_db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10,
                 ref_power=1.0, **kwargs):
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError("`fft_length` must be greater than or equal to   "
                             f"`sequence_length`. Received: `sequence_length`="
                             f"{self.sequence_length}, `fft_length`={self.fft_length}.")
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db, self.top_db = power_to_db, top_db
        self.mag_exp, self.min_power, self.ref_power = mag_exp, min_power, ref_power
        super().__init__(**kwargs)

    def call(self, inputs):
        dtype = self.dtype if self.dtype in ("float32", "float64") else "float32"
        x = np.asarray(inputs, dtype=dtype)
        real, imag = (np.asarray(part) for part in stft(
            x, self.sequence_length, self.sequence_stride, self.fft_length, self.window))
        spec = np.power(np.sqrt(np.square(real) + np.square(imag)), np.asarray(self.mag_exp,
                                                                                dtype))
        matrix = self.linear_to_mel_weight_matrix(
            self.num_mel_bins, spec.shape[-1], self.sampling_rate, self.min_freq,
            self.max_freq, dtype)
        mel = np.tensordot(spec, matrix, axes=1)
        if self.power_to_db:
            mel = self._dbscale(mel)
        return untracked(np.swapaxes(mel, -1, -2).astype(self.dtype))

    def _dbscale(self, inputs):
        dtype = inputs.dtype.type
        log_spec = dtype(10.0) * np.log10(np.maximum(inputs, dtype(self.min_power)))
        ref = np.abs(np.asarray(self.ref_power, dtype))
        log_spec = log_spec - dtype(10.0) * np.log10(np.maximum(ref, dtype(self.min_power)))
        return np.maximum(log_spec, np.max(log_spec) - dtype(self.top_db))

    @staticmethod
    def _hertz_to_mel(frequencies_hertz):
        """mel(f) = 1127 ln(1 + f / 700) (HTK)."""
        dtype = frequencies_hertz.dtype.type
        return dtype(_MEL_HIGH_FREQUENCY_Q) * np.log(
            dtype(1.0) + frequencies_hertz / dtype(_MEL_BREAK_FREQUENCY_HERTZ))

    def linear_to_mel_weight_matrix(self, num_mel_bins=20, num_spectrogram_bins=129,
                                    sampling_rate=8000, lower_edge_hertz=125.0,
                                    upper_edge_hertz=3800.0, dtype="float32"):
        """The (num_spectrogram_bins, num_mel_bins) matrix of triangular filters, peak 1, whose
        edges are evenly spaced in mel from ``lower_edge_hertz`` to ``upper_edge_hertz``:
            A[k, m] = max(0, min((mel_k - lower_m) / (center_m - lower_m),
                                 (upper_m - mel_k) / (upper_m - center_m)))
        for spectrogram bin k at frequency k · (sampling_rate / 2) / (bins - 1); row 0 (DC)
        is 0, as HTK excludes it."""
        dtype = np.dtype(dtype).type
        nyquist_hertz = dtype(sampling_rate) / dtype(2.0)
        linear = _linspace(dtype(0.0), nyquist_hertz, num_spectrogram_bins)[1:]
        spectrogram_bins_mel = self._hertz_to_mel(linear)[:, None]
        edges = _linspace(self._hertz_to_mel(np.asarray(lower_edge_hertz, dtype)),
                          self._hertz_to_mel(np.asarray(upper_edge_hertz, dtype)),
                          num_mel_bins + 2)
        lower, center, upper = np.asarray(extract_sequences(edges, 3, 1)).T[:, None, :]
        lower_slopes = (spectrogram_bins_mel - lower) / (center - lower)
        upper_slopes = (upper - spectrogram_bins_mel) / (upper - center)
        weights = np.maximum(dtype(0.0), np.minimum(lower_slopes, upper_slopes))
        return np.pad(weights, [[1, 0], [0, 0]])

    def compute_output_shape(self, input_shape):
        """Keras's shape rule, (time + stride + 1) // stride frames."""
        time = input_shape[-1]
        frames = None if time is None else (time + self.sequence_stride + 1) \
            // self.sequence_stride
        return (*input_shape[:-1], self.num_mel_bins, frames)

    def get_config(self):
        return {**super().get_config(), "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window,
                "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
                "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db,
                "mag_exp": self.mag_exp, "min_power": self.min_power,
                "ref_power": self.ref_power}


def _linspace(start, stop, num):
    """TensorFlow's ``linspace`` in the dtype of ``start``: start + i · (stop - start) / (num - 1)
    between the two exact ends (NumPy's differs in the last bit, which the filters' slopes,
    differences of close mel values, magnify)."""
    start, stop = np.asarray(start), np.asarray(stop, start.dtype)
    delta = (stop - start) / start.dtype.type(max(num - 1, 1))
    middle = start + delta * np.arange(1, max(num - 1, 1), dtype=start.dtype)
    return np.concatenate([start[None], middle, stop[None]])[:num]
