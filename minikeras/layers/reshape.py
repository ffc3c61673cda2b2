"""Reshape: the same values arranged in a new shape (the batch axis is kept)."""

import math
import numbers

from minikeras import ops
from minikeras.layers.layer import Layer


class Reshape(Layer):
    """``(batch, *input_dims) -> (batch, *target_shape)``; one entry may be -1 (inferred).

    The gradient is reshaped back to the input's shape (``ops.reshape``).
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        _validate_target_shape(target_shape)
        self.target_shape = tuple(int(d) for d in target_shape)
        self.built = True

    def call(self, inputs):
        dims = _resolve(inputs.shape[1:], self.target_shape)
        return ops.reshape(inputs, (inputs.shape[0], *dims))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *_resolve(tuple(input_shape)[1:], self.target_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


def _validate_target_shape(target_shape):
    for dim in target_shape:
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim < -1:
            raise ValueError(
                "Each dimension in `target_shape` must be a non-negative integer, or `-1` for a "
                f"single unknown dimension. Received: target_shape={target_shape}.")
    if target_shape.count(-1) > 1:
        raise ValueError("There must be at most one unknown dimension (-1) in `target_shape`. "
                         f"Received: target_shape={target_shape}.")


def _resolve(input_dims, target_shape):
    """``target_shape`` with its -1 replaced by the size that keeps the element count (None when
    an input size is unknown)."""
    input_dims = tuple(input_dims)
    if None in input_dims:
        return tuple(None if d == -1 else d for d in target_shape)
    size = math.prod(input_dims)
    if -1 not in target_shape:
        if size != math.prod(target_shape):
            raise ValueError("The total size of the tensor must be unchanged. Received: "
                             f"input_shape={input_dims}, target_shape={target_shape}")
        return target_shape
    known = math.prod(d for d in target_shape if d != -1)
    if known == 0 or size % known != 0:
        raise ValueError(
            "The total size of the tensor must be unchanged, however, the input size cannot be "
            "divided by the specified dimensions in target_shape. Received: "
            f"input_shape={input_dims}, target_shape={target_shape}")
    return tuple(size // known if d == -1 else d for d in target_shape)
