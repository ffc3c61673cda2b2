"""CenterCrop: the central `(height, width)` window of each image (`keras.layers.CenterCrop`)."""

from minikeras import ops
from minikeras.layers.preprocessing.image import transform
from minikeras.layers.preprocessing.image.base import (
    BaseImagePreprocessingLayer,
    check_size,
)


class CenterCrop(BaseImagePreprocessingLayer):
    """Crop the centre ``(height, width)`` of 4-D or 3-D images, in training and inference.

    The window starts at ``((h - height) // 2, (w - width) // 2)``. An image smaller than the
    target on either side is first cut to the target's aspect ratio (the largest centred
    window) and then resized (bilinear) to ``(height, width)``, as Keras does. Differentiable
    (slicing, and the resize's transpose). Outputs are the layer's float dtype.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        check_size("CenterCrop", "height", height)
        check_size("CenterCrop", "width", width)
        self.height = height
        self.width = width

    def get_random_transformation(self, data, training=True, seed=None):
        return {"input_shape": tuple(data.shape)}

    def transform_images(self, images, transformation=None, training=True):
        images = ops.cast(images, self.dtype)
        height, width = self._height_width(images.shape)
        top, left = (height - self.height) // 2, (width - self.width) // 2
        if top >= 0 and left >= 0:
            rows, cols = slice(top, top + self.height), slice(left, left + self.width)
            if self.data_format == "channels_first":
                return images[:, :, rows, cols]
            return images[:, rows, cols, :]
        resized = transform.resize(images, (self.height, self.width),
                                   crop_to_aspect_ratio=True, data_format=self.data_format)
        return ops.cast(resized, self.dtype)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axes = (-2, -1) if self.data_format == "channels_first" else (-3, -2)
        shape[axes[0]], shape[axes[1]] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
