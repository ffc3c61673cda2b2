"""Identity: a placeholder layer that returns its input unchanged."""

from minikeras.layers.layer import Layer


class Identity(Layer):
    """``y = x``; d y / d x = 1."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
