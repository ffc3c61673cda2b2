"""Activation: applies an activation function as its own layer."""

from minikeras import activations
from minikeras.layers.layer import Layer


class Activation(Layer):
    """``Activation("relu")`` computes ``relu(inputs)``; no weights."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
