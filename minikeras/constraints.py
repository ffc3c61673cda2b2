"""Constraints: projections applied to a weight after each optimizer update (``keras.constraints``).

``Dense(3, kernel_constraint="non_neg")``: after every step the optimizer replaces the kernel by
``constraint(kernel)``. Constraints are not applied at initialization and are not differentiated,
so they take and return plain NumPy arrays. Norms are taken along ``axis`` (0 by default: for a
Dense kernel of shape (in, out), the incoming weights of each unit).
"""

import numpy as np

from minikeras import backend
from minikeras.saving import serialization


class Constraint:
    """Base class: ``__call__(w)`` returns the projected array (here: ``w`` unchanged)."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _norms(w, axis):
    """The L2 norm of ``w`` along ``axis`` (an int or a list of ints), kept broadcastable."""
    axis = tuple(axis) if isinstance(axis, list) else axis
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


def _as_float_array(w):
    w = np.asarray(w)
    return w if backend.is_float_dtype(w.dtype) else w.astype(backend.floatx())


class MaxNorm(Constraint):
    """Caps the norm at ``max_value``: ``w * clip(n, 0, max_value) / (eps + n)``, n = ||w||."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = _as_float_array(w)
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Negative weights become 0: ``max(w, 0)``."""

    def __call__(self, w):
        return np.maximum(np.asarray(w), 0)


class UnitNorm(Constraint):
    """Scales to unit norm: ``w / (eps + n)``, n = ||w|| along ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = _as_float_array(w)
        return w / (backend.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the norm into [min_value, max_value] at speed ``rate``:
    ``w * (rate * clip(n, min_value, max_value) + (1 - rate) * n) / (eps + n)``."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = _as_float_array(w)
        norms = _norms(w, self.axis)
        desired = (self.rate * np.clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# --- lookup by name ------------------------------------------------------------------------------
ALL_OBJECTS = [Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm]
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({backend.to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})

# Keras also exports each class under a lowercase name: ``max_norm(2)`` is ``MaxNorm(2)``.
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm


def serialize(constraint):
    """Keras's dict: ``{"module": "keras.constraints", "class_name": "MaxNorm",
    "config": {"max_value": 2, "axis": 0}, "registered_name": None}``; a class registered with
    ``register_keras_serializable`` keeps its module and ``"package>Name"``."""
    return serialization.serialize_keras_object(constraint)


def deserialize(config, custom_objects=None):
    """A constraint from ``serialize``'s dict (built-in, registered or in ``custom_objects``)."""
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT)


def get(identifier):
    """A constraint from None, a built-in name (``'max_norm'``, ``'non_neg'``, ``'unit_norm'``,
    ``'min_max_norm'``...), a config dict, a class or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
    else:
        obj = identifier
    if isinstance(obj, type):
        obj = obj()
    if not callable(obj):
        raise ValueError(f"Could not interpret constraint identifier: {identifier!r}. "
                         f"Valid names: {sorted(ALL_OBJECTS_DICT)}")
    return obj
