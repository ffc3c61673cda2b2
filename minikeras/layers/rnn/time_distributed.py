"""TimeDistributed: one layer applied to every timestep of a sequence
(``keras.layers.TimeDistributed``, Keras's ``keras/src/layers/rnn/time_distributed.py``)."""

from minikeras import ops
from minikeras.layers.layer import Layer


class TimeDistributed(Layer):
    """Apply ``layer`` to each timestep x[:, t] of an input of shape (batch, time, ...), with the
    same weights at every step:

        y[:, t] = layer(x[:, t])       for t = 1 .. T

    Keras loops over the timesteps; minikeras folds time into the batch axis instead,
    (batch, time, ...) -> (batch·time, ...) -> layer -> (batch, time, ...), which is the same
    for layers that treat samples independently (Dense, Conv2D, ...). Every step is a recorded
    op, so gradients flow back to the input and to the inner layer's weights, which are the
    wrapper's only weights. As Keras, the inner layer's ``call`` is used directly (its activity
    regularizer, if any, does not apply).
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def _get_child_input_shape(self, input_shape):
        if not isinstance(input_shape, tuple | list) or len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at "
                             f"least 3 dimensions, received: {input_shape}")
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        child_input_shape = self._get_child_input_shape(input_shape)
        if not self.layer.built:
            self.layer._parent_path = self.path
            self.layer._build_for(child_input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        child_output_shape = self.layer.compute_output_shape(
            self._get_child_input_shape(input_shape))
        return (child_output_shape[0], input_shape[1], *child_output_shape[1:])

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            raise NotImplementedError(
                f"Layer '{self.name}' (TimeDistributed) received a `mask`, but minikeras does "
                f"not support masking yet.")
        batch, steps, *inner = ops.shape(inputs)
        folded = ops.reshape(inputs, (batch * steps, *inner))  # time joins the batch axis
        kwargs = {"training": training} if self.layer._call_takes_training else {}
        outputs = self.layer.call(folded, **kwargs)
        return ops.reshape(outputs, (batch, steps, *ops.shape(outputs)[1:]))

    def get_config(self):
        from minikeras.saving.serialization import serialize_keras_object

        return {**super().get_config(), "layer": serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from minikeras.saving.serialization import deserialize_keras_object

        config = dict(config)
        layer = deserialize_keras_object(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)
