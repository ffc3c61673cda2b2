"""RandomInvert: invert the colours of random images while training
(``keras.layers.RandomInvert``)."""

import numpy as np

from minikeras import ops
from minikeras import random as mk_random
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer


class RandomInvert(BaseImagePreprocessingLayer):
    """With ``training=True``, per image::

        p ~ U[factor[0], factor[1]),  u ~ U[0, 1)
        y = value_range[1] - x   if u < p   else x

    (Keras subtracts from the upper end only, so ``value_range=(-1, 1)`` maps 1 to 0, not -1.)
    ``factor``: a number ``f`` in [0, 1] for ``p ~ U[0, f)`` (the default 1.0 inverts half the
    images), or a pair; ``(1, 1)`` always inverts, ``0`` never. At inference the identity.
    Training outputs are in the layer's float dtype. Differentiable (a subtraction, selected
    per image).
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = value_range
        self.seed = seed
        self.generator = mk_random.SeedGenerator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        """``{"apply_inversion": (batch,) bool}`` (None at inference)."""
        if not training:
            return None
        batch = data.shape[0] if len(data.shape) == 4 else 1
        seed = self._seed(seed)
        probability = mk_random.uniform((batch,), minval=self.factor[0], maxval=self.factor[1],
                                        seed=seed).numpy()
        threshold = mk_random.uniform((batch,), minval=0, maxval=1, seed=seed).numpy()
        return {"apply_inversion": threshold < probability}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        if transformation is None:
            transformation = self.get_random_transformation(images)
        images = ops.cast(images, self.dtype)
        apply = np.asarray(transformation["apply_inversion"])[:, None, None, None]
        return ops.where(apply, ops.subtract(self.value_range[1], images), images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}
