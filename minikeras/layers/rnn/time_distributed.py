"""TimeDistributed: one layer applied to every timestep of a sequence
(``keras.layers.TimeDistributed``, Keras's ``keras/src/layers/rnn/time_distributed.py``)."""

from minikeras import ops
from minikeras.layers.layer import Layer
from minikeras.layers.wrapper import Wrapper


class TimeDistributed(Wrapper):
    """Apply ``layer`` to each timestep x[:, t] of an input of shape (batch, time, ...), with the
    same weights at every step:

        y[:, t] = layer(x[:, t])       for t = 1 .. T

    Keras loops over the timesteps; minikeras folds time into the batch axis instead,
    (batch, time, ...) -> (batch·time, ...) -> layer -> (batch, time, ...), which is the same
    for layers that treat samples independently (Dense, Conv2D, ...). Every step is a recorded
    op, so gradients flow back to the input and to the inner layer's weights, which are the
    wrapper's only weights. As Keras, the inner layer's ``call`` is used directly (its activity
    regularizer, if any, does not apply). A mask (batch, time, ...) on the input goes to an inner
    layer whose ``call`` takes one (step t's slice for step t), and on to the output unchanged.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        super().__init__(layer, **kwargs)
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
        batch, steps, *inner = ops.shape(inputs)
        if mask is not None:
            mask_shape = tuple(ops.shape(mask))
            if len(mask_shape) < 2:
                raise ValueError(
                    "The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                    f"`(batch_size, timesteps)`), but it has {len(mask_shape)} dimension(s) "
                    f"with shape {mask_shape}.")
            if mask_shape[:2] != (batch, steps):
                raise ValueError(
                    f"The `mask` passed to the `TimeDistributed` layer has a shape {mask_shape} "
                    f"that is incompatible with the input shape {tuple(inputs.shape)}. The "
                    f"first two dimensions of the mask (batch size and timesteps) must match "
                    f"the input's first two dimensions. Expected mask shape prefix: "
                    f"({batch}, {steps}).")
        folded = ops.reshape(inputs, (batch * steps, *inner))  # time joins the batch axis
        kwargs = {"training": training} if self.layer._call_takes_training else {}
        if mask is not None and self.layer._call_takes_mask:  # step t's mask, folded the same way
            kwargs["mask"] = ops.reshape(mask, (batch * steps, *tuple(ops.shape(mask))[2:]))
        outputs = self.layer.call(folded, **kwargs)
        return ops.reshape(outputs, (batch, steps, *ops.shape(outputs)[1:]))
