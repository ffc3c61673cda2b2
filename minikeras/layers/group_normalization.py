"""GroupNormalization: normalize each sample over groups of channels (Wu & He, 2018),
``keras/src/layers/normalization/group_normalization.py``."""

from minikeras import backend, constraints, initializers, ops, regularizers
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer


class GroupNormalization(Layer):
    """The ``axis`` channels are split into ``groups`` groups; each sample is normalized with
    the mean μ and variance σ² of its group (over the group's channels and every other
    non-batch axis), then scaled and shifted per channel:
        y = γ · (x - μ) / sqrt(σ² + ε) + β
    groups=1 is LayerNormalization over all non-batch axes, groups=-1 (one channel per group)
    is InstanceNormalization. Keras computes it as y = x · inv + (β - μ · inv) with
    inv = γ · rsqrt(σ² + ε), and so does this layer; the gradient is that of those ops, with
    ``ops.moments``'s (TensorFlow's) rule d σ² / dxᵢ = 2 (xᵢ - μ) / n.
    Weights: gamma then beta, each of shape (channels,). No autocast: float16 inputs are
    normalized in float32."""

    def __init__(self, groups=32, axis=-1, epsilon=0.001, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(f"Received an invalid value for argument `groups`, expected a "
                             f"positive integer (or `-1` for instance normalization). Received: "
                             f"groups={groups}")
        super().__init__(**kwargs)
        self.supports_masking = True
        self.autocast = False
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension "
                             f"but the layer received an input with shape {input_shape}.")
        if self.groups == -1:
            self.groups = dim  # so the config then records the channel count, as in Keras
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number "
                             f"of channels ({dim}).")
        if dim % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number "
                             f"of channels ({dim}).")  # (sic: Keras's wording)
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(
                shape=(dim,), name="gamma", initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                autocast=False)
        if self.center:
            self.beta = self.add_weight(
                shape=(dim,), name="beta", initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                autocast=False)
        self.built = True

    def _grouped_shape(self, shape, batch):
        """(..., channels, ...) -> (..., groups, channels // groups, ...) at ``axis``."""
        grouped = [batch, *shape[1:]]
        grouped[self.axis] = shape[self.axis] // self.groups
        grouped.insert(self.axis, self.groups)
        return grouped

    def call(self, inputs):
        shape = tuple(inputs.shape)
        x = ops.reshape(inputs, self._grouped_shape(shape, -1))
        inputs_dtype = backend.standardize_dtype(x.dtype)
        compute_dtype = "float64" if inputs_dtype == "float64" else "float32"
        x = ops.cast(x, compute_dtype)
        reduction_axes = list(range(1, len(x.shape)))
        reduction_axes.pop(-2 if self.axis == -1 else self.axis - 1)  # all but the groups axis
        broadcast_shape = [1] * len(shape)  # gamma and beta as (groups, channels // groups)
        broadcast_shape[self.axis] = shape[self.axis] // self.groups
        broadcast_shape.insert(self.axis, self.groups)
        mean, variance = ops.moments(x, axes=reduction_axes, keepdims=True)
        inv = ops.rsqrt(ops.add(variance, self.epsilon))
        if self.scale:
            inv = ops.multiply(inv, ops.cast(ops.reshape(self.gamma, broadcast_shape),
                                             compute_dtype))
        res = ops.negative(ops.multiply(mean, inv))
        if self.center:
            res = ops.add(res, ops.cast(ops.reshape(self.beta, broadcast_shape), compute_dtype))
        y = ops.cast(ops.add(ops.multiply(x, inv), res), inputs_dtype)
        return ops.cast(ops.reshape(y, shape), self.dtype)

    def compute_output_shape(self, input_shape):
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        for axis in axes:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(f"Axis {axis} is out of bounds for input shape {input_shape}. "
                                 f"Received: axis={self.axis}")
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
