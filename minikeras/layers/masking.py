"""Masking: marks timesteps to skip (``keras/src/layers/core/masking.py``).

The output carries the mask (``output._keras_mask``, as Keras's TensorFlow backend keeps it):
the layers after it that support masking pass it on, the recurrent layers skip the masked steps,
and a loss on an output that still carries it averages over the kept steps only.
"""

from minikeras import ops
from minikeras.layers.layer import Layer


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

    def compute_mask(self, inputs, mask=None):
        """The boolean mask Keras would pass downstream: (batch, timesteps)."""
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        outputs = ops.where(keep, inputs, ops.zeros_like(inputs))
        outputs._keras_mask = ops.squeeze(keep, axis=-1)  # the mask and outputs at once, as Keras
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
