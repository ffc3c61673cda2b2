"""RandomRotation: turn images by a random angle while training (keras.layers.RandomRotation)."""

import numpy as np

from minikeras import random as mk_random
from minikeras.layers.preprocessing.image import transform
from minikeras.layers.preprocessing.image.base import (  # noqa: F401 (re-exported, were here)
    FILL_MODES,
    INTERPOLATIONS,
    BaseImagePreprocessingLayer,
)


class RandomRotation(BaseImagePreprocessingLayer):
    """With ``training=True`` each image turns by ``angle ~ U[factor[0], factor[1]) * 360``
    degrees (counter-clockwise for positive angles) about its centre
    ``((w - 1) / 2, (h - 1) / 2)``: output pixel ``(x, y)`` reads the input at
    ``(cos t x - sin t y + a2, sin t x + cos t y + b2)``, interpolated (``"bilinear"`` or
    ``"nearest"``), with points outside filled by ``fill_mode`` (``"reflect"``, ``"wrap"``,
    ``"constant"`` with ``fill_value``, ``"nearest"``). At inference the identity.

    ``factor``: a fraction of a full turn, a number ``f`` for ``[-f, f]`` or a pair
    ``(lower, upper)``, within [-1, 1]. ``factor=(0.25, 0.25)`` always turns by 90 degrees.
    Differentiable with TensorFlow's rule for the warp (``transform.affine_transform``).
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        self.seed = seed
        self.generator = mk_random.SeedGenerator(seed)
        self._set_warp("RandomRotation", fill_mode, interpolation, fill_value)

    def get_random_transformation(self, data, training=True, seed=None):
        """``{"angle", "rotation_matrix" (batch, 8), "image_height", "image_width",
        "batch_size"}``, or None at inference."""
        if not training:
            return None
        shape = tuple(data.shape)
        batch_size = shape[0] if len(shape) == 4 else 1
        height, width = self._height_width(shape)
        angle = mk_random.uniform((batch_size,), minval=self.factor[0] * 360.0,
                                  maxval=self.factor[1] * 360.0, seed=self._seed(seed)).numpy()
        zeros, ones = np.zeros(batch_size, "float32"), np.ones(batch_size, "float32")
        matrix = transform.compute_affine_matrix(0.5, 0.5, angle, zeros, zeros, ones, zeros,
                                                 zeros, height, width)
        if len(shape) == 3:
            matrix = matrix[0]  # Keras squeezes a single image's matrix to shape (8,)
        return {"angle": angle, "rotation_matrix": matrix, "image_height": height,
                "image_width": width, "batch_size": batch_size}

    def _transform_images(self, images, transformation, interpolation):
        return self._warp(images, transformation["rotation_matrix"], interpolation)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "data_format": self.data_format,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "interpolation": self.interpolation, "seed": self.seed}
