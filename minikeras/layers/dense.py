"""Dense: the fully connected layer, ``output = activation(inputs @ kernel + bias)``."""

import functools

import numpy as np

from minikeras import activations, constraints, dtypes, initializers, regularizers
from minikeras.autodiff import record
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer
from minikeras.ops.core import value_of


class Dense(Layer):
    """Each of the ``units`` outputs is a weighted sum of all inputs plus a bias, then the
    activation: ``y = activation(x @ W + b)`` with ``W`` of shape ``(input_dim, units)``.

    For inputs of rank > 2 the last axis is contracted: ``(batch, t, d) -> (batch, t, units)``.
    Backpropagation goes through ``affine`` (below), then through the activation op.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, lora_alpha=None, quantization_config=None, **kwargs):
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(input_dim, self.units), initializer=self.kernel_initializer, name="kernel",
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,), initializer=self.bias_initializer, name="bias",
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs, training=None):
        return self.activation(affine(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**{k: v for k, v in config.items() if k not in ("quantization_config",)})


def affine(x, kernel, bias=None):
    """z = x W + b, recorded as one op: the backpropagation rules of a fully connected layer.

    With g = dL/dz (one row per sample; for inputs of rank > 2, every position is a row):
        dL/dx = g Wᵀ          each input feeds every unit through its weight
        dL/dW = xᵀ g          a weight's gradient sums input x gradient over the batch
        dL/db = Σ_rows g      a bias's gradient sums its unit's gradient over the batch
                              (computed as 1ᵀ g, a row of ones times g: one BLAS call, a third
                              of np.sum's time on a small batch)
    """
    a, w = value_of(x), value_of(kernel)
    if a.dtype != w.dtype:
        a, w = dtypes.promote(a, w)
    z = a.dot(w)  # ndarray.dot: the same product as @, with less overhead on small matrices
    a_t = _rows(a).T
    if bias is None:
        return record(z, (x, kernel), lambda g: g.dot(w.T), lambda g: a_t.dot(_rows(g)))
    z += value_of(bias)
    return record(z, (x, kernel, bias), lambda g: g.dot(w.T),
                  lambda g: a_t.dot(_rows(g)), lambda g: _column_sums(_rows(g)))


def _column_sums(m):
    return _ones(len(m), m.dtype).dot(m)


@functools.lru_cache(maxsize=64)
def _ones(n, dtype):
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def _rows(a):
    """``a`` as a matrix with one row per sample (and position, for inputs of rank > 2)."""
    return a if a.ndim == 2 else a.reshape(-1, a.shape[-1])
