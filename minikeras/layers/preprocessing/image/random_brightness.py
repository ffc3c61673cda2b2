"""RandomBrightness: add a random offset to each image while training
(``keras.layers.RandomBrightness``)."""

import numpy as np

from minikeras import ops
from minikeras import random as mk_random
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer

VALUE_RANGE_ERROR = "The `value_range` argument should be a list of two numbers. "


class RandomBrightness(BaseImagePreprocessingLayer):
    """With ``training=True``: ``y = clip(x + d, value_range[0], value_range[1])`` with one
    ``d = U[factor[0], factor[1]) * (value_range[1] - value_range[0])`` per image (all pixels
    and channels). At inference the identity.

    ``factor``: a number ``f`` in [-1, 1] for ``[-|f|, |f|]``, or a pair; ``(0.2, 0.2)`` always
    adds ``0.2 * 255``. ``value_range`` (default ``(0, 255)``) is stored sorted, as a list.
    Outputs keep the input's dtype (``d`` is cast to it first, as in Keras, so ``uint8`` images
    get an integer offset). Differentiable (an addition and a clip).
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor=factor, **kwargs)
        self.seed = seed
        self.generator = mk_random.SeedGenerator(seed)
        if not isinstance(value_range, tuple | list) or len(value_range) != 2:
            raise ValueError(f"RandomBrightness: {VALUE_RANGE_ERROR}"
                             f"Received: value_range={value_range}")
        self.value_range = sorted(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        """``{"rgb_delta": (batch, 1, 1, 1)}`` (zeros at inference)."""
        shape = tuple(data.shape)
        delta_shape = (1, 1, 1) if len(shape) == 3 else (shape[0], 1, 1, 1)
        if not training:
            return {"rgb_delta": np.zeros(delta_shape, "float32")}
        delta = mk_random.uniform(delta_shape, minval=self.factor[0], maxval=self.factor[1],
                                  seed=self._seed(seed)).numpy()
        delta = delta * np.float32(self.value_range[1] - self.value_range[0])
        return {"rgb_delta": delta}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        delta = np.asarray(transformation["rgb_delta"]).astype(images.dtype)
        return ops.clip(ops.add(images, delta), self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}
