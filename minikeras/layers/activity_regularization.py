"""ActivityRegularization: passes its input through and adds a penalty on it to the loss."""

from minikeras import regularizers
from minikeras.layers.layer import Layer


class ActivityRegularization(Layer):
    """``y = x``; adds ``(l1 * sum(|x|) + l2 * sum(x²)) / batch_size`` to ``layer.losses`` at
    every call (the base layer's activity regularizer, divided by the batch size as in Keras)."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
