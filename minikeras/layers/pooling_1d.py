"""MaxPooling1D and AveragePooling1D: shrink each channel of a sequence by summarising windows.

A sequence (batch, steps, channels) is pooled as an image one pixel high: the layer adds a unit
axis (``expand_dims``), runs the 2-D ``ops.max_pool`` / ``ops.average_pool`` with a (1, p)
window, and removes the axis (``squeeze``); both are recorded ops, so gradients are the 2-D
ones. Arguments, configs and the shape rule follow ``keras/src/layers/pooling/base_pooling.py``.
"""

from minikeras import ops
from minikeras.layers.pooling import BasePooling


class _Pooling1D(BasePooling):
    """A 1-D pooling: the sequence as an image of height 1, pooled by the 2-D op."""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(1, pool_size, strides, padding, data_format, name=name, **kwargs)

    def pool(self, inputs):
        steps_axis = 1 if self.data_format == "channels_last" else 2
        image = ops.expand_dims(inputs, steps_axis)  # (n, 1, steps, c) or (n, c, 1, steps)
        outputs = self._pool(image, (1, self.pool_size[0]), strides=(1, self.strides[0]),
                             padding=self.padding, data_format=self.data_format)
        return ops.squeeze(outputs, steps_axis)


class MaxPooling1D(_Pooling1D):
    """The largest value of each ``pool_size`` window of steps, per channel; windows move by
    ``strides`` (default: ``pool_size``):
        out[n, t, c] = max_i in[n, t·s + i, c]
    Backward: each window's gradient goes to its maximum (the first, if tied)."""

    _pool = staticmethod(ops.max_pool)

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(_Pooling1D):
    """The mean of each ``pool_size`` window of steps, per channel (with ``padding="same"``,
    the mean of the window's real steps, as TensorFlow):
        out[n, t, c] = Σ_i in[n, t·s + i, c] / count
    Backward: each element of a window gets g / count. (No default ``pool_size``, as in
    Keras 3.15, where MaxPooling1D's is 2.)"""

    _pool = staticmethod(ops.average_pool)

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
