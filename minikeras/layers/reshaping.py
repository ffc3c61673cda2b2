"""Reshaping layers: move, repeat, pad or cut values without computing new ones
(``RepeatVector``, ``Permute``, ``ZeroPadding1D/2D``, ``Cropping1D/2D``, ``UpSampling1D/2D``).

Each is one recorded op (repeat, transpose, pad, slicing), so its gradient only moves the
incoming gradient back: a repeated value gets the sum of its copies' gradients, a padded zero's
gradient is dropped, a cropped value gets 0. None has weights, but, as in Keras, each is built
by its first call (so a saved model records its ``build_config``). Arguments, configs and
messages follow ``keras/src/layers/reshaping/``.
"""

from minikeras import ops
from minikeras.layers.convolutional import standardize_data_format, standardize_tuple
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer


def _check_positive_int(value, name):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"Expected an integer value for `{name}`, got {type(value)}.")
    if value <= 0:
        raise ValueError(f"Argument `{name}` should be a positive integer. Received: "
                         f"{name}={value}")


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): each sample's vector repeated n times;
    d/dx = the sum of the n copies' gradients."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        _check_positive_int(n, "n")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        batch, features = inputs.shape
        return ops.repeat(ops.reshape(inputs, (batch, 1, features)), self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Permute(Layer):
    """Reorders the non-batch axes: ``dims`` lists them, counted from 1 (``(2, 1)`` swaps the
    two axes of (batch, a, b)); the gradient is transposed back."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. The set of "
                             f"indices in `dims` must be consecutive and start from 1. Received "
                             f"dims={dims}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return ops.transpose(inputs, (0, *self.dims))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


# --- zero padding ----------------------------------------------------------------------------

class ZeroPadding1D(Layer):
    """Zeros added before and after the steps of (batch, steps, features): ``padding`` is an
    int (both sides) or (before, after)."""

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = standardize_tuple(padding, 2, "padding", allow_zero=True)
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        if self.data_format == "channels_first":
            return ops.pad(inputs, ((0, 0), (0, 0), self.padding))
        return ops.pad(inputs, ((0, 0), self.padding, (0, 0)))

    def compute_output_shape(self, input_shape):
        output_shape = list(input_shape)
        axis = 2 if self.data_format == "channels_first" else 1
        if output_shape[axis] is not None:
            output_shape[axis] += self.padding[0] + self.padding[1]
        return tuple(output_shape)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


def _pairs_of_pairs(value, name, noun):
    """An int, (symmetric_height, symmetric_width) or ((top, bottom), (left, right)), as the
    last form (Keras's checks and messages)."""
    if isinstance(value, int):
        return ((value, value), (value, value))
    if hasattr(value, "__len__"):
        if len(value) != 2:
            raise ValueError(f"`{name}` should have two elements. Received: {name}={value}.")
        return (standardize_tuple(value[0], 2, f"1st entry of {name}", allow_zero=True),
                standardize_tuple(value[1], 2, f"2nd entry of {name}", allow_zero=True))
    raise ValueError(f"`{name}` should be either an int, a tuple of 2 ints "
                     f"(symmetric_height_{noun}, symmetric_width_{noun}), or a tuple of 2 tuples "
                     f"of 2 ints ((top_{noun}, bottom_{noun}), (left_{noun}, right_{noun})). "
                     f"Received: {name}={value}.")


class ZeroPadding2D(Layer):
    """Zero rows above and below, zero columns left and right of each image:
    ``padding`` = ((top, bottom), (left, right)), or a pair / an int for symmetric pads."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = _pairs_of_pairs(padding, "padding", "crop")  # "crop": Keras's wording
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        if self.data_format == "channels_first":
            return ops.pad(inputs, ((0, 0), (0, 0), *self.padding))
        return ops.pad(inputs, ((0, 0), *self.padding, (0, 0)))

    def compute_output_shape(self, input_shape):
        output_shape = list(input_shape)
        offset = 2 if self.data_format == "channels_first" else 1
        for i in range(2):
            if output_shape[offset + i] is not None:
                output_shape[offset + i] += self.padding[i][0] + self.padding[i][1]
        return tuple(output_shape)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


# --- cropping --------------------------------------------------------------------------------

class Cropping1D(Layer):
    """Drops ``cropping`` = (before, after) steps at each end of (batch, steps, features)."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = standardize_tuple(cropping, 2, "cropping", allow_zero=True)
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        if sum(self.cropping) >= inputs.shape[1]:
            raise ValueError(f"`cropping` parameter of `Cropping1D` layer must be smaller than "
                             f"the input length. Received: inputs.shape={tuple(inputs.shape)}, "
                             f"cropping={self.cropping}")
        start, end = self.cropping[0], inputs.shape[1] - self.cropping[1]
        return inputs[:, start:end, :]

    def compute_output_shape(self, input_shape):
        length = None
        if input_shape[1] is not None:
            length = input_shape[1] - self.cropping[0] - self.cropping[1]
            if length <= 0:
                raise ValueError(f"`cropping` parameter of `Cropping1D` layer must be smaller "
                                 f"than the input length. Received: input_shape={input_shape}, "
                                 f"cropping={self.cropping}")
        return (input_shape[0], length, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Cropping2D(Layer):
    """Drops rows and columns at the image's edges: ``cropping`` = ((top, bottom), (left,
    right)), or a pair / an int for symmetric crops."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        if isinstance(cropping, int) and cropping < 0:
            raise ValueError(f"`cropping` cannot be negative. Received: cropping={cropping}.")
        self.cropping = _pairs_of_pairs(cropping, "cropping", "crop")
        self.input_spec = InputSpec(ndim=4)

    def _check(self, shape, what):
        h, w = (shape[2], shape[3]) if self.data_format == "channels_first" else shape[1:3]
        if (h is not None and sum(self.cropping[0]) >= h) or (
                w is not None and sum(self.cropping[1]) >= w):
            raise ValueError(f"Values in `cropping` argument should be smaller than the "
                             f"corresponding spatial dimension of the input. Received: "
                             f"{what}={shape}, cropping={self.cropping}")

    def call(self, inputs):
        self._check(tuple(inputs.shape), "inputs.shape")
        (top, bottom), (left, right) = self.cropping
        if self.data_format == "channels_first":
            h, w = inputs.shape[2:]
            return inputs[:, :, top:h - bottom, left:w - right]
        h, w = inputs.shape[1:3]
        return inputs[:, top:h - bottom, left:w - right, :]

    def compute_output_shape(self, input_shape):
        self._check(input_shape, "input_shape")
        (top, bottom), (left, right) = self.cropping
        offset = 2 if self.data_format == "channels_first" else 1
        h, w = input_shape[offset], input_shape[offset + 1]
        h = None if h is None else h - top - bottom
        w = None if w is None else w - left - right
        if self.data_format == "channels_first":
            return (input_shape[0], input_shape[1], h, w)
        return (input_shape[0], h, w, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}


# --- upsampling ------------------------------------------------------------------------------

class UpSampling1D(Layer):
    """Each step repeated ``size`` times: (batch, steps, features) -> (batch, steps·size,
    features); d/dx = the sum of its copies' gradients."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        _check_positive_int(size, "size")
        self.size = size
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        return ops.repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, input_shape):
        size = None if input_shape[1] is None else self.size * input_shape[1]
        return [input_shape[0], size, input_shape[2]]  # a list, as Keras 3.15 returns

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(Layer):
    """Each pixel repeated size[0] times down and size[1] times across ("nearest"
    interpolation); d/dx = the sum of its copies' gradients. Keras's "bilinear" and other
    interpolations resize with ``ops.image.resize``, which minikeras does not have."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = standardize_tuple(size, 2, "size")
        self.interpolation = interpolation.lower()
        if self.interpolation != "nearest":
            raise NotImplementedError(
                f"UpSampling2D(interpolation='{self.interpolation}') is not implemented in "
                f"minikeras (it needs image resizing); only interpolation='nearest' is.")
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        axis = 2 if self.data_format == "channels_first" else 1
        x = ops.repeat(inputs, self.size[0], axis=axis)
        return ops.repeat(x, self.size[1], axis=axis + 1)

    def compute_output_shape(self, input_shape):
        offset = 2 if self.data_format == "channels_first" else 1
        h, w = input_shape[offset], input_shape[offset + 1]
        h = None if h is None else self.size[0] * h
        w = None if w is None else self.size[1] * w
        if self.data_format == "channels_first":
            return (input_shape[0], input_shape[1], h, w)
        return (input_shape[0], h, w, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}
