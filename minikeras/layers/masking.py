"""Masking: marks timesteps to skip (``keras/src/layers/core/masking.py``).

minikeras has no mask propagation yet: this layer computes its output exactly as Keras does
(the masked timesteps zeroed) and offers ``compute_mask``, but downstream layers (RNNs,
pooling, losses) do not receive or consume the mask, so they treat the zeroed timesteps as data.
"""

import warnings

from minikeras import ops
from minikeras.layers.layer import Layer


def warn_mask_not_propagated(layer):
    """Say it once per layer: a silent difference from Keras would train on the padding."""
    warnings.warn(
        f"Layer '{layer.name}' computes a mask, but minikeras does not pass masks from layer to "
        f"layer yet: the layers after it treat the masked (padded) steps as data, where Keras "
        f"would skip them. Pass `mask=layer.compute_mask(x)` to a layer that takes one "
        f"(GlobalAveragePooling1D), or leave the padding out.", stacklevel=3)


class Masking(Layer):
    """A timestep (one position along the second-to-last axis) whose features all equal
    ``mask_value`` is masked:
        keep[..., t] = any_f(x[..., t, f] != mask_value),   y = where(keep, x, 0)
    d y / d x = 1 at kept timesteps, 0 at masked ones."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, dict) and mask_value.get("config", None):
            from minikeras.saving import serialization
            mask_value = serialization.deserialize_keras_object(mask_value)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True
        warn_mask_not_propagated(self)

    def compute_mask(self, inputs, mask=None):
        """The boolean mask Keras would pass downstream: (batch, timesteps)."""
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return ops.where(keep, inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
