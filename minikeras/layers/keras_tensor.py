"""KerasTensor: a symbolic tensor, a shape and a dtype without values (``keras.KerasTensor``).

``keras.Input`` returns one; calling a layer on KerasTensors returns new ones instead of computing.
Each remembers where it came from in ``_keras_history`` (the layer, which of its calls, which of
that call's outputs), which is how ``keras.Model(inputs, outputs)`` finds its graph.
"""

from minikeras import backend


class KerasTensor:
    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(shape)
        self.dtype = backend.standardize_dtype(dtype)
        self.name = name or backend.unique_name("keras_tensor")
        self.ndim = len(self.shape)

    def __repr__(self):
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse=False, "
                f"ragged=False, name={self.name}>")


def any_symbolic(inputs):
    """Whether ``inputs`` (a tensor, or a list or tuple of them) holds a KerasTensor."""
    if isinstance(inputs, KerasTensor):
        return True
    return isinstance(inputs, list | tuple) and any(any_symbolic(x) for x in inputs)
