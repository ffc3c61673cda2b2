"""RandomFlip: mirror images at random while training (``keras.layers.RandomFlip``)."""

import numpy as np

from minikeras import ops
from minikeras import random as mk_random
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer, check_choice
from minikeras.ops.core import value_of

HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"


class RandomFlip(BaseImagePreprocessingLayer):
    """With ``training=True`` each image is flipped with probability 1/2: a draw
    ``u ~ U[0, 1)`` per image, flipped where ``u <= 0.5``. ``mode="horizontal"`` reverses the
    width axis, ``"vertical"`` the height axis, ``"horizontal_and_vertical"`` (the default)
    both, with the same draw (so half the images are rotated by 180 degrees, half untouched,
    exactly as Keras does). At inference the identity. Outputs are the layer's float dtype.
    Differentiable (a flip moves gradients back where they came from).
    """

    _USE_BASE_FACTOR = False

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        check_choice("RandomFlip", "mode", mode, (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL),
                     error=ValueError)
        self.seed = seed
        self.generator = mk_random.SeedGenerator(seed)
        self.mode = mode

    def get_random_transformation(self, data, training=True, seed=None):
        """``{"flips": bool (batch, 1, 1, 1), "input_shape": shape}``, or None at inference."""
        if not training:
            return None
        shape = tuple(data.shape)
        flips_shape = (1, 1, 1) if len(shape) == 3 else (shape[0], 1, 1, 1)
        u = mk_random.uniform(flips_shape, seed=self._seed(seed))
        return {"flips": np.asarray(u.numpy()) <= 0.5, "input_shape": shape}

    def transform_images(self, images, transformation, training=True):
        images = ops.cast(images, self.dtype)
        if not training or transformation is None:
            return images
        flips = np.asarray(value_of(transformation["flips"])).reshape((-1, 1, 1, 1))
        width_axis, height_axis = (-1, -2) if self.data_format == "channels_first" else (-2, -3)
        outputs = images
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            outputs = ops.where(flips, ops.flip(outputs, axis=width_axis), outputs)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            outputs = ops.where(flips, ops.flip(outputs, axis=height_axis), outputs)
        return outputs

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "mode": self.mode,
                "data_format": self.data_format}
