"""Regularizers: penalties on weights added to the loss (``keras.regularizers``).

``Dense(3, kernel_regularizer="l2")`` adds ``0.01 * sum(kernel**2)`` to every batch loss, unscaled
(not divided by the batch size). The penalty is built from ``minikeras.ops``, so a
``GradientTape`` differentiates it like the rest of the loss: d/dw of L2 is ``2 * l2 * w``.
"""

import math

import numpy as np

from minikeras import backend, ops
from minikeras.saving import serialization


class Regularizer:
    """Base class: ``__call__(x)`` returns a scalar penalty; subclasses implement ``get_config``."""

    def __call__(self, x):
        return 0.0

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")


def validate_float_arg(value, name):
    """``value`` as a float; it must be a finite, non-negative number."""
    if (not isinstance(value, float | int) or math.isinf(value) or math.isnan(value)
            or value < 0):
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. "
                         f"Received: {name}={value}")
    return float(value)


def _as_floatx(value):
    """``value`` as a floatx scalar, as Keras stores L1's factor (a float32 tensor)."""
    return np.asarray(value, dtype=backend.floatx())


class L1(Regularizer):
    """``l1 * sum(|x|)``; d/dx = ``l1 * sign(x)``.

    Keras keeps ``l1`` as a float32 tensor, so ``get_config()`` reports 0.009999999776482582.
    """

    def __init__(self, l1=0.01):
        l1 = 0.01 if l1 is None else l1
        self.l1 = _as_floatx(validate_float_arg(l1, name="l1"))

    def __call__(self, x):
        return ops.multiply(ops.cast(self.l1, ops.dtype(x)), ops.sum(ops.abs(x)))

    def get_config(self):
        return {"l1": float(self.l1)}


class L2(Regularizer):
    """``l2 * sum(x**2)``; d/dx = ``2 * l2 * x``. (``l2`` stays a Python float, as in Keras.)"""

    def __init__(self, l2=0.01):
        l2 = 0.01 if l2 is None else l2
        self.l2 = validate_float_arg(l2, name="l2")

    def __call__(self, x):
        return ops.multiply(ops.cast(self.l2, ops.dtype(x)), ops.sum(ops.square(x)))

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``. Both factors default to 0 (unlike ``L1`` and ``L2``),
    so ``"l1l2"`` gives no penalty at all."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x):
        dtype = ops.dtype(x)
        regularization = ops.convert_to_tensor(0.0, dtype=dtype)
        if self.l1 != 0.0:
            l1_term = ops.multiply(ops.cast(self.l1, dtype), ops.sum(ops.abs(x)))
            regularization = ops.add(regularization, l1_term)
        if self.l2 != 0.0:
            l2_term = ops.multiply(ops.cast(self.l2, dtype), ops.sum(ops.square(x)))
            regularization = ops.add(regularization, l2_term)
        return regularization

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (``mode="rows"``) or columns of a 2-D kernel towards orthogonality:
    ``factor * 0.5 * sum(|P - diag(P)|) / (n (n - 1) / 2)``, with P = X X^T the n x n matrix of
    dot products between unit-normalized rows (X^T X between columns)."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _as_floatx(validate_float_arg(factor, name="factor"))
        if mode not in ("rows", "columns"):
            raise ValueError('Invalid value for argument `mode`. Expected one of '
                             f'{{"rows", "columns"}}. Received: mode={mode}')
        self.mode = mode

    def __call__(self, inputs):
        if len(ops.shape(inputs)) != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={ops.shape(inputs)}")
        axis = 1 if self.mode == "rows" else 0
        norms = ops.sqrt(ops.sum(ops.square(inputs), axis=axis, keepdims=True))
        unit = ops.divide(inputs, ops.maximum(norms, backend.epsilon()))
        if self.mode == "rows":
            product = ops.matmul(unit, ops.transpose(unit))
        else:
            product = ops.matmul(ops.transpose(unit), unit)
        size = ops.shape(product)[0]
        off_diagonal = ops.multiply(product, 1.0 - np.eye(size, dtype=ops.dtype(inputs)))
        num_pairs = size * (size - 1.0) / 2.0
        total = ops.sum(ops.abs(off_diagonal))
        return ops.multiply(ops.cast(self.factor, ops.dtype(inputs)) * 0.5 / num_pairs, total)

    def get_config(self):
        return {"factor": float(self.factor), "mode": self.mode}


# --- lookup by name ------------------------------------------------------------------------------
ALL_OBJECTS = [Regularizer, L1, L2, L1L2, OrthogonalRegularizer]
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({backend.to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})

# Keras also exports each class under a lowercase name: ``regularizers.l2(0.01)`` is ``L2(0.01)``.
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer


def serialize(regularizer):
    """Keras's dict: ``{"module": "keras.regularizers", "class_name": "L2",
    "config": {"l2": 0.01}, "registered_name": None}``; a class registered with
    ``register_keras_serializable`` keeps its module and ``"package>Name"``."""
    return serialization.serialize_keras_object(regularizer)


def deserialize(config, custom_objects=None):
    """A regularizer from ``serialize``'s dict (built-in, registered or in ``custom_objects``)."""
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT)


def get(identifier):
    """A regularizer from None, a built-in name (``'l1'``, ``'l2'``, ``'l1l2'``...), a config
    dict, a class or a callable."""
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
        raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}. "
                         f"Valid names: {sorted(ALL_OBJECTS_DICT)}")
    return obj
