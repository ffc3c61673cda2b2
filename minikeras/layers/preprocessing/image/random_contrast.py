"""RandomContrast: scale each image's deviation from its mean at random while training
(``keras.layers.RandomContrast``)."""

import numpy as np

from minikeras import ops
from minikeras import random as mk_random
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer


class RandomContrast(BaseImagePreprocessingLayer):
    """With ``training=True``, per image and channel::

        mean = mean over height and width of x
        y = clip((x - mean) * c + mean, value_range[0], value_range[1])

    with one ``c ~ U[1 - factor[0], 1 + factor[1])`` per image. At inference the identity.

    ``factor``: a number ``f`` in [0, 1] gives ``factor = (0, f)``, so ``c`` lies in
    ``[1, 1 + f)`` (Keras clamps the lower end at 0: contrast only grows); a pair
    ``(lower, upper)`` gives ``[1 - lower, 1 + upper)``, e.g. ``(-0.5, 0.5)`` fixes ``c = 1.5``.
    Outputs keep the input's dtype (floats are the layer's dtype). Differentiable (arithmetic
    and a clip). Integer images in training are computed in the layer's float dtype (Keras's
    TensorFlow backend fails on them).
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(**kwargs)
        self._set_factor(factor)
        self.value_range = value_range
        self.seed = seed
        self.generator = mk_random.SeedGenerator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        """``{"contrast_factor": (batch, 1, 1, 1)}`` (zeros at inference)."""
        shape = tuple(data.shape)
        factor_shape = (1, 1, 1) if len(shape) == 3 else (shape[0], 1, 1, 1)
        if not training:
            return {"contrast_factor": np.zeros(factor_shape, "float32")}
        factor = mk_random.uniform(factor_shape, minval=1.0 - self.factor[0],
                                   maxval=1.0 + self.factor[1], seed=self._seed(seed),
                                   dtype=self.dtype)
        return {"contrast_factor": factor.numpy()}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        if np.dtype(images.dtype).kind != "f":
            images = ops.cast(images, self.dtype)
        height_axis, width_axis = (-2, -1) if self.data_format == "channels_first" else (-3, -2)
        mean = ops.mean(images, axis=height_axis, keepdims=True)
        mean = ops.mean(mean, axis=width_axis, keepdims=True)
        factor = np.asarray(transformation["contrast_factor"], dtype=images.dtype)
        outputs = ops.add(ops.multiply(ops.subtract(images, mean), factor), mean)
        return ops.clip(outputs, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}
