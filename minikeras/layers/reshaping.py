"""Reshaping layers: move, repeat, pad or cut values without computing new ones
(``RepeatVector``, ``Permute``, ``ZeroPadding1D/2D/3D``, ``Cropping1D/2D/3D``,
``UpSampling1D/2D/3D``).

Each is one recorded op (repeat, transpose, pad, slicing), so its gradient only moves the
incoming gradient back: a repeated value gets the sum of its copies' gradients, a padded zero's
gradient is dropped, a cropped value gets 0. None has weights, but, as in Keras, each is built
by its first call (so a saved model records its ``build_config``). Arguments, configs and
messages follow ``keras/src/layers/reshaping/``.

The 2-D and 3-D layers share one class per kind (``_ZeroPadding``, ``_Cropping``,
``_UpSampling``) that works on any number of spatial axes; ``ZeroPadding2D`` and
``ZeroPadding3D`` differ only in that number and their defaults.
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


def _spatial_axes(data_format, rank):
    """The ``rank`` spatial axes: right after the batch axis, or after the channels axis."""
    first = 2 if data_format == "channels_first" else 1
    return range(first, first + rank)


def _map_spatial(shape, axes, sizes):
    """``shape`` with each axis in ``axes`` replaced by ``size(n)`` (an unknown n stays None)."""
    shape = list(shape)
    for axis, size in zip(axes, sizes, strict=True):
        if shape[axis] is not None:
            shape[axis] = size(shape[axis])
    return tuple(shape)


_ORDINALS = ("1st", "2nd", "3rd")


def _pairs_per_axis(value, rank, name, noun):
    """An int, ``rank`` ints (symmetric) or ``rank`` pairs ((before, after) per spatial axis), as
    the last form. Keras's checks and messages, whose wording its 2-D and 3-D layers differ in
    (2-D: "two elements" and ``{name}=`` always; 3-D: "3 elements" and ``{name}=`` only in
    ZeroPadding3D's last message)."""
    if isinstance(value, int):
        return ((value, value),) * rank
    if hasattr(value, "__len__"):
        if len(value) != rank:
            count, received = ("two", f"{name}={value}") if rank == 2 else (rank, value)
            raise ValueError(f"`{name}` should have {count} elements. Received: {received}.")
        return tuple(standardize_tuple(entry, 2, f"{_ORDINALS[i]} entry of {name}",
                                       allow_zero=True) for i, entry in enumerate(value))
    if rank == 2:
        forms = (f"(symmetric_height_{noun}, symmetric_width_{noun})",
                 f"((top_{noun}, bottom_{noun}), (left_{noun}, right_{noun}))")
    else:  # "right_dim2" in the third pair is Keras's typo
        forms = (f"(symmetric_dim1_{noun}, symmetric_dim2_{noun}, symmetric_dim3_{noun})",
                 f"((left_dim1_{noun}, right_dim1_{noun}), (left_dim2_{noun}, right_dim2_{noun}),"
                 f" (left_dim3_{noun}, right_dim2_{noun}))")
    received = f"{name}={value}" if rank == 2 or name == "padding" else value
    raise ValueError(f"`{name}` should be either an int, a tuple of {rank} ints {forms[0]}, or a "
                     f"tuple of {rank} tuples of 2 ints {forms[1]}. Received: {received}.")


class _ZeroPadding(Layer):
    """Zeros before and after each of the ``_rank`` spatial axes: ``padding`` has one (before,
    after) pair per axis. d/dx = the incoming gradient with the padded positions cut off."""

    _rank = None
    _noun = "pad"

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = _pairs_per_axis(padding, self._rank, "padding", self._noun)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def call(self, inputs):
        if self.data_format == "channels_first":
            return ops.pad(inputs, ((0, 0), (0, 0), *self.padding))
        return ops.pad(inputs, ((0, 0), *self.padding, (0, 0)))

    def compute_output_shape(self, input_shape):
        return _map_spatial(input_shape, _spatial_axes(self.data_format, self._rank),
                            [lambda n, p=p: n + p[0] + p[1] for p in self.padding])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


class ZeroPadding2D(_ZeroPadding):
    """Zero rows above and below, zero columns left and right of each image:
    ``padding`` = ((top, bottom), (left, right)), or a pair / an int for symmetric pads."""

    _rank = 2
    _noun = "crop"  # Keras's wording in ZeroPadding2D's message

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Zeros around each volume (batch, dim1, dim2, dim3, channels): ``padding`` =
    ((before1, after1), (before2, after2), (before3, after3)), or 3 ints / an int for
    symmetric pads."""

    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


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


class _Cropping(Layer):
    """Drops ``cropping`` = one (before, after) pair per spatial axis at that axis's ends;
    d/dx = the incoming gradient, with zeros where values were cropped."""

    _rank = None

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        if isinstance(cropping, int) and cropping < 0:
            raise ValueError(f"`cropping` cannot be negative. Received: cropping={cropping}.")
        self.cropping = _pairs_per_axis(cropping, self._rank, "cropping", "crop")
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def _check(self, shape, what):
        axes = _spatial_axes(self.data_format, self._rank)
        if any(shape[axis] is not None and sum(crop) >= shape[axis]
               for axis, crop in zip(axes, self.cropping, strict=True)):
            raise ValueError(f"Values in `cropping` argument should be smaller than the "
                             f"corresponding spatial dimension of the input. Received: "
                             f"{what}={shape}, cropping={self.cropping}")

    def call(self, inputs):
        shape = tuple(inputs.shape)
        self._check(shape, "inputs.shape")
        index = [slice(None)] * len(shape)
        for axis, (before, after) in zip(_spatial_axes(self.data_format, self._rank),
                                         self.cropping, strict=True):
            index[axis] = slice(before, shape[axis] - after)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        self._check(input_shape, "input_shape")
        return _map_spatial(input_shape, _spatial_axes(self.data_format, self._rank),
                            [lambda n, c=c: n - c[0] - c[1] for c in self.cropping])

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}


class Cropping2D(_Cropping):
    """Drops rows and columns at the image's edges: ``cropping`` = ((top, bottom), (left,
    right)), or a pair / an int for symmetric crops."""

    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Drops slices at the edges of each volume (batch, dim1, dim2, dim3, channels):
    ``cropping`` = ((before1, after1), (before2, after2), (before3, after3)), or 3 ints / an
    int for symmetric crops."""

    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


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


class _UpSampling(Layer):
    """Each value repeated size[i] times along spatial axis i ("nearest" interpolation);
    d/dx = the sum of its copies' gradients."""

    _rank = None

    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = standardize_tuple(size, self._rank, "size")
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def call(self, inputs):
        for axis, size in zip(_spatial_axes(self.data_format, self._rank), self.size,
                              strict=True):
            inputs = ops.repeat(inputs, size, axis=axis)
        return inputs

    def compute_output_shape(self, input_shape):
        return _map_spatial(input_shape, _spatial_axes(self.data_format, self._rank),
                            [lambda n, s=s: n * s for s in self.size])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


class UpSampling2D(_UpSampling):
    """Each pixel repeated size[0] times down and size[1] times across ("nearest"
    interpolation); d/dx = the sum of its copies' gradients. Keras's "bilinear" and other
    interpolations resize with ``ops.image.resize``, which minikeras does not have."""

    _rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        self.interpolation = interpolation.lower()
        if self.interpolation != "nearest":
            raise NotImplementedError(
                f"UpSampling2D(interpolation='{self.interpolation}') is not implemented in "
                f"minikeras (it needs image resizing); only interpolation='nearest' is.")

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """Each voxel repeated size[0], size[1], size[2] times along dim1, dim2, dim3 of (batch,
    dim1, dim2, dim3, channels); d/dx = the sum of its copies' gradients."""

    _rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)
