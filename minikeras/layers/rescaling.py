"""Rescaling: ``inputs * scale + offset``, e.g. pixels from [0, 255] to [0, 1]."""

import numpy as np

from minikeras import ops
from minikeras.layers.layer import Layer


class Rescaling(Layer):
    """``y = x * scale + offset`` in training and inference alike; d y / d x = scale.

    ``scale`` and ``offset`` are numbers or arrays that broadcast against the input (a per-channel
    scale of shape ``(channels,)``, for instance). ``Rescaling(1 / 255)`` maps [0, 255] to [0, 1];
    ``Rescaling(1 / 127.5, offset=-1)`` maps it to [-1, 1]. Integer inputs give float outputs.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.scale = scale
        self.offset = offset
        self.built = True

    def call(self, inputs):
        scale = np.asarray(self.scale, dtype=self.dtype)
        offset = np.asarray(self.offset, dtype=self.dtype)
        return ops.add(ops.multiply(inputs, scale), offset)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "scale": _serialize(self.scale),
                "offset": _serialize(self.offset)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["scale"] = _deserialize(config["scale"])
        config["offset"] = _deserialize(config["offset"])
        return cls(**config)


def _serialize(value):
    """A number as itself, a NumPy array in Keras's ``__numpy__`` form."""
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__",
                "config": {"value": value.tolist(), "dtype": value.dtype.name}}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _deserialize(value):
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        return np.array(value["config"]["value"], dtype=value["config"]["dtype"])
    return value
