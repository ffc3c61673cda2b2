"""InputLayer and ``Input(shape=...)``: where a model's input shape is declared."""

from minikeras import backend
from minikeras.layers.keras_tensor import KerasTensor
from minikeras.layers.layer import Layer
from minikeras.layers.node import Node


class InputLayer(Layer):
    """Declares the input shape ``(batch_size, *shape)``; passes data through unchanged."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None,
                 batch_shape=None, input_tensor=None, optional=False, name=None, **kwargs):
        shape = kwargs.pop("input_shape", shape)
        batch_shape = kwargs.pop("batch_input_shape", batch_shape)
        super().__init__(name=name, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        if batch_size is not None and batch_shape is not None:
            raise ValueError(
                "You cannot pass both `batch_size` and `batch_shape` at the same time.")
        if shape is None and batch_shape is None:
            raise ValueError("You must pass a `shape` argument.")
        if shape is not None:
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size, *shape)
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self.dtype = backend.standardize_dtype(dtype)
        self.optional = optional
        # where a functional model's graph starts: ``self.output`` (name None: automatic)
        Node(self, outputs=KerasTensor(self.batch_shape, self.dtype, name=name))
        self.output_shape = self.batch_shape
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": self.optional}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,
          name=None, tensor=None, optional=False):
    """A symbolic input of the given shape: the start of a ``Sequential`` or functional model."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                       name=name, optional=optional)
    return layer.output
