"""Normalization: standardize features with a mean and variance learned once from data."""

import itertools
import math

import numpy as np

from minikeras import backend, ops
from minikeras.layers.layer import Layer
from minikeras.tensor import ArrayLike


class Normalization(Layer):
    """``y = (x - mean) / max(sqrt(variance), epsilon)``, with ``epsilon = backend.epsilon()``;
    ``invert=True`` maps back: ``y = mean + x * max(sqrt(variance), epsilon)``.

    ``mean`` and ``variance`` are either given, or computed by ``adapt(data)``: one value per index
    of the kept ``axis`` (an int, a tuple, or None for a single scalar pair), reduced over every
    other axis, variance of the whole population (divided by n). Adapted statistics live in the
    non-trainable weights ``mean``, ``variance`` and ``count`` (kept at 0, as Keras does), so they
    are saved with the model. d y / d x = 1 / max(sqrt(variance), epsilon).
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.mean = self.variance = None
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be "
                             f"set. Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same "
                    f"shape. Received: mean shape {np.shape(mean)} and variance shape "
                    f"{np.shape(variance)}")
            if np.ndim(mean) > len(self.axis):
                raise ValueError(
                    f"The rank of `mean` must be less than or equal to the number of axes "
                    f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis "
                    f"{self.axis}")

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError("All `axis` values must be in the range [-ndim, ndim). Received "
                             f"inputs with ndim={ndim}, while axis={self.axis}")
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    f"All `axis` values to be kept must have a known shape. Received "
                    f"axis={self.axis}, inputs.shape={tuple(input_shape)}, with unknown axis at "
                    f"index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1
                                      for d in range(ndim))
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        self._build_input_shape = tuple(input_shape)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                name="mean", shape=self._mean_and_var_shape, initializer="zeros",
                trainable=False)
            self.adapt_variance = self.add_weight(
                name="variance", shape=self._mean_and_var_shape, initializer="ones",
                trainable=False)
            self.count = self.add_weight(  # unused; kept for the file layout Keras writes
                name="count", shape=(), dtype="int64", initializer="zeros", trainable=False)
        else:
            self.mean = self._broadcast_given(self.input_mean)
            self.variance = self._broadcast_given(self.input_variance)
        self.built = True

    def _broadcast_given(self, value):
        """A given mean or variance, its dims aligned right to left with the kept axes."""
        value = np.asarray(value, dtype=self.dtype)
        expanded = [1] * len(self._broadcast_shape)
        for i in range(1, value.ndim + 1):
            expanded[self._keep_axis[-i]] = value.shape[-i]
        return np.broadcast_to(value.reshape(expanded), self._broadcast_shape)

    def adapt(self, data):
        """Compute the mean and variance of ``data``: an array (one pass, ``np.mean``/``np.var``)
        or an iterable of batches (merged batch by batch, as Keras does). Batches may be
        ``(x, y)`` tuples; only ``x`` is used."""
        batches = None
        if isinstance(data, np.ndarray | ArrayLike):
            input_shape = tuple(data.shape)
        elif hasattr(data, "__iter__"):
            iterator = iter(data)
            first = next(iterator, None)
            if first is None:
                raise ValueError("adapt() received an empty iterable (no batches). Expected at "
                                 "least one batch, e.g. layer.adapt([x]).")
            first = _extract_batch(first)
            if not hasattr(first, "shape"):
                raise TypeError(
                    "adapt() expects an iterable that yields arrays or tensors with a `.shape` "
                    f"attribute. Got an element of type {type(first).__name__}.")
            input_shape = tuple(first.shape)
            batches = itertools.chain([first], iterator)
        else:
            raise TypeError(f"Unsupported data type: {type(data)}. `adapt` supports "
                            "`np.ndarray`, tensors and iterables of batches (e.g. a list).")
        if self.input_mean is not None:
            raise ValueError("adapt() cannot be used on a Normalization layer created with "
                             "`mean` and `variance`: they are fixed.")
        if not self.built:
            self._build_for(input_shape)
        else:
            self._check_adapt_shape(input_shape)
        if batches is None:
            data = np.asarray(data)
            mean = np.mean(data, axis=self._reduce_axis)
            variance = np.var(data, axis=self._reduce_axis)
        else:
            mean, variance = self._merged_moments(batches)
        self.adapt_mean.assign(mean)
        self.adapt_variance.assign(variance)

    def _check_adapt_shape(self, shape):
        for d in self._keep_axis:
            if shape[d] != self._build_input_shape[d]:
                raise ValueError(
                    f"The layer was built with input_shape={self._build_input_shape}, but "
                    f"adapt() is being called with data with an incompatible shape, "
                    f"data.shape={shape}")

    def _merged_moments(self, batches):
        """Running mean and variance over batches (the lack-of-fit sum of squares formula):
        with w = n_batch / n_total, mean' = (1 - w) mean + w mean_b and
        var' = (1 - w)(var + (mean - mean')²) + w (var_b + (mean_b - mean')²)."""
        mean = np.zeros(self._mean_and_var_shape, dtype=self.dtype)
        variance = np.zeros(self._mean_and_var_shape, dtype=self.dtype)
        total = 0
        for batch in batches:
            batch = np.asarray(_extract_batch(batch), dtype=self.dtype)
            self._check_adapt_shape(batch.shape)
            batch_mean = np.mean(batch, axis=self._reduce_axis)
            batch_var = np.var(batch, axis=self._reduce_axis)
            count = math.prod(batch.shape[d] for d in self._reduce_axis)
            total += count
            weight = float(count) / total
            new_mean = mean * (1.0 - weight) + batch_mean * weight
            variance = ((variance + (mean - new_mean) ** 2) * (1.0 - weight)
                        + (batch_var + (batch_mean - new_mean) ** 2) * weight)
            mean = new_mean
        return mean, variance

    def call(self, inputs):
        mean, variance = self.mean, self.variance
        if self.input_mean is None:  # adapted: read the weights (they may have been loaded)
            mean = ops.reshape(self.adapt_mean, self._broadcast_shape)
            variance = ops.reshape(self.adapt_variance, self._broadcast_shape)
        std = ops.maximum(ops.sqrt(variance), backend.epsilon())
        if self.invert:
            return ops.add(mean, ops.multiply(inputs, std))
        return ops.divide(ops.subtract(inputs, mean), std)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(),
                "variance": np.array(self.input_variance).tolist()}


def _extract_batch(batch):
    """The inputs of a batch given as ``(x, y)`` or ``(x, y, sample_weight)``."""
    return batch[0] if isinstance(batch, tuple) else batch
