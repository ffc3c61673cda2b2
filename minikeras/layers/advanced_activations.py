"""Activation layers with arguments (``ReLU``, ``LeakyReLU``, ``ELU``, ``Softmax``) or weights
(``PReLU``). Each calls the matching function of ``minikeras.activations``, whose derivative the
tape knows."""

import warnings

from minikeras import activations, constraints, initializers, ops, regularizers
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer


class ReLU(Layer):
    """``y = max_value`` if ``x >= max_value``, ``x`` if ``threshold <= x < max_value``, else
    ``negative_slope * (x - threshold)``; the defaults give ``max(x, 0)``."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                             f"Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be None or a negative "
                             f"value. Received: negative_slope={negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be None or a negative value. "
                             f"Received: threshold={threshold}")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self.built = True

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Layer):
    """``y = x`` if ``x >= 0`` else ``negative_slope * x``. The layer's default slope is 0.3 (the
    function ``activations.leaky_relu`` defaults to 0.2). Keras 2's ``alpha=`` still works, with a
    deprecation warning."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        self.supports_masking = True
        if negative_slope is None or negative_slope < 0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or "
                             f"negative value. Expected a float. Received: "
                             f"negative_slope={negative_slope}")
        self.negative_slope = negative_slope
        self.built = True

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """``y = x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha = alpha
        self.built = True

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()  # Keras writes "alpha" right after "name"
        return {"name": config.pop("name"), "alpha": self.alpha, **config}


class PReLU(Layer):
    """``y = relu(x) - alpha * relu(-x)``: a leaky ReLU whose slope ``alpha`` is learned, one per
    input position (shape ``input_shape[1:]``, size 1 along ``shared_axes``).

    d y / d x = 1 where x > 0, alpha where x < 0; d y / d alpha = min(x, 0).
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, list | tuple):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis < len(input_shape):
                raise ValueError(
                    f"Invalid `shared_axes` for layer '{self.name}': each axis must be in "
                    f"[1, {len(input_shape) - 1}] for inputs of shape {tuple(input_shape)}. "
                    f"Received: shared_axes={self.shared_axes}")
            param_shape[axis - 1] = 1
        self.alpha = self.add_weight(
            shape=param_shape, name="alpha", initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        axes = {i: input_shape[i] for i in range(1, len(input_shape))
                if self.shared_axes and i not in self.shared_axes}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs):
        positive = activations.relu(inputs)
        negative = ops.multiply(ops.negative(self.alpha), activations.relu(ops.negative(inputs)))
        return ops.add(positive, negative)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes}


class Softmax(Layer):
    """``y_i = exp(x_i - max x) / sum_j exp(x_j - max x)`` along ``axis`` (an int, or a list of
    axes: then ``exp(x - logsumexp(x))`` over all of them).

    ``mask`` (broadcastable to the input; True or > 0.5 keeps) sets the other logits to -1e9 and
    their outputs to 0.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.axis = axis
        self.built = True

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = _check_softmax_mask(ops.convert_to_numpy(mask), inputs.shape)
            inputs = ops.where(mask, inputs, -1e9)
        if isinstance(self.axis, list | tuple) and len(self.axis) > 1:
            axis = tuple(self.axis)
            outputs = ops.exp(ops.subtract(inputs, ops.logsumexp(inputs, axis=axis,
                                                                 keepdims=True)))
        else:
            axis = self.axis[0] if isinstance(self.axis, list | tuple) else self.axis
            outputs = activations.softmax(inputs, axis=axis)
        if mask is not None:
            outputs = ops.where(mask, outputs, 0.0)
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _check_softmax_mask(mask, input_shape):
    """The mask as booleans, after checking that it broadcasts to the input."""
    broadcastable = mask.ndim <= len(input_shape) and all(
        m in (1, i) for m, i in zip(mask.shape[::-1], input_shape[::-1], strict=False))
    if not broadcastable:
        raise ValueError("The `mask` must be broadcastable to `inputs`. Each mask dimension must "
                         "be 1 or match the corresponding input dimension, and the mask must not "
                         f"have more dimensions. Received: inputs.shape={tuple(input_shape)}, "
                         f"mask.shape={mask.shape}")
    return mask if mask.dtype == bool else mask > 0.5
