"""The other convolutions of ``keras.ops``: ``conv_transpose``, ``depthwise_conv`` and
``separable_conv``, each with its derivative beside its forward computation.

They reuse ``ops.conv``'s im2col machinery (``minikeras.ops.nn``): ``_windows`` views every window
of an image as (batch, out_h, out_w, kh, kw, channels) without copying, and ``_scatter_windows``
(col2im) is its adjoint. 1-D inputs (batch, steps, channels) are images one pixel high: each op
adds that unit axis, runs its 2-D form and removes the axis again (recorded ops, so gradients flow
through them), as Keras's TensorFlow backend does. ``channels_first`` inputs are transposed in and
out the same way. At the end: the 3-D ``conv``, ``max_pool`` and ``average_pool`` (rank-5
inputs), written for any number of spatial axes; ``conv_transpose`` uses them for volumes.
"""

import numpy as np

from minikeras import backend, dtypes
from minikeras.autodiff import record
from minikeras.ops import numpy as np_ops
from minikeras.ops.core import value_of
from minikeras.ops.nn import (
    _channels_first,
    _data_format,
    _padded,
    _pair,
    _same_padding,
    _scatter_windows,
    _windows,
    conv,
    conv_input_gradient,
)


def _arrays(*tensors):
    """The NumPy values, promoted to one dtype (as ``conv`` does)."""
    arrays = [np.asarray(value_of(t)) for t in tensors]
    if len({a.dtype for a in arrays}) > 1:
        arrays = list(dtypes.promote(*arrays))
    return arrays


def _check_channels(inputs, kernel, kernel_axis, data_format):
    """Keras's check (``check_conv_input_channels`` / ``check_conv_transpose_input_channels``):
    the inputs' channels must be the kernel's input channels, ``kernel.shape[kernel_axis]``."""
    x_shape, k_shape = np.shape(value_of(inputs)), np.shape(value_of(kernel))
    if len(x_shape) < 3 or len(k_shape) < 2:
        return
    channels = x_shape[-1] if data_format == "channels_last" else x_shape[1]
    if channels != k_shape[kernel_axis]:
        raise ValueError("The number of input channels must match the kernel's input channels. "
                         f"Received: input channels={channels}, kernel input "
                         f"channels={k_shape[kernel_axis]}, data_format='{data_format}'.")


def _spatial_rank(inputs, op, allowed=(1, 2)):
    rank = np.ndim(value_of(inputs)) - 2
    if rank not in allowed:
        expected = " or ".join(f"{r + 2} ({r}D)" for r in allowed)
        raise ValueError(f"`{op}` expects inputs of rank {expected}; received input of shape "
                         f"{np.shape(value_of(inputs))}.")
    return rank


def _one(value, name):
    """A 1-D op's int or 1-tuple argument as an int."""
    if isinstance(value, int | np.integer):
        return int(value)
    values = tuple(int(v) for v in value)
    if len(values) != 1:
        raise ValueError(f"The `{name}` argument of a 1D op must be an int or a tuple of 1 "
                         f"integer. Received {name}={value}")
    return values[0]


def _as_image(inputs, data_format):
    """A 1-D batch (n, steps, c) / (n, c, steps) as an image one pixel high, and its axis."""
    axis = 1 if data_format == "channels_last" else 2
    return np_ops.expand_dims(inputs, axis), axis


# --- transposed convolution ------------------------------------------------------------------

def conv_transpose_output_size(size, kernel, stride, padding, output_padding, dilation):
    """Keras's rule (``compute_conv_transpose_output_shape``), with k' = d·(k - 1) + 1:
        "valid": (size - 1)·s + k' + output_padding   (default output_padding: max(k', s) - k')
        "same":  size·s                              without output_padding,
                 (size - 1)·s + k' % 2 + output_padding  with it.
    Unknown sizes stay None."""
    if size is None:
        return None
    if str(padding).lower() not in {"valid", "same"}:
        raise ValueError("The `padding` argument must be one of 'valid', 'same'. "
                         f"Received: padding={padding}")
    span = (kernel - 1) * dilation + 1
    if str(padding).lower() == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (size - 1) * stride + span + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + span % 2 + output_padding


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Transposed convolution ("deconvolution") of (batch, height, width, channels) inputs with
    a (kh, kw, filters, channels) kernel -- note the order: output channels, then input channels.
    (1-D sequences and 3-D volumes alike, with one index per spatial axis.)

    It is defined as the adjoint of ``conv``: the gradient of ``conv(y, kernel)`` with respect to
    its input y, applied to ``inputs`` (TensorFlow's ``conv2d_backprop_input``). Every input pixel
    paints a kernel-sized patch, scaled by its value, onto the output, with patches ``strides``
    apart; overlapping patches add:
        out[n, y·sh + i·dh - top, x·sw + j·dw - left, f] += Σ_c in[n, y, x, c] · kernel[i, j, f, c]
    where (top, left) is the padding ``conv`` would crop, and the output size follows
    ``conv_transpose_output_size``. So the forward is ``conv``'s input gradient (the same code,
    ``conv_input_gradient``: g Wᵀ, then col2im), and the backward is a convolution:
        dL/din     = conv(pad(g), kernel)        im2col of the padded output gradient, times W
        dL/dkernel = P(pad(g))ᵀ in               as conv's kernel gradient, with the roles of the
                                                 image and the output gradient swapped
    """
    data_format = _data_format(data_format)
    _check_channels(inputs, kernel, -1, data_format)
    if _spatial_rank(inputs, "conv_transpose", allowed=(1, 2, 3)) == 1:
        image, axis = _as_image(inputs, data_format)
        out = conv_transpose(
            image, np_ops.expand_dims(kernel, 0), strides=(1, _one(strides, "strides")),
            padding=padding,
            output_padding=None if output_padding is None else (
                0, _one(output_padding, "output_padding")),
            data_format=data_format, dilation_rate=(1, _one(dilation_rate, "dilation_rate")))
        return np_ops.squeeze(out, axis)
    if data_format == "channels_first":
        if np.ndim(value_of(inputs)) == 5:
            return _channels_first_3d(conv_transpose, inputs, kernel, strides=strides,
                                      padding=padding, output_padding=output_padding,
                                      dilation_rate=dilation_rate)
        return _channels_first(conv_transpose, inputs, kernel, strides=strides, padding=padding,
                               output_padding=output_padding, dilation_rate=dilation_rate)
    x, k = _arrays(inputs, kernel)
    rank = x.ndim - 2  # 2 (images) or 3 (volumes)
    if k.ndim != rank + 2:
        raise ValueError(f"`conv_transpose` expects a kernel of rank {rank + 2}, (*kernel_size, "
                         f"filters, in_channels); received kernel of shape {k.shape} for inputs "
                         f"of shape {x.shape}.")
    *window, f, c = k.shape
    spread = _pair if rank == 2 else _triple
    strides, dilation = spread(strides, "strides"), spread(dilation_rate, "dilation_rate")
    out_pad = ((None,) * rank if output_padding is None
               else spread(output_padding, "output_padding"))
    n, in_sizes = x.shape[0], x.shape[1:-1]
    sizes, pads = [], []
    for size, kernel_size, s, d, op in zip(in_sizes, window, strides, dilation, out_pad,
                                           strict=True):
        out = conv_transpose_output_size(size, kernel_size, s, padding, op, d)
        span = (kernel_size - 1) * d + 1
        # the convolution this transposes: from `out` positions back to `size` positions
        if str(padding).lower() == "same":
            pad = _same_padding(out, span, s)
            forward = -(-out // s)
        else:
            pad = (0, 0)
            forward = (out - span) // s + 1 if out >= span else 0
        if forward != size:
            raise ValueError(
                f"`conv_transpose` cannot produce an output of size {out} from an input of size "
                f"{size} (kernel {kernel_size}, strides {s}, dilation {d}, padding='{padding}', "
                f"output_padding={op}): the convolution it transposes would give {forward} "
                f"positions instead of {size}. Use an `output_padding` smaller than `strides`.")
        sizes.append(out)
        pads.append(pad)
    pads = tuple(pads)
    padded_shape = (n, *[size + sum(pad) for size, pad in zip(sizes, pads, strict=True)], f)
    w = k.reshape(-1, c)  # the kernel of the convolution from f to c channels
    windows_shape = (n, *in_sizes, *window, f)
    input_gradient = conv_input_gradient if rank == 2 else conv_input_gradient_nd
    z = input_gradient(x, w, windows_shape, padded_shape, pads, strides, dilation)

    def g_patches(g):
        """The windows of the output gradient, zero-padded as the convolution pads, one row per
        input position: (n·in_positions, kernel_positions·f)."""
        padded = np.pad(g, ((0, 0), *pads, (0, 0)))
        windows = (_windows if rank == 2 else _windows_nd)(padded, window, strides, dilation)
        return windows.reshape(-1, w.shape[0])

    def d_inputs(g):
        return g_patches(g).dot(w).reshape(x.shape)

    def d_kernel(g):
        return g_patches(g).T.dot(x.reshape(-1, c)).reshape(k.shape)

    return record(z, (inputs, kernel), d_inputs, d_kernel)


# --- depthwise and separable convolutions ----------------------------------------------------

def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Each input channel convolved on its own with ``depth_multiplier`` kernels of its own:
    (batch, height, width, channels) inputs, a (kh, kw, channels, depth_multiplier) kernel,
    channels·M outputs (M = depth_multiplier), output channel c·M + m coming from input channel c:
        out[n, y, x, c·M + m] = Σ_{i, j} in[n, y·sh + i·dh, x·sw + j·dw, c] · kernel[i, j, c, m]
    Padding, strides and dilation as ``conv``. With W the windows (batch, out_h, out_w, kh, kw,
    channels) and g reshaped to (batch, out_h, out_w, channels, M):
        dL/dkernel[i, j, c, m] = Σ_{n, y, x} W[n, y, x, i, j, c] · g[n, y, x, c, m]
        dL/dW[n, y, x, i, j, c] = Σ_m g[n, y, x, c, m] · kernel[i, j, c, m], then col2im
    """
    data_format = _data_format(data_format)
    rank = np.ndim(value_of(inputs)) - 2
    if rank > 2:
        raise ValueError(f"`inputs` rank must be 3 (1D conv) or 4 (2D conv). Received: "
                         f"{rank + 2}.")
    _check_channels(inputs, kernel, -2, data_format)
    if _spatial_rank(inputs, "depthwise_conv") == 1:
        image, axis = _as_image(inputs, data_format)
        out = depthwise_conv(image, np_ops.expand_dims(kernel, 0),
                             strides=(1, _one(strides, "strides")), padding=padding,
                             data_format=data_format,
                             dilation_rate=(1, _one(dilation_rate, "dilation_rate")))
        return np_ops.squeeze(out, axis)
    if data_format == "channels_first":
        return _channels_first(depthwise_conv, inputs, kernel, strides=strides, padding=padding,
                               dilation_rate=dilation_rate)
    x, k = _arrays(inputs, kernel)
    if k.ndim != 4:
        raise ValueError(f"`depthwise_conv` expects a kernel of rank 4, (kh, kw, in_channels, "
                         f"depth_multiplier); received kernel of shape {k.shape} for inputs of "
                         f"shape {x.shape}.")
    kh, kw, c, m = k.shape
    strides, dilation = _pair(strides, "strides"), _pair(dilation_rate, "dilation_rate")
    a, pads = _padded(x, (kh, kw), strides, padding, dilation, 0, "depthwise_conv")
    windows = _windows(a, (kh, kw), strides, dilation)
    n, oh, ow = windows.shape[:3]
    z = np.einsum("nyxijc,ijcm->nyxcm", windows, k, optimize=True).reshape(n, oh, ow, c * m)

    def d_inputs(g):
        g = g.reshape(n, oh, ow, c, m)
        pieces = np.einsum("nyxcm,ijcm->nyxijc", g, k, optimize=True)
        return _scatter_windows(pieces, a.shape, pads, strides, dilation)  # col2im

    def d_kernel(g):
        g = g.reshape(n, oh, ow, c, m)
        return np.einsum("nyxijc,nyxcm->ijcm", windows, g, optimize=True)

    return record(z.astype(x.dtype, copy=False), (inputs, kernel), d_inputs, d_kernel)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """A depthwise convolution, then a 1x1 ("pointwise") convolution that mixes the channels:
        out = conv(depthwise_conv(in, depthwise_kernel, strides, padding, dilation_rate),
                   pointwise_kernel)
    with a (kh, kw, channels, depth_multiplier) depthwise kernel and a (1, 1,
    channels·depth_multiplier, filters) pointwise kernel (TensorFlow's ``separable_conv2d``).
    Both steps are recorded ops, so the derivative is the chain rule through their rules.
    """
    data_format = _data_format(data_format)
    rank = np.ndim(value_of(inputs)) - 2
    if rank > 2:
        raise ValueError(f"`num_spatial_dims` must be 1 or 2. Received: num_spatial_dims={rank}.")
    _check_channels(inputs, depthwise_kernel, -2, data_format)
    if _spatial_rank(inputs, "separable_conv") == 1:
        image, axis = _as_image(inputs, data_format)
        out = separable_conv(image, np_ops.expand_dims(depthwise_kernel, 0),
                             np_ops.expand_dims(pointwise_kernel, 0),
                             strides=(1, _one(strides, "strides")), padding=padding,
                             data_format=data_format,
                             dilation_rate=(1, _one(dilation_rate, "dilation_rate")))
        return np_ops.squeeze(out, axis)
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides=strides, padding=padding,
                               data_format=data_format, dilation_rate=dilation_rate)
    return conv(depthwise, pointwise_kernel, data_format=data_format)


# --- 3-D volumes: conv, max_pool and average_pool on (batch, depth, height, width, channels) ---
#
# The same im2col as the 2-D ops, written for any number of spatial axes: ``_windows_nd`` views
# every window as (batch, *out, *window, channels) without copying, ``_scatter_windows_nd`` adds
# window-shaped pieces back onto the voxels they were read from (col2im). ``ops.conv``,
# ``ops.max_pool`` and ``ops.average_pool`` send rank-5 inputs here.


def _triple(value, name):
    """An int or 3 ints, as 3 ints: one per spatial axis (depth, height, width)."""
    if isinstance(value, int | np.integer):
        return (int(value),) * 3
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * 3
    if len(values) != 3:
        raise ValueError(f"The `{name}` argument of a 3D op must be an int or a tuple of 3 "
                         f"integers. Received {name}={value}")
    return values


def _channels_first_3d(op, inputs, *args, **kwargs):
    """Run a channels_last 3-D ``op`` on (batch, channels, d, h, w) inputs (recorded
    transposes, so gradients flow through them)."""
    x = np_ops.transpose(inputs, (0, 2, 3, 4, 1))
    out = op(x, *args, data_format="channels_last", **kwargs)
    return np_ops.transpose(out, (0, 4, 1, 2, 3))


def _padded_nd(a, window, strides, padding, dilation, fill, op):
    """``a`` (batch, *spatial, channels) padded with ``fill`` as TensorFlow pads ("same": the
    extra element at the end), and the pads; checks that at least one window fits."""
    spans = [(k - 1) * d + 1 for k, d in zip(window, dilation, strict=True)]
    mode = str(padding).lower()
    if mode == "valid":
        pads = tuple((0, 0) for _ in window)
    elif mode == "same":
        pads = tuple(_same_padding(a.shape[1 + i], spans[i], strides[i])
                     for i in range(len(window)))
    else:
        raise ValueError(f"`padding` must be either 'valid' or 'same'. Received: {padding}")
    if any(p != (0, 0) for p in pads):
        a = np.pad(a, ((0, 0), *pads, (0, 0)), constant_values=fill)
    if any(a.shape[1 + i] < span for i, span in enumerate(spans)):
        raise ValueError(f"Computed output size would be zero or negative: `{op}` with a window "
                         f"of {tuple(window)} (dilation {tuple(dilation)}) does not fit an input "
                         f"of shape {a.shape} with padding='{mode}'.")
    return a, pads


def _windows_nd(a, window, strides, dilation):
    """A view of shape (batch, *out, *window, channels): window (z, y, x) starts at voxel
    (z·sd, y·sh, x·sw) and reads every d-th voxel along each axis. Nothing is copied."""
    n, *sizes, c = a.shape
    out = [(size - (k - 1) * d - 1) // s + 1
           for size, k, s, d in zip(sizes, window, strides, dilation, strict=True)]
    step = a.strides
    spatial_steps = step[1:-1]
    return np.lib.stride_tricks.as_strided(
        a, (n, *out, *window, c),
        (step[0], *[st * s for st, s in zip(spatial_steps, strides, strict=True)],
         *[st * d for st, d in zip(spatial_steps, dilation, strict=True)], step[-1]),
        writeable=False)


def _scatter_windows_nd(pieces, padded_shape, pads, strides, dilation):
    """The adjoint of ``_windows_nd`` (col2im): each window-shaped piece is added onto the voxel
    it was read from, then the padding is cropped off. One strided slice per kernel offset."""
    rank = len(strides)
    out, window = pieces.shape[1:1 + rank], pieces.shape[1 + rank:1 + 2 * rank]
    grad = np.zeros(padded_shape, pieces.dtype)
    everything = slice(None)
    for offset in np.ndindex(*window):
        target = tuple(slice(o * d, o * d + (m - 1) * s + 1, s)
                       for o, d, m, s in zip(offset, dilation, out, strides, strict=True))
        grad[(everything, *target, everything)] += pieces[(everything,) * (1 + rank) + offset]
    crop = tuple(slice(before, size - after)
                 for (before, after), size in zip(pads, padded_shape[1:-1], strict=True))
    return grad[(everything, *crop, everything)]


def conv_input_gradient_nd(g, w, windows_shape, padded_shape, pads, strides, dilation):
    """The 3-D ``conv``'s gradient with respect to its input (and the forward of the 3-D
    ``conv_transpose``), as ``minikeras.ops.nn.conv_input_gradient`` for images:
        dL/dP = g Wᵀ,  then col2im: each window's row added back onto its voxels."""
    pieces = g.reshape(-1, w.shape[1]).dot(w.T).reshape(windows_shape)
    return _scatter_windows_nd(pieces, padded_shape, pads, strides, dilation)


def conv3d(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """3D convolution (cross-correlation) of (batch, depth, height, width, channels) inputs with
    a (kd, kh, kw, channels, filters) kernel:
        out[n, z, y, x, f] = Σ_{a, b, e, c} in[n, z·sd + a·dd, y·sh + b·dh, x·sw + e·dw, c]
                                            · kernel[a, b, e, c, f]
    im2col, as the 2-D ``conv``: P (one row per window) times W (kd·kh·kw·channels, filters):
        Z = P W,   dL/dW = Pᵀ g,   dL/dP = g Wᵀ, then col2im onto the voxels: dL/dx
    """
    if _data_format(data_format) == "channels_first":
        return _channels_first_3d(conv3d, inputs, kernel, strides=strides, padding=padding,
                                  dilation_rate=dilation_rate)
    x, k = _arrays(inputs, kernel)
    if k.ndim != 5:
        raise ValueError(f"`conv` of 3D inputs expects a kernel of rank 5, (kd, kh, kw, "
                         f"in_channels, filters); received kernel of shape {k.shape} for inputs "
                         f"of shape {x.shape}.")
    if k.shape[3] != x.shape[-1]:
        raise ValueError(f"The kernel's input channels ({k.shape[3]}, kernel shape {k.shape}) "
                         f"must equal the inputs' last axis (input shape {x.shape}).")
    *window, c, f = k.shape
    strides, dilation = _triple(strides, "strides"), _triple(dilation_rate, "dilation_rate")
    a, pads = _padded_nd(x, window, strides, padding, dilation, 0, "conv")
    windows = _windows_nd(a, window, strides, dilation)
    out = windows.shape[:4]
    patches = windows.reshape(-1, int(np.prod(window)) * c)  # the one copy: im2col
    w = k.reshape(-1, f)
    z = patches.dot(w).reshape(*out, f)

    def d_inputs(g):
        return conv_input_gradient_nd(g, w, windows.shape, a.shape, pads, strides, dilation)

    def d_kernel(g):
        return patches.T.dot(g.reshape(-1, f)).reshape(k.shape)  # dL/dW = Pᵀ g

    return record(z, (inputs, kernel), d_inputs, d_kernel)


def max_pool3d(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The largest value of each (pd, ph, pw) window of each channel:
        out[n, z, y, x, c] = max_{a, b, e} in[n, z·sd + a, y·sh + b, x·sw + e, c]
        d/d in = g at every element equal to the window's maximum, 0 elsewhere
    TensorFlow's 3-D rule (MaxPool3DGrad): tied maxima each get the whole g, where the 2-D
    ``max_pool`` gives it to the first only. "same" pads with -inf."""
    if _data_format(data_format) == "channels_first":
        return _channels_first_3d(max_pool3d, inputs, pool_size, strides=strides,
                                  padding=padding)
    a = np.asarray(value_of(inputs))
    pool = _triple(pool_size, "pool_size")
    strides = pool if strides is None else _triple(strides, "strides")
    fill = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
    padded, pads = _padded_nd(a, pool, strides, padding, (1, 1, 1), fill, "max_pool")
    windows = _windows_nd(padded, pool, strides, (1, 1, 1))
    size = int(np.prod(pool))
    flat = windows.reshape(*windows.shape[:4], size, windows.shape[-1])
    out = flat.max(axis=4)
    hit = flat == out[:, :, :, :, None, :]  # where the gradient goes: every maximum

    def d_inputs(g):
        pieces = (hit * g[:, :, :, :, None, :]).reshape(windows.shape)
        return _scatter_windows_nd(pieces, padded.shape, pads, strides, (1, 1, 1))

    return record(out, (inputs,), d_inputs)


def average_pool3d(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The mean of each (pd, ph, pw) window of each channel:
        out[n, z, y, x, c] = Σ_{a, b, e} in[n, z·sd + a, y·sh + b, x·sw + e, c] / count
        d/d in = g / count at each element of the window
    where count = pd·ph·pw, or with "same" padding the number of real (un-padded) voxels in
    the window, as TensorFlow."""
    if _data_format(data_format) == "channels_first":
        return _channels_first_3d(average_pool3d, inputs, pool_size, strides=strides,
                                  padding=padding)
    a = np.asarray(value_of(inputs))
    pool = _triple(pool_size, "pool_size")
    strides = pool if strides is None else _triple(strides, "strides")
    padded, pads = _padded_nd(a, pool, strides, padding, (1, 1, 1), 0, "average_pool")
    windows = _windows_nd(padded, pool, strides, (1, 1, 1))
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype(backend.floatx())
    window_axes = (4, 5, 6)
    if all(p == (0, 0) for p in pads):
        count = np.asarray(np.prod(pool), dtype)
    else:  # pool a ones volume padded with zeros: how many real voxels each window covers
        ones, _ = _padded_nd(np.ones((1, *a.shape[1:4], 1), dtype), pool, strides, padding,
                             (1, 1, 1), 0, "average_pool")
        count = _windows_nd(ones, pool, strides, (1, 1, 1)).sum(axis=window_axes)
    out = (windows.sum(axis=window_axes) / count).astype(dtype, copy=False)

    def d_inputs(g):
        share = g / count  # each element's share of its window's gradient
        pieces = np.broadcast_to(share[:, :, :, :, None, None, None, :], windows.shape)
        return _scatter_windows_nd(pieces, padded.shape, pads, strides, (1, 1, 1))

    return record(out, (inputs,), d_inputs)
