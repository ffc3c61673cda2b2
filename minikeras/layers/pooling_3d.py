"""MaxPooling3D, AveragePooling3D, GlobalAveragePooling3D and GlobalMaxPooling3D: pooling of
(batch, depth, height, width, channels) volumes.

The window poolings share BasePooling (``minikeras/layers/pooling.py``) with the 2-D ones;
``ops.max_pool`` / ``ops.average_pool`` on rank-5 inputs are the 3-D ops of
``minikeras/ops/convolution.py``. The global poolings are ``ops.mean`` / ``ops.max`` over the
three spatial axes, as in ``minikeras/layers/global_pooling.py``. Arguments, configs and shapes
follow ``keras/src/layers/pooling/``.
"""

from minikeras import ops
from minikeras.layers.global_pooling import _GlobalPooling
from minikeras.layers.pooling import BasePooling


class MaxPooling3D(BasePooling):
    """The largest value of each ``pool_size`` window of voxels, per channel; windows move by
    ``strides`` (default: ``pool_size``):
        out[n, z, y, x, c] = max_{a, b, e} in[n, z·sd + a, y·sh + b, x·sw + e, c]
    Backward: each window's gradient goes to its maximum (the first, if tied)."""

    _pool = staticmethod(ops.max_pool)

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(3, pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling3D(BasePooling):
    """The mean of each ``pool_size`` window of voxels, per channel (with ``padding="same"``,
    the mean of the window's real voxels, as TensorFlow):
        out[n, z, y, x, c] = Σ_{a, b, e} in[n, z·sd + a, y·sh + b, x·sw + e, c] / count
    Backward: each element of a window gets g / count. ``pool_size`` has no default, as in
    Keras 3.15."""

    _pool = staticmethod(ops.average_pool)

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(3, pool_size, strides, padding, data_format, name=name, **kwargs)


class GlobalAveragePooling3D(_GlobalPooling):
    """``(batch, depth, rows, cols, channels) -> (batch, channels)``: the mean over the voxels
    (``channels_first``: ``(batch, channels, depth, rows, cols)``)."""

    pool_dimensions = 3

    def call(self, inputs):
        return ops.mean(inputs, axis=self._spatial_axes(), keepdims=self.keepdims)


class GlobalMaxPooling3D(_GlobalPooling):
    """``(batch, depth, rows, cols, channels) -> (batch, channels)``: the largest value over
    the voxels."""

    pool_dimensions = 3

    def call(self, inputs):
        return ops.max(inputs, axis=self._spatial_axes(), keepdims=self.keepdims)


MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool3D = GlobalMaxPooling3D
