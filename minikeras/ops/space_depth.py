"""``depth_to_space`` (pixel shuffle) and ``space_to_depth``: moving values between the channel
axis and b x b spatial blocks, as ``keras.ops`` does on its TensorFlow backend.

Both are one reshape, one transpose and one reshape (recorded ops), so the gradient of each is
the other applied to the output gradient: they only move values, never combine them.

Element order (TensorFlow's, also for ``channels_first``, which Keras's TensorFlow backend
computes by transposing to channels_last and back), with b = block_size and C = output channels:

    depth_to_space:  out[n, h·b + i, w·b + j, c] = in[n, h, w, (i·b + j)·C + c]

(Keras's NumPy and JAX backends order ``channels_first`` channels as c·b² + i·b + j instead;
minikeras follows the TensorFlow backend, the one the parity tests run.)
"""

import numpy as np

from minikeras import backend
from minikeras.ops import numpy as np_ops
from minikeras.ops.core import value_of


def _checked(x, block_size, data_format, op):
    """The data format, and the shape as (n, h, w, c) in channels_last order; checks the rank
    and ``block_size`` as Keras does."""
    data_format = backend.standardize_data_format(data_format)
    if block_size < 2:
        raise ValueError(f"`block_size` must be at least 2. Received: block_size={block_size}")
    shape = tuple(np.shape(value_of(x)))
    if len(shape) != 4:
        raise ValueError(f"`{op}` requires a 4D input tensor. Received: x.shape={shape}")
    if data_format == "channels_first":
        shape = (shape[0], shape[2], shape[3], shape[1])
    return data_format, shape


def _channels_last(fn, x, block_size, data_format):
    """Run the channels_last ``fn`` on a channels_first ``x``: transpose in and out."""
    if data_format == "channels_last":
        return fn(x, block_size)
    return np_ops.transpose(fn(np_ops.transpose(x, (0, 2, 3, 1)), block_size), (0, 3, 1, 2))


def _depth_to_space(x, b):
    n, h, w, c = np.shape(value_of(x))
    blocks = np_ops.reshape(x, (n, h, w, b, b, c // (b * b)))  # channel (i·b + j)·C + c
    rows = np_ops.transpose(blocks, (0, 1, 3, 2, 4, 5))  # (n, h, i, w, j, C)
    return np_ops.reshape(rows, (n, h * b, w * b, c // (b * b)))


def _space_to_depth(x, b):
    n, h, w, c = np.shape(value_of(x))
    blocks = np_ops.reshape(x, (n, h // b, b, w // b, b, c))  # (n, h, i, w, j, c)
    depth = np_ops.transpose(blocks, (0, 1, 3, 2, 4, 5))  # (n, h, w, i, j, c)
    return np_ops.reshape(depth, (n, h // b, w // b, c * b * b))


def depth_to_space(x, block_size, data_format="channels_last"):
    """(N, H, W, C·b²) -> (N, H·b, W·b, C): each pixel's channels become a b x b block,
        out[n, h·b + i, w·b + j, c] = in[n, h, w, (i·b + j)·C + c];
    the gradient is ``space_to_depth`` of the output gradient. The reverse of
    ``space_to_depth``."""
    data_format, (_, _, _, c) = _checked(x, block_size, data_format, "depth_to_space")
    if c % (block_size**2) != 0:
        raise ValueError(f"The number of channels ({c}) must be divisible by "
                         f"block_size**2 ({block_size**2}).")
    return _channels_last(_depth_to_space, x, block_size, data_format)


def space_to_depth(x, block_size, data_format="channels_last"):
    """(N, H·b, W·b, C) -> (N, H, W, C·b²): each b x b block becomes one pixel's channels,
        out[n, h, w, (i·b + j)·C + c] = in[n, h·b + i, w·b + j, c];
    the gradient is ``depth_to_space`` of the output gradient. The reverse of
    ``depth_to_space``."""
    data_format, (_, h, w, _) = _checked(x, block_size, data_format, "space_to_depth")
    if h % block_size != 0:
        raise ValueError(f"Height ({h}) must be divisible by block_size ({block_size}).")
    if w % block_size != 0:
        raise ValueError(f"Width ({w}) must be divisible by block_size ({block_size}).")
    return _channels_last(_space_to_depth, x, block_size, data_format)
