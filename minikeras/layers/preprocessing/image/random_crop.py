"""RandomCrop: a random ``(height, width)`` window of each batch while training
(``keras.layers.RandomCrop``)."""

from minikeras import ops
from minikeras import random as mk_random
from minikeras.layers.preprocessing.image import transform
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from minikeras.utils.random import make_default_seed


class RandomCrop(BaseImagePreprocessingLayer):
    """With ``training=True``: one window ``(height, width)`` for the whole batch, its corner
    ``(int(U[0, h - height + 1)), int(U[0, w - width + 1)))``, when the image is larger than the
    target on both sides. Otherwise (an image not larger on some side) the largest centred
    window with the target's aspect ratio, resized (bilinear) to ``(height, width)`` if its size
    differs.

    At inference (``training=False``: ``predict``, ``evaluate``) Keras 3 returns the images
    unchanged, of their own size (not centre-cropped), although ``compute_output_shape`` says
    ``(height, width)``; minikeras does the same. Use ``CenterCrop`` for a fixed crop.
    ``seed=None`` records a drawn seed in the config, as Keras does. Differentiable.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(data_format=data_format, name=name, **kwargs)
        self._set_size("RandomCrop", height, width)
        self.seed = seed if seed is not None else make_default_seed()
        self.generator = mk_random.SeedGenerator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        """``(h_start, w_start)`` of the window."""
        seed = self._seed(seed)
        input_height, input_width = self._height_width(data.shape)
        if training and input_height > self.height and input_width > self.width:
            h_start = int(mk_random.uniform((), 0, float(input_height - self.height + 1),
                                            seed=seed).numpy())
            w_start = int(mk_random.uniform((), 0, float(input_width - self.width + 1),
                                            seed=seed).numpy())
            return h_start, w_start
        crop_height = max(min(input_height, int(float(input_width * self.height) / self.width)), 1)
        crop_width = max(min(input_width, int(float(input_height * self.width) / self.height)), 1)
        return int(float(input_height - crop_height) / 2), int(float(input_width - crop_width) / 2)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = ops.cast(images, self.dtype)
        top, left = transformation
        rows, cols = slice(top, top + self.height), slice(left, left + self.width)
        if self.data_format == "channels_first":
            images = images[:, :, rows, cols]
        else:
            images = images[:, rows, cols, :]
        if self._height_width(images.shape) != (self.height, self.width):
            images = ops.cast(transform.resize(images, (self.height, self.width),
                                               data_format=self.data_format), self.dtype)
        return images

    def compute_output_shape(self, input_shape):
        return self._sized_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "seed": self.seed, "data_format": self.data_format}
