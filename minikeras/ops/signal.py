"""Fourier transforms and short-time spectra (``keras.ops.fft``, ``rfft``, ``stft``, ...).

Keras has no complex tensors in its API: a complex signal is a tuple ``(real, imag)`` of two
float tensors, and a transform returns such a tuple. Each transform here computes in complex128
(NumPy's pocketfft) and rounds to the input's float dtype, as Keras with TensorFlow returns it.

Every transform is linear, so its derivative is its adjoint, another Fourier transform. With
``G = g_real + i g_imag`` the gradient flowing into the output ``y = F z``, the gradient of the
input is ``dL/dz_real + i dL/dz_imag = F^H G`` (F^H: conjugate transpose). For the DFT,
``F^H G = N ifft(G) = conj(fft(conj(G)))``: the inverse transform, scaled.
"""

import numpy as np

from minikeras import backend
from minikeras.autodiff import record
from minikeras.ops.core import value_of
from minikeras.ops.numpy import getitem, multiply, pad
from minikeras.tensor import ArrayLike


# --- (real, imag) tuples ---------------------------------------------------------------------
def _complex_input(x):
    """``real + i imag`` (complex128) and the float dtype of the parts, checked as Keras does."""
    if not isinstance(x, tuple | list) or len(x) != 2:
        raise ValueError("Input `x` should be a tuple of two tensors - real and imaginary."
                         f"Received: x={x}")
    real, imag = (_array(part) for part in x)
    if real.shape != imag.shape:
        raise ValueError("Input `x` should be a tuple of two tensors - real and imaginary."
                         "Both the real and imaginary parts should have the same shape. "
                         f"Received: x[0].shape = {real.shape}, x[1].shape = {imag.shape}")
    if real.dtype.kind != "f" or imag.dtype.kind != "f":
        raise ValueError("At least one tensor in input `x` is not of type float."
                         f"Received: x={x}.")
    if real.dtype != imag.dtype or real.dtype not in (np.float32, np.float64):
        raise TypeError(f"The `real` and `imag` components have incorrect types: {real.dtype} "
                        f"{imag.dtype}. They must be consistent, and one of [tf.float32, "
                        "tf.float64]")
    return real.astype(np.float64) + 1j * imag.astype(np.float64), real.dtype


def _array(x):
    """A tensor's or array's values; a Python number or list becomes floatx, as Keras's
    ``convert_to_tensor`` makes it."""
    if isinstance(x, ArrayLike | np.ndarray | np.generic):
        return np.asarray(value_of(x))
    a = np.asarray(x)
    return a.astype(backend.floatx()) if a.dtype.kind == "f" else a


def _complex_output(y, dtype, inputs, adjoint):
    """``(Re y, Im y)`` in ``dtype``, each recorded with its derivative. ``adjoint`` maps a
    complex gradient G of y to that of the input z: F^H G. Re y passes its gradient g on as
    G = g, Im y as G = i g; the input's real part (``inputs[0]``) takes Re F^H G and its
    imaginary part (``inputs[1]``, absent for rfft's real input) Im F^H G."""

    def derivatives(unit):  # unit = 1 for Re y, 1j for Im y
        return (lambda g: adjoint(unit * g).real.astype(g.dtype),
                lambda g: adjoint(unit * g).imag.astype(g.dtype))[:len(inputs)]

    return tuple(record(part.astype(dtype), tuple(inputs), *derivatives(unit))
                 for part, unit in ((y.real, 1), (y.imag, 1j)))


def _fit(a, n):
    """``a`` cropped or zero-padded to length ``n`` on its last axis (as TensorFlow's FFTs)."""
    if a.shape[-1] >= n:
        return a[..., :n]
    return np.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, n - a.shape[-1])])


# --- Fourier transforms ----------------------------------------------------------------------
def fft(x):
    """y[k] = Σ_t z[t] e^(-2πi kt/N) along the last axis, z = x[0] + i x[1];
    adjoint: dL/dz = Σ_k G[k] e^(+2πi kt/N) = N ifft(G)."""
    z, dtype = _complex_input(x)
    n = z.shape[-1]
    return _complex_output(np.fft.fft(z), dtype, x, lambda g: n * np.fft.ifft(g))


def fft2(x):
    """The 2-D DFT over the last two axes, y = F_rows z F_cols;  adjoint: h w ifft2(G)."""
    z, dtype = _complex_input(x)
    if z.ndim < 2:
        raise ValueError(f"Input should have rank >= 2. Received: input.shape = {z.shape}")
    size = z.shape[-2] * z.shape[-1]
    return _complex_output(np.fft.fft2(z), dtype, x, lambda g: size * np.fft.ifft2(g))


def ifft2(x):
    """The inverse 2-D DFT, y = fft2(z)* / (h w) with the input conjugated (Keras's TensorFlow
    form);  adjoint: fft2(G) / (h w)."""
    z, dtype = _complex_input(x)
    if z.ndim < 2:
        raise ValueError(f"Input should have rank >= 2. Received: input.shape = {z.shape}")
    size = z.shape[-2] * z.shape[-1]
    return _complex_output(np.fft.ifft2(z), dtype, x, lambda g: np.fft.fft2(g) / size)


def _real_input(x):
    """``x`` as float64 and the dtype Keras's TensorFlow ``rfft`` returns: float64 for a float64
    tensor, else float32 (TensorFlow converts a NumPy array or list to float32 first, so even a
    float64 array gives float32; integers and float16 give float32 too)."""
    a = np.asarray(value_of(x))
    if a.ndim < 1:
        raise ValueError(f"Input should have rank >= 1. Received: input.shape = {a.shape}")
    tensor64 = isinstance(x, ArrayLike) and a.dtype == np.float64
    return a.astype(np.float64), (np.float64 if tensor64 else np.float32)


def rfft(x, fft_length=None):
    """y[k] = Σ_t x[t] e^(-2πi kt/N) for k = 0 .. N/2 (N = ``fft_length``; x cropped or
    zero-padded to N);  adjoint: dL/dx[t] = Re Σ_k G[k] e^(+2πi kt/N) = Re(N ifft(G, N))."""
    a, dtype = _real_input(x)
    n = a.shape[-1]
    length = n if fft_length is None else int(fft_length)
    return _complex_output(np.fft.rfft(a, n=length), dtype, (x,),
                           lambda g: _fit(length * np.fft.ifft(g, n=length), n))


def irfft(x, fft_length=None):
    """x[t] = (1/N) Σ_k c_k Re(Y[k] e^(+2πi kt/N)), c_k = 2 but 1 at k = 0 and N/2 (Y cropped or
    zero-padded to N/2 + 1 bins; N = ``fft_length`` or 2 (bins - 1); the imaginary parts at 0
    and N/2 are ignored);  adjoint: dL/dY[k] = c_k/N rfft(g)[k]."""
    z, dtype = _complex_input(x)
    bins = z.shape[-1]
    length = 2 * (bins - 1) if fft_length is None else int(fft_length)
    weights = np.full(length // 2 + 1, 2.0 / length)
    weights[0] = 1.0 / length
    if length % 2 == 0:
        weights[-1] = 1.0 / length
    out = np.fft.irfft(_fit(z, length // 2 + 1), n=length)

    def adjoint(g):
        return _fit(np.fft.rfft(g, n=length) * weights, bins)

    return record(out.astype(dtype), tuple(x), lambda g: adjoint(g).real.astype(g.dtype),
                  lambda g: adjoint(g).imag.astype(g.dtype))


# --- frames ----------------------------------------------------------------------------------
def extract_sequences(x, sequence_length, sequence_stride):
    """frames[..., j, k] = x[..., j·stride + k], 1 + (N - length) // stride frames (none when
    N < length);  adjoint: overlap-add, dL/dx[t] = Σ over the (j, k) with j·stride + k = t."""
    a = np.asarray(value_of(x))
    if a.ndim < 1:
        raise ValueError(f"Input should have rank >= 1. Received: input.shape = {a.shape}")
    n = a.shape[-1]
    return record(_frames(a, sequence_length, sequence_stride), (x,),
                  lambda g: _overlap_add(g, sequence_stride, n))


def _frames(a, length, stride):
    count = max(0, 1 + (a.shape[-1] - length) // stride)
    return a[..., np.arange(count)[:, None] * stride + np.arange(length)]


def _overlap_add(frames, stride, n):
    """out[..., j·stride + k] += frames[..., j, k] (TensorFlow's ``overlap_and_add``)."""
    count, length = frames.shape[-2:]
    out = np.zeros(frames.shape[:-2] + (n,), frames.dtype)
    for k in range(length):  # one strided slice per frame offset: no index repeats within it
        out[..., k:k + stride * (count - 1) + 1:stride] += frames[..., k]
    return out


def overlap_add(frames, stride):
    """The sum of the frames placed ``stride`` apart: length (frames - 1)·stride + frame length
    (``istft``'s last step; Keras has no such op);  adjoint: the frames of the gradient."""
    a = np.asarray(value_of(frames))
    n = (a.shape[-2] - 1) * stride + a.shape[-1]
    return record(_overlap_add(a, stride, n), (frames,),
                  lambda g: _frames(g, a.shape[-1], stride))


# --- windows (TensorFlow's ``hann_window`` / ``hamming_window``, periodic=True) --------------
def _window(window, sequence_length, fft_length, dtype):
    """The window, padded with zeros to ``fft_length`` and centered. For a string, TensorFlow's
    periodic raised cosine a - b cos(2π n / M), M = length for an even length, length - 1
    for an odd one (TensorFlow's rule: only an even length is made periodic)."""
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError('If a string is passed to `window`, it must be one of `"hann"`, '
                             f'`"hamming"`. Received: window={window}')
        a, b = (0.5, 0.5) if window == "hann" else (0.54, 0.46)
        if sequence_length == 1:
            win = np.ones(1)
        else:
            m = sequence_length - (sequence_length % 2)
            win = a - b * np.cos(2 * np.pi * np.arange(sequence_length) / m)
        win = win.astype(dtype)
    else:
        win = np.asarray(value_of(window)).astype(dtype)
    if win.ndim != 1 or win.shape[-1] != sequence_length:
        raise ValueError("The shape of `window` must be equal to [sequence_length]."
                         f"Received: window shape={win.shape}")
    left = (fft_length - sequence_length) // 2
    return np.pad(win, (left, fft_length - sequence_length - left))


def _check_stride(sequence_stride):
    if not isinstance(sequence_stride, int) or sequence_stride <= 0:
        raise ValueError("`sequence_stride` must be a positive integer. "
                         f"Received: sequence_stride={sequence_stride}")


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """rfft(window · frame_j) for frames of ``fft_length`` every ``sequence_stride`` samples (the
    window of ``sequence_length`` centered in the frame; with ``center`` the signal first gets
    fft_length // 2 reflected samples on each side). Built from pad, extract_sequences,
    multiply and rfft, whose derivatives the tape chains."""
    _check_stride(sequence_stride)
    a = np.asarray(value_of(x))
    if a.dtype not in (np.float32, np.float64):
        raise TypeError("Invalid input type. Expected `float32` or `float64`. "
                        f"Received: input type={a.dtype}")
    if fft_length < sequence_length:
        raise ValueError("`fft_length` must equal or larger than `sequence_length`. "
                         f"Received: sequence_length={sequence_length}, fft_length={fft_length}")
    win = None if window is None else _window(window, sequence_length, fft_length, a.dtype)
    if center:
        half = fft_length // 2
        if half >= a.shape[-1]:
            raise ValueError(f"paddings must be less than the dimension size: {half}, {half} "
                             f"not less than {a.shape[-1]} (center=True reflects fft_length "
                             "// 2 samples at each end)")
        x = pad(x, [(0, 0)] * (a.ndim - 1) + [(half, half)], mode="reflect")
    frames = extract_sequences(x, fft_length, sequence_stride)
    if win is not None:
        frames = multiply(frames, win)
    return rfft(frames, fft_length)


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):
    """The inverse of ``stft``: irfft each frame, multiply by the window divided by the sum of
    the squared windows that overlap there (TensorFlow's ``inverse_stft_window_fn``),
    overlap-add, then cut the ``center`` padding (or keep ``length`` samples)."""
    _check_stride(sequence_stride)
    z, dtype = _complex_input(x)
    frames = irfft(x, fft_length)
    if window is not None:
        win = _window(window, sequence_length, fft_length, dtype)
        frames = multiply(frames, _inverse_window(win, sequence_stride))
    out = overlap_add(frames, sequence_stride)
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = -(fft_length // 2)
    else:
        end = fft_length + sequence_stride * (z.shape[-2] - 1)
    return getitem(out, (Ellipsis, slice(start, end)))


def _inverse_window(win, stride):
    """win[t] / Σ_j win[t + j·stride]² over the whole frame (0 where that sum is 0)."""
    n = win.shape[0]
    overlaps = -(-n // stride)
    squares = np.pad(np.square(win), (0, overlaps * stride - n)).reshape(overlaps, stride)
    denom = np.tile(squares.sum(axis=0), overlaps)[:n]
    safe = np.where(denom == 0, 1, denom)
    return np.where(denom == 0, np.zeros_like(win), win / safe).astype(win.dtype)
