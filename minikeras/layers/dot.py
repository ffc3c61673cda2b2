"""Dot: the dot product of two inputs, sample by sample (``keras.layers.Dot``, ``dot``).

``Dot(axes=1)([a, b])`` with a, b of shape (batch, n) gives (batch, 1): Σ_i a[s, i] · b[s, i]
for each sample s. For higher ranks it contracts ``axes[0]`` of the first input with
``axes[1]`` of the second, keeping the batch axis shared (``batch_dot``):
    out[s, ...a's other axes, ...b's other axes] = Σ_k a[s, ..k..] · b[s, ..k..]
``normalize=True`` first scales both along the contracted axis to unit L2 norm, which makes the
output the cosine similarity. Gradients are those of the ops (matmul, transpose, reshape):
d out / d a = g · b, d out / d b = g · a along the contracted axis.
Follows ``keras/src/layers/merging/dot.py``, error messages included.
"""

from minikeras import ops
from minikeras.layers.merging import Merge


def batch_dot(x, y, axes=None):
    """Keras's ``batch_dot``: move the contracted axis of x last and that of y second, flatten
    the rest to (batch, m, k) @ (batch, k, n), one matmul, then restore the kept axes."""
    x_shape, y_shape = tuple(x.shape), tuple(y.shape)
    x_ndim, y_ndim = len(x_shape), len(y_shape)
    if x_ndim < 2 or y_ndim < 2:
        raise ValueError(f"Cannot do batch_dot on inputs with rank < 2. Received inputs with "
                         f"shapes {x_shape} and {y_shape}.")
    if x_shape[0] is not None and y_shape[0] is not None and x_shape[0] != y_shape[0]:
        raise ValueError(f"Cannot do batch_dot on inputs with different batch sizes. Received "
                         f"inputs with shapes {x_shape} and {y_shape}.")
    if isinstance(axes, int):
        axes = [axes, axes]
    if axes is None:
        axes = [x_ndim - 1, y_ndim - 1] if y_ndim == 2 else [x_ndim - 1, y_ndim - 2]
    if any(isinstance(a, list | tuple) for a in axes):
        raise ValueError(f"Multiple target dimensions are not supported. Expected: None, int, "
                         f"(int, int), Provided: {axes} ")
    axes = list(axes)
    if axes[0] < 0:
        axes[0] += x_ndim
    if axes[1] < 0:
        axes[1] += y_ndim
    if 0 in axes:
        raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not batched, "
                         "add a dummy batch dimension to your inputs using "
                         "keras.ops.expand_dims(x, 0)")
    a0, a1 = axes
    d1, d2 = x_shape[a0], y_shape[a1]
    if d1 is not None and d2 is not None and d1 != d2:
        raise ValueError(f"Cannot do batch_dot on inputs with shapes {x_shape} and {y_shape} "
                         f"with axes={axes}. x.shape[{axes[0]}] != y.shape[{axes[1]}] ({d1} != "
                         f"{d2}).")
    orig_x_ndim, orig_y_ndim = x_ndim, y_ndim
    if x_ndim == 2:  # (batch, k) -> (batch, 1, k)
        x = ops.expand_dims(x, 1)
        a0 += 1
        x_ndim += 1
    if y_ndim == 2:  # (batch, k) -> (batch, k, 1)
        y = ops.expand_dims(y, 2)
        y_ndim += 1
    if a0 != x_ndim - 1:  # the contracted axis of x last
        pattern = list(range(x_ndim))
        pattern[a0:-1] = pattern[a0 + 1:]
        pattern[-1] = a0
        x = ops.transpose(x, pattern)
    if a1 != 1:  # the contracted axis of y second
        pattern = list(range(y_ndim))
        pattern[2:a1 + 1] = pattern[1:a1]
        pattern[1] = a1
        y = ops.transpose(y, pattern)
    x_mid = y_trail = None
    if x_ndim > 3:
        x_mid = tuple(x.shape[1:-1])
        x = ops.reshape(x, (x.shape[0], -1, x.shape[-1]))
    if y_ndim > 3:
        y_trail = tuple(y.shape[2:])
        y = ops.reshape(y, (y.shape[0], y.shape[1], -1))
    result = ops.matmul(x, y)
    output_shape = tuple(result.shape)
    if x_mid is not None:
        output_shape = output_shape[:1] + x_mid + output_shape[-1:]
    if y_trail is not None:
        output_shape = output_shape[:-1] + y_trail
    if x_mid is not None or y_trail is not None:
        result = ops.reshape(result, output_shape)
    if orig_x_ndim == 2:
        result = ops.squeeze(result, 1)
    elif orig_y_ndim == 2:
        result = ops.squeeze(result, -1)
    return result


class Dot(Merge):
    """The sample-wise dot product of exactly two inputs along ``axes`` (an int, or one axis per
    input); with ``normalize=True``, the cosine similarity."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, list | tuple):
                raise TypeError(f"Invalid type for argument `axes`: it should be a list or an "
                                f"int. Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: it should contain two "
                                 f"elements. Received: axes={axes}")
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError(f"Invalid format for argument `axes`: list elements should be "
                                 f"integers. Received: axes={axes}")
        self.axes = axes
        self.normalize = normalize
        self._reshape_required = False

    def _axes_for(self, shape1, shape2):
        if isinstance(self.axes, int):
            if self.axes < 0:
                return [self.axes % len(shape1), self.axes % len(shape2)]
            return [self.axes] * 2
        return self.axes  # as given (negative ones index from the end), as Keras

    def build(self, input_shape):
        if not isinstance(input_shape[0], tuple | list) or len(input_shape) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: "
                             f"input_shape={input_shape}")
        shape1, shape2 = input_shape
        axes = self._axes_for(shape1, shape2)
        if shape1[axes[0]] != shape2[axes[1]]:
            raise ValueError(f"Incompatible input shapes: axis values {shape1[axes[0]]} (at axis "
                             f"{axes[0]}) != {shape2[axes[1]]} (at axis {axes[1]}). Full input "
                             f"shapes: {shape1}, {shape2}")
        self.built = True

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs. Received: "
                             f"inputs={inputs}")
        x1, x2 = inputs
        if isinstance(self.axes, int):
            axes = self._axes_for(x1.shape, x2.shape)
        else:
            axes = [a % len(x.shape) if a < 0 else a for a, x in zip(self.axes, inputs,
                                                                      strict=True)]
        if self.normalize:  # x / max(||x||, 1e-7) along the contracted axis
            x1 = ops.normalize(x1, axis=axes[0])
            x2 = ops.normalize(x2, axis=axes[1])
        return batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, tuple | list) or len(input_shape) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: "
                             f"input_shape={input_shape}")
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        axes = self._axes_for(shape1, shape2)
        shape1.pop(axes[0])
        shape2.pop(axes[1])
        shape2.pop(0)
        output_shape = shape1 + shape2
        if len(output_shape) == 1:
            output_shape += [1]
        return tuple(output_shape)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def dot(inputs, axes=-1, **kwargs):
    """The functional alias: ``dot([a, b], axes)`` is ``Dot(axes)([a, b])``."""
    return Dot(axes=axes, **kwargs)(inputs)
