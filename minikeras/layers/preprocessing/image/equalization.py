"""Equalization: histogram equalization of each channel (``keras.layers.Equalization``)."""

import numpy as np

from minikeras import ops
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from minikeras.layers.preprocessing.image.value_range import check_value_range


class Equalization(BaseImagePreprocessingLayer):
    """With ``training=True``, for each channel (one histogram over the whole batch, as
    Keras builds it), on the values ``x`` mapped to 0-255::

        hist = counts of floor(x (bins - 1) / 255), clipped to [0, bins - 1]
        cdf = cumsum(hist);  cdf_min = first non-zero cdf
        lut = clip(round((cdf - cdf_min) 255 / (cdf[-1] - cdf_min)), 0, 255)
        y = lut[floor(clip(x / 255 (bins - 1), 0, bins - 1))]

    and back to ``value_range``; a channel whose values fill at most one bin is kept as is.
    At inference the identity (Keras's ``transform_images`` runs only when training, though
    its docstring says otherwise). Training outputs are in the layer's float dtype. Not
    differentiable (a lookup table).
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        # Keras 3.15 fails here with an AttributeError (its message constant is missing)
        self.value_range = check_value_range("Equalization", value_range)

    @staticmethod
    def _scale_values(values, source_range, target_range):
        """``values * scale + offset``, with Keras's Python-float scale and offset."""
        (source_min, source_max), (target_min, target_max) = source_range, target_range
        scale = (target_max - target_min) / (source_max - source_min)
        offset = target_min - source_min * scale
        return values * scale + offset

    def _histogram(self, channel):
        scaled = (channel.astype("float32") - np.float32(0)) * (self.bins - 1) / np.float32(255)
        indices = np.clip(scaled.astype("int32"), 0, self.bins - 1)
        return np.bincount(indices.ravel(), minlength=self.bins)

    def _equalize_channel(self, channel):
        """One channel of the whole batch, (batch, height, width), float."""
        channel = self._scale_values(channel, self.value_range, (0, 255))
        hist = self._histogram(channel)
        if np.count_nonzero(hist) <= 1:
            equalized = channel.astype("float64")  # Keras's where() promotes to the table's
        else:
            cdf = np.cumsum(hist)
            cdf_min = cdf[np.nonzero(cdf)[0][0]]
            denominator = cdf[-1] - cdf_min
            denominator = 1 if denominator == 0 else denominator
            table = np.clip(np.round((cdf - cdf_min) * 255 / denominator), 0, 255)  # float64
            scaled = (channel / np.float32(255.0)) * (self.bins - 1)
            indices = np.clip(scaled, 0, self.bins - 1).astype("int32")
            equalized = table[indices]
        return self._scale_values(equalized, (0, 255), self.value_range)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        x = np.asarray(ops.cast(images, self.dtype))
        axis = -3 if self.data_format == "channels_first" else -1
        channels = [self._equalize_channel(np.take(x, i, axis=axis)) for i in range(x.shape[axis])]
        return ops.cast(ops.convert_to_tensor(np.stack(channels, axis=axis)), self.dtype)

    def get_config(self):
        return {**super().get_config(), "bins": self.bins, "value_range": self.value_range}
