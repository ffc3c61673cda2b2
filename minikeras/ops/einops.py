"""``ops.rearrange``: einops-style axis rearrangement, parsed as Keras parses it.

Keras (keras/src/ops/einops.py) reads a pattern such as ``"b (h h1) w c -> b h w (c h1)"`` with
two regular expressions and then does three things, all plain reshapes and transposes (so the
gradient flows back through them, each undone by its own derivative):

1. decompose: reshape so every axis inside an input group ``(h h1)`` becomes its own axis;
2. permute: transpose the flat list of input axes into the order of the output axes;
3. compose: reshape so each output group ``(c h1)`` becomes one axis (the product).

A group may leave one axis unnamed in ``axes_lengths``: its length is the group's size floor-
divided by the others'. Keras's parser is simpler than einops's, and minikeras keeps it so:
no ``...``, no anonymous axes (``1``, ``()``), axes_lengths for ungrouped axes ignored, and the
same errors (a pattern without ``->``, an output axis missing from the input, an axis length
missing for a group). Where TensorFlow raises InvalidArgumentError (a size that does not fit,
a rank that does not match), minikeras raises ValueError.
"""

import math
import re

import numpy as np

from minikeras.ops.core import value_of
from minikeras.ops.numpy import reshape, transpose

_AXIS = r"\w+|\(.*?\)"  # an axis name or a parenthesised group
_GROUP = r"\(([\w\s]+)\)"


def _groups(axes):
    """["b", "(h h1)"] -> [["b"], ["h", "h1"]]."""
    out = []
    for axis in axes:
        grouped = re.match(_GROUP, axis)
        out.append(grouped.group(1).split() if grouped else [axis])
    return out


def _axes_map(axes, input_shape, axes_lengths):
    """Every input axis's length: ungrouped ones from the shape, grouped ones from axes_lengths
    (completing it, in place, with the one unnamed axis of each group)."""
    axes_map = {}
    # strict=False, as Keras: a pattern with more or fewer axes than the input is caught later
    for axis, dim in zip(axes, input_shape, strict=False):
        grouped = re.match(_GROUP, axis)
        if grouped:
            inner = grouped.group(1).split()
            inferred = [a for a in inner if a not in axes_lengths]
            if inferred:
                known = math.prod(axes_lengths[a] for a in inner if a in axes_lengths)
                axes_lengths[inferred[0]] = dim // known
            axes_map.update({a: axes_lengths[a] for a in inner})  # KeyError: a 2nd unnamed
        else:
            axes_map[axis] = dim
    return axes_map


def _check_reshape(shape, new_shape):
    size, new_size = math.prod(shape), math.prod(new_shape)
    if size != new_size:
        raise ValueError(f"Input to reshape is a tensor with {size} values, but the requested "
                         f"shape has {new_size} (rearrange: {tuple(shape)} -> "
                         f"{tuple(new_shape)}).")


def rearrange(tensor, pattern, **axes_lengths):
    """Rearrange ``tensor``'s axes as ``pattern`` says, einops-style: for an input of shape
    (32, 30, 40, 3), ``"b h w c -> b c h w"`` gives (32, 3, 30, 40), ``"b h w c -> (b h) w c"``
    (960, 40, 3), ``"b (h h1) (w w1) c -> b h w (c h1 w1)"`` with h1=2, w1=2 (32, 15, 20, 12).

    The gradient is the inverse rearrangement of the incoming gradient (through reshape and
    transpose, each with its own derivative).
    """
    input_pattern, output_pattern = re.split(r"\s*->\s*", pattern)
    input_axes = re.findall(_AXIS, input_pattern)
    output_axes = re.findall(_AXIS, output_pattern)
    input_shape = tuple(np.shape(value_of(tensor)))

    axes_map = _axes_map(input_axes, input_shape, axes_lengths)
    output_groups = _groups(output_axes)
    flat_output = [a for group in output_groups for a in group]

    # 1. decompose the grouped input axes (Keras reshapes only when the shape changes)
    flat_input = [a for group in _groups(input_axes) for a in group]
    decomposed = []
    for axis in input_axes:
        if "(" in axis:  # a group: its axes' lengths (KeyError: an axis in no group's reach)
            decomposed.extend(axes_lengths[a] for a in re.findall(r"\w+", axis))
        else:
            decomposed.append(axes_map[axis])  # KeyError: more axes than the input has
    if tuple(decomposed) != input_shape:
        _check_reshape(input_shape, decomposed)
        tensor = reshape(tensor, decomposed)

    # 2. permute into the output's order
    order = [flat_input.index(a) for a in flat_output]  # ValueError: 'd' is not in list
    if len(set(order)) != len(order):
        raise ValueError("`axes` must be a valid permutation of the input dimensions (no "
                         f"duplicates). Received: axes={order} for input of rank "
                         f"{len(decomposed)}.")
    if len(order) != len(decomposed):
        raise ValueError(f"transpose expects a vector of size {len(decomposed)}. But the "
                         f"permutation is {order} (rearrange pattern {pattern!r}).")
    tensor = transpose(tensor, order)

    # 3. compose the output groups
    output_shape = tuple(math.prod(axes_map[a] for a in group) for group in output_groups)
    _check_reshape(decomposed, output_shape)
    return reshape(tensor, output_shape)
