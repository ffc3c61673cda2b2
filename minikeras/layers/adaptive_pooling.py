"""Adaptive pooling layers: pool each channel to a fixed ``output_size``, whatever the input's
size (``keras.layers.AdaptiveAveragePooling1D`` ... ``AdaptiveMaxPooling3D``).

The pooling, its bins (start_i = floor(i·L / O), end_i = ceil((i + 1)·L / O)) and its backward
rule are ``minikeras.ops.adaptive_average_pool`` / ``adaptive_max_pool``
(``minikeras/ops/adaptive_pooling.py``). Arguments, checks and configs follow
``keras/src/layers/pooling/base_adaptive_pooling.py`` and its six subclasses.
"""

from minikeras import backend, ops
from minikeras.layers.layer import Layer

_AXES = {1: "length", 2: "(height, width)", 3: "(depth, height, width)"}


def _output_size_tuple(output_size, rank):
    """An int (the same size on every spatial axis) or ``rank`` ints, as a tuple (Keras's
    checks: a wrong length of a 1D size is a ValueError, every other bad value a TypeError)."""
    if isinstance(output_size, int):
        return (output_size,) * rank
    if isinstance(output_size, tuple | list):
        if len(output_size) == rank:
            return tuple(output_size)
        if rank == 1:
            raise ValueError(f"For 1D input, `output_size` tuple must have length 1. "
                             f"Received: {output_size}")
    raise TypeError(f"`output_size` must be an integer or {_AXES[rank]} tuple. "
                    f"Received: {output_size} of type {type(output_size)}")


class BaseAdaptivePooling(Layer):
    """What the six layers share: ``output_size`` (one int per spatial axis), ``data_format``,
    the output shape (batch, *output_size, channels) and the config."""

    rank = None
    _pool = None

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = _output_size_tuple(output_size, self.rank)
        self.data_format = data_format or backend.image_data_format()
        if self.data_format not in {"channels_first", "channels_last"}:
            raise ValueError(f"Invalid data_format: {self.data_format}. Expected "
                             "'channels_first' or 'channels_last'.")

    def call(self, inputs):
        return self._pool(inputs, output_size=self.output_size, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            return (input_shape[0], *self.output_size, input_shape[-1])
        return (input_shape[0], input_shape[1], *self.output_size)

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size,
                "data_format": self.data_format}


class _AdaptiveAverage(BaseAdaptivePooling):
    """out = the mean of each bin, per channel;  d/dx_s = Σ_{bins i ∋ s} g_i / |bin i|."""

    _pool = staticmethod(ops.adaptive_average_pool)


class _AdaptiveMax(BaseAdaptivePooling):
    """out = the maximum of each bin, per channel;  d/dx = g at each bin's first maximum
    (3D: at each of its tied maxima, as TensorFlow's 3-D max pooling)."""

    _pool = staticmethod(ops.adaptive_max_pool)


class AdaptiveAveragePooling1D(_AdaptiveAverage):
    """(batch, length, channels) -> (batch, output_size, channels): the mean of each bin
    ``x[floor(i·L/O) : ceil((i + 1)·L/O)]``."""

    rank = 1


class AdaptiveAveragePooling2D(_AdaptiveAverage):
    """(batch, height, width, channels) -> (batch, *output_size, channels): the mean of each
    bin, pooled over the height and then over the width."""

    rank = 2


class AdaptiveAveragePooling3D(_AdaptiveAverage):
    """(batch, depth, height, width, channels) -> (batch, *output_size, channels): the mean of
    each bin, pooled over the depth, the height and then the width."""

    rank = 3


class AdaptiveMaxPooling1D(_AdaptiveMax):
    """(batch, length, channels) -> (batch, output_size, channels): the maximum of each bin
    ``x[floor(i·L/O) : ceil((i + 1)·L/O)]``."""

    rank = 1


class AdaptiveMaxPooling2D(_AdaptiveMax):
    """(batch, height, width, channels) -> (batch, *output_size, channels): the maximum of each
    bin, pooled over the height and then over the width."""

    rank = 2


class AdaptiveMaxPooling3D(_AdaptiveMax):
    """(batch, depth, height, width, channels) -> (batch, *output_size, channels): the maximum
    of each bin, pooled over the depth, the height and then the width."""

    rank = 3
