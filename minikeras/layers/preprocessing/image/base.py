"""BaseImagePreprocessingLayer: what every image layer shares, as Keras's
``keras.src.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer``.

A call runs three steps, with Keras's method names (code that calls them directly works):

1. ``get_random_transformation(images, training)``: the random draw (None at inference);
2. ``transform_images(images, transformation, training)``: apply it to a 4-D batch;
3. a single 3-D image is handled as a batch of one and squeezed back.

``training`` defaults to True, as in Keras: calling a layer (or a model that holds it) on data
augments; ``fit`` passes True and ``predict``/``evaluate`` pass False, where the random layers
are the identity. Random layers draw from their ``SeedGenerator(seed)`` (``minikeras.random``),
so a seeded layer repeats its stream; the numbers themselves cannot match TensorFlow's.
"""

import numpy as np

from minikeras import backend, ops
from minikeras.layers.layer import Layer
from minikeras.layers.preprocessing.image import transform
from minikeras.tensor import Tensor
from minikeras.variables import Variable

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


class BaseImagePreprocessingLayer(Layer):
    """Base of the image layers: ``data_format``, ``factor`` checking, 3-D or 4-D inputs."""

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (-1, 1)

    def __init__(self, factor=None, bounding_box_format=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.bounding_box_format = bounding_box_format
        self.data_format = backend.standardize_data_format(data_format)
        if self._USE_BASE_FACTOR:
            self._set_factor(factor or 0.0)
        elif factor is not None:
            raise ValueError(f"Layer {type(self).__name__} does not take a `factor` argument. "
                             f"Received: factor={factor}")

    def _set_factor(self, factor):
        """A number ``f`` -> ``(max(-|f|, lower bound), |f|)``; a pair -> sorted. Keras's check
        and message."""
        low, high = self._FACTOR_BOUNDS
        message = ("The `factor` argument should be a number (or a list of two numbers) in the "
                   f"range [{low}, {high}]. Received: factor={factor}")
        if isinstance(factor, tuple | list):
            if len(factor) != 2 or factor[0] > high or factor[1] < low:
                raise ValueError(f"{type(self).__name__}: {message}")
            lower, upper = sorted(factor)
        elif isinstance(factor, int | float) and not isinstance(factor, bool):
            if factor < low or factor > high:
                raise ValueError(f"{type(self).__name__}: {message}")
            factor = abs(factor)
            lower, upper = max(-factor, low), factor
        else:
            raise ValueError(f"{type(self).__name__}: {message}")
        self.factor = (lower, upper)

    def _set_warp(self, layer, fill_mode, interpolation, fill_value):
        """Keras's checks and attributes of the warping layers (rotation, translation, zoom)."""
        check_choice(layer, "fill_mode", fill_mode, FILL_MODES)
        check_choice(layer, "interpolation", interpolation, INTERPOLATIONS)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation

    def _warp(self, images, matrix, interpolation):
        """``transform.affine_transform`` with this layer's fill and data format."""
        return transform.affine_transform(
            images, matrix, interpolation=interpolation, fill_mode=self.fill_mode,
            fill_value=self.fill_value, data_format=self.data_format)

    def _set_size(self, layer, height, width):
        """The target ``(height, width)`` of a resizing or cropping layer, checked, and its
        axes in this layer's data format."""
        check_size(layer, "height", height)
        check_size(layer, "width", width)
        self.height = height
        self.width = width
        self.height_axis, self.width_axis = (-2, -1) if self.data_format == "channels_first" \
            else (-3, -2)

    def _sized_output_shape(self, input_shape):
        """``input_shape`` with the height and width axes set to the target size."""
        shape = list(input_shape)
        shape[self.height_axis] = self.height
        shape[self.width_axis] = self.width
        return tuple(shape)

    # --- axes ---------------------------------------------------------------------------------
    def _height_width(self, shape):
        """(height, width) of a 3-D or 4-D shape in this layer's data format."""
        if self.data_format == "channels_first":
            return shape[-2], shape[-1]
        return shape[-3], shape[-2]

    # --- calling ------------------------------------------------------------------------------
    def _convert_input(self, inputs):
        """Floats are cast to the layer's dtype; integer images (``uint8`` pixels) are kept as
        they are, as Keras keeps them, and each layer casts as Keras does."""
        if isinstance(inputs, dict):
            raise NotImplementedError(
                f"Layer '{self.name}' ({type(self).__name__}) received a dict: minikeras's "
                "image layers take images only, not Keras's {'images', 'bounding_boxes', "
                "'labels', 'segmentation_masks'} dicts.")
        x = inputs if isinstance(inputs, Tensor | Variable) else ops.convert_to_tensor(inputs)
        kind = np.dtype(x.dtype).kind
        if kind == "f" and np.dtype(x.dtype) != np.dtype(self.dtype):
            x = ops.cast(x, self.dtype)
        elif kind not in "fiub":
            raise TypeError(f"Layer '{self.name}' ({type(self).__name__}) needs numeric images, "
                            f"but received dtype {x.dtype}.")
        return x

    def _check_rank(self, shape):
        if len(shape) not in (3, 4):
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): expected image tensor to have "
                "rank 3 (single image) or 4 (batch of images). Received: "
                f"data.shape={tuple(shape)}")

    def build(self, input_shape):
        self._check_rank(input_shape)
        self.built = True

    def call(self, inputs, training=True):
        if training is None:
            training = True  # Keras: the signature's default when nobody set it
        self._check_rank(inputs.shape)
        batched = len(inputs.shape) == 4
        images = inputs if batched else ops.expand_dims(inputs, 0)
        transformation = self.get_random_transformation(images, training=training)
        outputs = self.transform_images(images, transformation, training=training)
        return outputs if batched else ops.squeeze(outputs, 0)

    def get_random_transformation(self, data, training=True, seed=None):
        return None

    def transform_images(self, images, transformation, training=True):
        images = ops.cast(images, self.dtype)
        if training and transformation is not None:
            images = self._transform_images(images, transformation, self.interpolation)
        return images

    def _transform_images(self, images, transformation, interpolation):
        raise NotImplementedError

    def _seed(self, seed):
        return self.generator if seed is None else seed

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config


def check_choice(layer, argument, value, allowed, error=NotImplementedError):
    """Keras's ``Unknown `fill_mode` ...`` check, naming the layer."""
    if value not in allowed:
        raise error(f"{layer}: Unknown `{argument}` {value}. Expected of one {allowed}.")


def check_size(layer, argument, value):
    """``height``/``width`` must be positive integers (Keras fails later, less clearly)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{layer}: `{argument}` must be a positive integer. "
                         f"Received: {argument}={value!r}")


def two_sided_factor(layer, factor, name, message, check):
    """A number ``f`` -> ``(-|f|, |f|)``; a pair -> sorted; ``check(value)`` tells whether a
    value is in range. Anything else raises ``"{layer}: {message}Received: {name}={factor}"``."""
    error = ValueError(f"{layer}: {message}Received: {name}={factor}")
    if isinstance(factor, tuple | list):
        if len(factor) != 2 or not check(factor[0]) or not check(factor[1]):
            raise error
        return tuple(sorted(factor))
    if isinstance(factor, int | float) and not isinstance(factor, bool):
        if not check(factor):
            raise error
        return -abs(factor), abs(factor)
    raise error
