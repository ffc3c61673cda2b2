"""AutoContrast: stretch each image's channels over the whole value range
(``keras.layers.AutoContrast``)."""

import numpy as np

from minikeras import ops
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from minikeras.layers.preprocessing.image.value_range import (
    check_value_range,
    transform_value_range,
)


class AutoContrast(BaseImagePreprocessingLayer):
    """On the images mapped to 0-255, per image and channel::

        low, high = min, max of x over axes 1 and 2
        y = clip((x - low) * 255 / (high - low), 0, 255)    (as x * s + (-low * s))

    and back to ``value_range``; a constant channel (``high == low``, where the formula gives
    NaN) keeps its input values. Applied in training and inference alike. Outputs are in the
    layer's float dtype. (Keras reduces axes 1 and 2 whatever the ``data_format``, so
    channels-first images are stretched over channels and height; minikeras does the same.)
    Differentiable almost everywhere (min, max, arithmetic).
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = check_value_range("AutoContrast", value_range)

    def transform_images(self, images, transformation=None, training=True):
        original = images
        x = ops.cast(transform_value_range(images, self.value_range, (0, 255), self.dtype),
                     self.dtype)
        low = ops.min(x, axis=(1, 2), keepdims=True)
        high = ops.max(x, axis=(1, 2), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = ops.divide(ops.cast(255.0, self.dtype), ops.subtract(high, low))
            offset = ops.multiply(ops.negative(low), scale)
            y = ops.clip(ops.add(ops.multiply(x, scale), offset), 0.0, 255.0)
            y = transform_value_range(y, (0, 255), self.value_range, self.dtype)
            y = ops.where(ops.isnan(y), ops.cast(original, self.dtype), y)
        return y

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}
