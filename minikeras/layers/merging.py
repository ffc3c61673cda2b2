"""Merging layers: several inputs in, one out (``keras.layers.Add``, ``Concatenate``, ...).

Called on a list of tensors, e.g. ``keras.layers.Add()([x1, x2])`` or the functional alias
``keras.layers.add([x1, x2])``. The element-wise ones (Add, Subtract, Multiply, Average, Maximum,
Minimum) broadcast as NumPy does; inputs of lower rank first get axes of size 1 inserted after
the batch axis. Their gradients are those of the ops they use: ``Add`` passes ``g`` to every
input, ``Multiply`` passes ``g`` times the product of the other inputs, ``Maximum`` passes ``g``
to the largest.
"""

import numpy as np

from minikeras import ops
from minikeras.layers.layer import Layer


def _check_masks(inputs, mask, received, inputs_must_be_list=False):
    """Keras's checks of a merging layer's masks: a list (its message says ``received`` before
    ``mask=``: Merge writes "Received: ", Concatenate "Received "), one mask per input."""
    if not isinstance(mask, list | tuple):
        raise ValueError(f"`mask` should be a list. {received}mask={mask}")
    if inputs_must_be_list and not isinstance(inputs, list | tuple):
        raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
    if len(mask) != len(inputs):
        raise ValueError(
            f"The lists `inputs` and `mask` should have the same length. Received: "
            f"inputs={inputs} of length {len(inputs)}, and mask={mask} of length "
            f"{len(mask)}")


class Merge(Layer):
    """The base of the element-wise merging layers: shape checks and rank alignment.

    Masks (Keras's rules): the output's mask is the OR of the inputs' masks when every input has
    one (None otherwise); Maximum and Minimum also leave a masked input's entries out of the
    result. The others merge the values as they are."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _merge_function(self, inputs):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        _check_masks(inputs, mask, "Received: ", inputs_must_be_list=True)
        if any(m is None for m in mask):
            return None
        output_mask = mask[0]
        for m in mask[1:]:
            output_mask = ops.logical_or(output_mask, m)
        return output_mask

    def _apply_merge_op_and_or_mask(self, op_fn, inputs):
        """``op_fn`` over the inputs, a masked entry of one input replaced by the running result
        (Keras's Maximum/Minimum); the OR of the masks goes on the output when all have one."""
        output = output_mask = None
        for x in inputs:
            mask = getattr(x, "_keras_mask", None)
            if mask is not None:
                mask = ops.broadcast_to(ops.expand_dims(mask, -1), ops.shape(x))
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = ops.where(mask, x, output)
            if output_mask is not None:
                output = ops.where(output_mask, output, x)
            if mask is not None and output_mask is not None:
                output_mask = ops.logical_or(output_mask, mask)
            else:
                output_mask = None
            output = op_fn(output, x)
        if output_mask is not None:
            output._keras_mask = ops.any(output_mask, axis=-1, keepdims=False)
        return output

    def _convert_input(self, inputs):
        if not isinstance(inputs, list | tuple):
            return super()._convert_input(inputs)  # refused by build or call, with a message
        return [super(Merge, self)._convert_input(x) for x in inputs]

    def build(self, input_shape):
        if not isinstance(input_shape[0], tuple | list):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: "
                             f"input_shape={input_shape} (not a list of shapes)")
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"Cannot merge tensors with different batch sizes. Received "
                             f"tensors with shapes {input_shape}")
        self.compute_output_shape(input_shape)  # raises if the shapes do not broadcast
        self._reshape_required = len({len(s) for s in input_shape}) != 1
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, list | tuple):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: "
                             f"inputs={inputs} (not a list of tensors)")
        if self._reshape_required:  # (batch, 3) with (batch, 2, 3): (batch, 1, 3) first
            max_ndim = max(len(x.shape) for x in inputs)
            aligned = []
            for x in inputs:
                for _ in range(max_ndim - len(x.shape)):
                    x = ops.expand_dims(x, axis=1)
                aligned.append(x)
            inputs = aligned
        return self._merge_function(list(inputs))

    def compute_output_shape(self, input_shape):
        output_shape = input_shape[0][1:]
        for shape in input_shape[1:]:
            output_shape = _broadcast_shape(output_shape, shape[1:])
        batch_sizes = {s[0] for s in input_shape} - {None}
        batch = batch_sizes.pop() if len(batch_sizes) == 1 else None
        return (batch, *output_shape)


def _broadcast_shape(shape1, shape2):
    """The shape of an element-wise result, trailing axes aligned (``None``: unknown)."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    output_shape = list(shape1[: len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2, strict=True):
        if i is None or j is None:
            output_shape.append(None)
        elif i == 1 or j == 1:
            output_shape.append(j if i == 1 else i)
        elif i != j:
            raise ValueError(f"Inputs have incompatible shapes. Received shapes "
                             f"{tuple(shape1)} and {tuple(shape2)}")
        else:
            output_shape.append(i)
    return tuple(output_shape)


class Add(Merge):
    """x1 + x2 + ... ;  d/dxᵢ = 1."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.add(output, x)
        return output


class Subtract(Merge):
    """x1 - x2 (exactly two inputs);  d/dx1 = 1, d/dx2 = -1."""

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: input_shape={input_shape}")

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: inputs={inputs}")
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """x1 · x2 · ... (element-wise);  d/dxᵢ = the product of the others."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.multiply(output, x)
        return output


class Average(Merge):
    """(x1 + ... + xn) / n;  d/dxᵢ = 1/n."""

    def _merge_function(self, inputs):
        return Add._merge_function(self, inputs) / len(inputs)


class Maximum(Merge):
    """max(x1, x2, ...) element-wise; the gradient goes to the largest input."""

    def _merge_function(self, inputs):
        return self._apply_merge_op_and_or_mask(ops.maximum, inputs)


class Minimum(Merge):
    """min(x1, x2, ...) element-wise; the gradient goes to the smallest input."""

    def _merge_function(self, inputs):
        return self._apply_merge_op_and_or_mask(ops.minimum, inputs)


class Concatenate(Merge):
    """The inputs joined along ``axis`` (-1: the features); all other axes must match.
    The gradient is cut back into one slice per input."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        if len(input_shape) < 1 or not isinstance(input_shape[0], tuple | list):
            raise ValueError(f"A `Concatenate` layer should be called on a list of at least 1 "
                             f"input. Received: input_shape={input_shape}")
        error = ValueError(f"A `Concatenate` layer requires inputs with matching shapes except "
                           f"for the concatenation axis. Received: input_shape={input_shape}")
        if len({len(shape) for shape in input_shape}) != 1:
            raise error
        rank = len(input_shape[0])
        axis = self.axis % rank
        for i in range(rank):
            sizes = {shape[i] for shape in input_shape} - {None}
            if i != axis and len(sizes) > 1:
                raise error
        self.built = True

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        """Keras's rule: each input's mask (all True for an input without one) widened to the
        input's shape, concatenated along ``axis``, then any() over the last axis."""
        if mask is None:
            return None
        _check_masks(inputs, mask, "Received ")
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask, strict=True):
            if m is None:
                m = np.ones(tuple(x.shape), bool)
            else:
                m = np.asarray(ops.convert_to_numpy(m)).astype(bool)
                if m.ndim < len(x.shape):
                    m = np.broadcast_to(m[..., None], tuple(x.shape))
            masks.append(m)
        return np.any(np.concatenate(masks, axis=self.axis), axis=-1)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, tuple | list) or not isinstance(input_shape[0],
                                                                       tuple | list):
            raise ValueError(f"A `Concatenate` layer should be called on a list of inputs. "
                             f"Received: input_shape={input_shape}")
        output_shape = list(input_shape[0])
        for shape in input_shape[1:]:
            if output_shape[self.axis] is None or shape[self.axis] is None:
                output_shape[self.axis] = None
                break
            output_shape[self.axis] += shape[self.axis]
        return tuple(output_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# --- the functional aliases: keras.layers.add([x1, x2]) is Add()([x1, x2]) --------------------
def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)
