"""``adaptive_average_pool`` and ``adaptive_max_pool``: pool to a fixed output size, whatever the
input size (``keras.ops``; the layers are in ``minikeras/layers/adaptive_pooling.py``).

Output position i of an axis of length L pooled to O positions summarises the bin

    start_i = floor(i·L / O),   end_i = ceil((i + 1)·L / O)        (PyTorch's and Keras's bins)

so bins cover the axis, have ceil(L / O) or ceil(L / O) + 1 elements, and overlap by one element
where O does not divide L (when O > L, inputs repeat). Keras computes the same bins as two
stride-1 poolings and a gather; here each bin is gathered directly. 2-D and 3-D inputs are pooled
one axis after the other (depth, height, then width), as Keras does: for the mean this is the mean
of the box; for the maximum it also decides which of tied maxima receives the gradient.
"""

import numpy as np

from minikeras import backend
from minikeras.autodiff import record
from minikeras.ops.core import cast, value_of


def adaptive_bins(length, output_size):
    """The bins (start, end) of an axis of ``length`` pooled to ``output_size``, as two int
    arrays: start_i = floor(i·L / O), end_i = ceil((i + 1)·L / O), in exact integer arithmetic."""
    i = np.arange(output_size)
    return (i * length) // output_size, -((-(i + 1) * length) // output_size)


def _gather_indices(length, output_size):
    """(indices, inside): one row per bin, ``big`` = the largest bin's size columns; index
    start + k, clipped to the bin's last element, and whether k is inside the bin."""
    start, end = adaptive_bins(length, output_size)
    k = np.arange(int(np.max(end - start)))
    inside = start[:, None] + k < end[:, None]
    return np.minimum(start[:, None] + k, end[:, None] - 1), inside


def _scatter(pieces, indices, length):
    """The adjoint of the gather ``a[:, indices]``: each piece (rows, O, big) added back onto
    the element it was read from (elements in two overlapping bins get both)."""
    grad = np.zeros((pieces.shape[0], length), pieces.dtype)
    rows = np.arange(pieces.shape[0])[:, None, None]
    np.add.at(grad, (rows, np.broadcast_to(indices, pieces.shape)), pieces)
    return grad


def _pool_axis(x, axis, output_size, mode, all_maxima=False):
    """A 1-D adaptive pool of ``axis`` (see the module docstring), recorded with its backward:
        mean:  out_i = Σ_{s in bin i} x_s / |bin i|;   d/dx_s = Σ_{bins i ∋ s} g_i / |bin i|
        max:   out_i = max_{s in bin i} x_s;          d/dx_s = Σ_{bins i whose first max is s} g_i
    With ``all_maxima`` each of a bin's tied maxima gets the bin's whole g_i (TensorFlow's 3-D
    max pooling gradient, which Keras's 3-D adaptive max pool inherits).
    """
    a = np.moveaxis(np.asarray(value_of(x)), axis, -1)
    moved_shape, length = a.shape, a.shape[-1]
    flat = a.reshape(-1, length)
    indices, inside = _gather_indices(length, output_size)
    windows = flat[:, indices]  # (rows, O, big); outside a bin: the bin's last element again
    if mode == "average":
        size = inside.sum(axis=1).astype(flat.dtype)
        out = np.add.reduce(np.where(inside, windows, 0), axis=-1) / size  # (no inf · 0)

        def d_flat(g):
            return _scatter(g[:, :, None] * (inside / size[:, None]).astype(g.dtype),
                            indices, length)
    else:
        out = windows.max(axis=-1)
        if all_maxima:  # every element equal to its bin's maximum (the clipped copies: none)
            hit = (windows == out[:, :, None]) & inside
        else:  # the first maximum of each bin
            hit = windows.argmax(axis=-1)[:, :, None] == np.arange(indices.shape[1])

        def d_flat(g):
            return _scatter(g[:, :, None] * hit, indices, length)

    out_shape = (*moved_shape[:-1], output_size)

    def d_x(g):
        g = np.moveaxis(g, axis, -1).reshape(-1, output_size)
        return np.moveaxis(d_flat(g).reshape(moved_shape), -1, axis)

    return record(np.moveaxis(out.reshape(out_shape), -1, axis), (x,), d_x)


def _output_sizes(output_size, spatial, op):
    """``output_size`` (an int, or one int per spatial axis) as a tuple, checked."""
    sizes = (output_size,) * spatial if isinstance(output_size, int | np.integer) else tuple(
        output_size)
    if len(sizes) != spatial or not all(isinstance(s, int | np.integer) and s > 0
                                        for s in sizes):
        raise ValueError(f"`output_size` of `{op}` must be a positive integer or a tuple of "
                         f"{spatial} positive integers, one per spatial axis of the "
                         f"{spatial}D input. Received: output_size={output_size}")
    return tuple(int(s) for s in sizes)


def _adaptive_pool(inputs, output_size, data_format, mode, op):
    data_format = backend.standardize_data_format(data_format)
    spatial = np.ndim(value_of(inputs)) - 2
    if spatial not in (1, 2, 3):
        raise ValueError(f"{op} supports 1D, 2D, or 3D inputs only.")
    sizes = _output_sizes(output_size, spatial, op)
    if mode == "average" and np.asarray(value_of(inputs)).dtype.kind != "f":
        inputs = cast(inputs, backend.floatx())  # a mean of integers is a float
    first = 1 if data_format == "channels_last" else 2
    out = inputs
    for i, size in enumerate(sizes):  # depth, height, width: one axis after the other
        out = _pool_axis(out, first + i, size, mode, all_maxima=spatial == 3)
    return out


def adaptive_average_pool(inputs, output_size, data_format=None):
    """The mean of each adaptive bin (module docstring), per channel, so that the spatial shape
    becomes ``output_size``: (batch, *spatial, channels) -> (batch, *output_size, channels) for
    ``channels_last``, (batch, channels, *spatial) -> (batch, channels, *output_size) for
    ``channels_first``. 1D, 2D or 3D inputs;  d/dx_s = Σ_{bins i ∋ s} g_i / |bin i|."""
    return _adaptive_pool(inputs, output_size, data_format, "average", "adaptive_average_pool")


def adaptive_max_pool(inputs, output_size, data_format=None):
    """The largest value of each adaptive bin (module docstring), per channel; shapes as
    ``adaptive_average_pool``. d/dx = g at each bin's first maximum (axis by axis), else 0;
    for 3D inputs at every one of a bin's tied maxima (TensorFlow's 3-D max pooling rule)."""
    return _adaptive_pool(inputs, output_size, data_format, "max", "adaptive_max_pool")

