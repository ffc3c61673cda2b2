"""RandomPosterization: keep only the top bits of each pixel
(``keras.layers.RandomPosterization``)."""

import numpy as np

from minikeras import ops
from minikeras import random as mk_random
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from minikeras.layers.preprocessing.image.value_range import (
    check_value_range,
    transform_value_range,
)


class RandomPosterization(BaseImagePreprocessingLayer):
    """With ``training=True``, on the images mapped to 0-255 and cast to ``uint8``
    (truncated), per image::

        bits ~ randint[factor[0], factor[1])  (or factor[0] if the two are equal)
        s = 8 - bits;   y = (x >> s) << s        (the low s bits set to 0)

    then back to ``value_range`` in the layer's float dtype. ``factor``: a number ``f`` in
    [1, 8] for ``(1, f)``, or a pair; ``(3, 3)`` always keeps 3 bits (8 levels). As in Keras,
    the upper end is never drawn. At inference the identity. Not differentiable (integer
    bits).
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (1, 8)
    _MAX_FACTOR = 8

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = check_value_range("RandomPosterization", value_range)
        self.seed = seed
        self.generator = mk_random.SeedGenerator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        """``{"shift_factor": (batch,) uint8}``: how many low bits to clear (None at
        inference)."""
        if not training:
            return None
        batch = data.shape[0] if len(data.shape) == 4 else 1
        if self.factor[0] != self.factor[1]:
            bits = mk_random.randint((batch,), minval=int(self.factor[0]),
                                     maxval=int(self.factor[1]), seed=self._seed(seed),
                                     dtype="uint8").numpy()
        else:
            bits = np.full((batch,), self.factor[0]).astype("uint8")
        return {"shift_factor": (self._MAX_FACTOR - bits).astype("uint8")}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        if transformation is None:
            transformation = self.get_random_transformation(images)
        shift = np.asarray(transformation["shift_factor"]).astype("uint8")[:, None, None, None]
        x = transform_value_range(images, self.value_range, (0, 255), self.dtype)
        with np.errstate(invalid="ignore"):
            pixels = np.asarray(ops.cast(x, "uint8"))
        posterized = np.left_shift(np.right_shift(pixels, shift), shift)
        y = ops.cast(ops.convert_to_tensor(posterized), self.dtype)
        return transform_value_range(y, (0, 255), self.value_range, self.dtype)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}
