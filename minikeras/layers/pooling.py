"""MaxPooling2D and AveragePooling2D: shrink each channel of an image by summarising windows.

The pooling itself, with its backward rule, is ``minikeras.ops.max_pool`` / ``average_pool``.
Arguments, configs and the shape rule follow ``keras/src/layers/pooling/base_pooling.py``.
"""

import numpy as np

from minikeras import ops
from minikeras.layers.convolutional import standardize_data_format, standardize_tuple
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer


class BasePooling(Layer):
    """What every window pooling shares (Keras's ``BasePooling``): arguments, config, shape rule;
    ``_pool`` is the 2-D op and ``pool`` applies it (1-D poolings first add a unit axis)."""

    _pool = None

    def __init__(self, rank, pool_size, strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = standardize_tuple(pool_size, rank, "pool_size")
        strides = pool_size if strides is None else strides
        self.strides = standardize_tuple(strides, rank, "strides", allow_zero=True)
        self.padding = padding
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)
        self.built = True  # no weights: built from the start, as Keras's _build_at_init

    def call(self, inputs):
        try:
            return self.pool(inputs)
        except ValueError as error:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}, pool_size "
                             f"{self.pool_size}) cannot pool input of shape "
                             f"{tuple(inputs.shape)}: {error}") from None

    def pool(self, inputs):
        return self._pool(inputs, self.pool_size, strides=self.strides, padding=self.padding,
                          data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        return pooling_output_shape(input_shape, self.pool_size, self.strides, self.padding,
                                    self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling2D(BasePooling):
    """The largest value of each ``pool_size`` window, per channel; windows move by
    ``strides`` (default: ``pool_size``, so they do not overlap):
        out[n, y, x, c] = max_{i, j} in[n, y·sh + i, x·sw + j, c]
    Backward: each window's gradient goes to its maximum (the first, if tied)."""

    _pool = staticmethod(ops.max_pool)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(2, pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling2D(BasePooling):
    """The mean of each ``pool_size`` window, per channel (with ``padding="same"``, the mean of
    the window's real pixels, as TensorFlow):
        out[n, y, x, c] = Σ_{i, j} in[n, y·sh + i, x·sw + j, c] / count
    Backward: each element of a window gets g / count. (``pool_size`` has no default here, as
    in Keras 3.15, where MaxPooling2D's is (2, 2).)"""

    _pool = staticmethod(ops.average_pool)

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(2, pool_size, strides, padding, data_format, name=name, **kwargs)


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D


def pooling_output_shape(input_shape, pool_size, strides, padding, data_format):
    """Keras's rule: "valid" gives floor((size - pool) / stride) + 1 positions, "same" gives
    ceil(size / stride); unknown sizes stay None."""
    input_shape = tuple(input_shape)
    spatial = input_shape[1:-1] if data_format == "channels_last" else input_shape[2:]
    out = []
    for size, p, s in zip(spatial, pool_size, strides, strict=True):
        if size is None:
            out.append(None)
        elif padding == "valid":
            n = (size - p) // s + 1
            if n <= 0:
                raise ValueError(
                    f"Computed output size would be zero or negative. Received: `inputs.shape="
                    f"{np.array(input_shape)}`, `pool_size={np.array(pool_size)}`, "
                    f"`strides={strides}`, `padding={padding}`.")
            out.append(n)
        elif padding == "same":
            out.append((size - 1) // s + 1)
        else:
            raise ValueError("Argument `padding` must be either 'valid' or 'same'. Received: "
                             f"padding={padding}")
    if data_format == "channels_last":
        return (input_shape[0], *out, input_shape[-1])
    return (input_shape[0], input_shape[1], *out)
