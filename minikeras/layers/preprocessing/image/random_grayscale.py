"""RandomGrayscale: turn a random share of the images grey while training
(``keras.layers.RandomGrayscale``)."""

import numpy as np

from minikeras import ops
from minikeras import random as mk_random
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer


class RandomGrayscale(BaseImagePreprocessingLayer):
    """With ``training=True`` each image, with probability ``factor``, becomes::

        gray = 0.2989 R + 0.5870 G + 0.1140 B      (tf.image.rgb_to_grayscale)
        y = [gray, gray, gray]                     (the channel count is kept)

    and is otherwise unchanged: ``u ~ U[0, 1)`` per image, grey where ``u < factor``.
    ``factor=1`` turns every image grey, ``factor=0`` none. At inference the identity.

    Images need 3 channels (or 1, which is already grey) on the ``data_format``'s channel
    axis. Outputs keep the input's dtype: ``uint8`` greys are truncated, as TensorFlow casts.
    Differentiable (a weighted sum of the channels, selected per image).
    """

    _USE_BASE_FACTOR = False

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if factor < 0 or factor > 1:
            raise ValueError(f"RandomGrayscale: `factor` should be between 0 and 1. "
                             f"Received: factor={factor}")
        self.factor = factor
        self.seed = seed
        self.generator = mk_random.SeedGenerator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        """A boolean ``(batch, 1, 1, 1)`` mask of the images to turn grey (none at inference)."""
        batch = data.shape[0] if len(data.shape) == 4 else 1
        if not training:
            return np.zeros((batch, 1, 1, 1), bool)
        draws = mk_random.uniform((batch,), minval=0, maxval=1, seed=self._seed(seed)).numpy()
        return (draws < self.factor)[:, None, None, None]

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        if transformation is None:
            transformation = self.get_random_transformation(images)
        gray = ops.image.rgb_to_grayscale(images, data_format=self.data_format)
        return ops.where(np.asarray(transformation), gray, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
