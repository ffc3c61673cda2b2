"""BatchNormalization: normalize each feature with the batch's statistics while training and with
moving averages of them at inference (``keras.layers.BatchNormalization``)."""

import numbers

import numpy as np

from minikeras import backend, constraints, initializers, ops, regularizers
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer


class BatchNormalization(Layer):
    """``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``, per feature along ``axis``.

    ``training=True``: mean and (biased) var of this batch over all other axes, and then
    ``moving = moving * momentum + batch * (1 - momentum)`` for both statistics.
    ``training=False``/``None`` (and any call while ``trainable`` is False): the moving statistics.
    The output is computed as TensorFlow does, ``x * inv + (beta - mean * inv)`` with
    ``inv = gamma / sqrt(var + epsilon)``; the tape differentiates it, through the batch statistics
    too, from ``ops.mean``, ``ops.square`` and ``ops.sqrt``.

    ``renorm=True`` is Batch Renormalization (Ioffe 2017): the training output is corrected by
    ``r = std / renorm_std`` and ``d = (mean - renorm_mean) / renorm_std`` (clipped by
    ``renorm_clipping``, no gradient through them), using moving averages taken with
    ``renorm_momentum``.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"Expected `axis` to be an integer (one feature axis). "
                            f"Received: axis={axis!r}")
        self.axis = int(axis)
        self.synchronized = synchronized
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm = renorm
        if renorm:
            renorm_clipping = renorm_clipping or {}
            _check_renorm_clipping(renorm_clipping)
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        self._check_axis(input_shape)
        shape = (input_shape[self.axis],)
        if self.scale:
            self.gamma = self.add_weight(
                shape=shape, name="gamma", initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                autocast=False)
        if self.center:
            self.beta = self.add_weight(
                shape=shape, name="beta", initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                autocast=False)
        self.moving_mean = self.add_weight(
            shape=shape, name="moving_mean", initializer=self.moving_mean_initializer,
            trainable=False, autocast=False)
        self.moving_variance = self.add_weight(
            shape=shape, name="moving_variance", initializer=self.moving_variance_initializer,
            trainable=False, autocast=False)
        if self.renorm:
            self._build_renorm(shape)
        ndim = len(input_shape)
        self.input_spec = InputSpec(ndim=ndim, axes={self.axis: input_shape[self.axis]})
        self._reduction_axes = tuple(i for i in range(ndim) if i != self.axis % ndim)
        # gamma, beta and the statistics have shape (channels,); this shape broadcasts them
        self._broadcast_shape = tuple(input_shape[i] if i == self.axis % ndim else 1
                                      for i in range(ndim))
        self.built = True

    def _build_renorm(self, shape):
        def moving_stddev_initializer(shape, dtype=None):  # sqrt of the variance initializer
            return np.sqrt(_clone(self.moving_variance_initializer)(shape, dtype=dtype))

        self.moving_stddev = self.add_weight(
            shape=shape, name="moving_stddev", initializer=moving_stddev_initializer,
            trainable=False, autocast=False)
        self.renorm_mean = self.add_weight(
            shape=shape, name="renorm_mean", initializer=_clone(self.moving_mean_initializer),
            trainable=False, autocast=False)
        self.renorm_stddev = self.add_weight(
            shape=shape, name="renorm_stddev", initializer=moving_stddev_initializer,
            trainable=False, autocast=False)

    def _check_axis(self, input_shape):
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(f"Axis {self.axis} is out of bounds for input shape "
                             f"{tuple(input_shape)}. Received: axis={self.axis}")

    def call(self, inputs, training=None, mask=None):
        if mask is not None and len(ops.shape(mask)) != len(inputs.shape) - 1:
            raise ValueError("The mask provided should be one dimension less than the inputs. "
                             f"Received: mask.shape={ops.shape(mask)}, "
                             f"inputs.shape={inputs.shape}")
        gamma = self._broadcast(self.gamma) if self.scale else None
        beta = self._broadcast(self.beta) if self.center else None
        if training and self.trainable:
            mean, variance = self._moments(inputs, mask)
            if self.renorm:
                gamma, beta = self._renorm_transform(mean, variance, gamma, beta)
                self._update_renorm_statistics(mean, variance)
            else:
                self._update_moving_statistics(mean, variance)
        else:
            mean = self._broadcast(self.moving_mean)
            variance = self._broadcast(self.moving_variance)
        return batch_normalization(inputs, mean, variance, beta, gamma, self.epsilon)

    def _broadcast(self, weight):
        return ops.reshape(ops.cast(weight, self.dtype), self._broadcast_shape)

    def _moments(self, inputs, mask):
        """Batch mean and variance over every axis but ``axis`` (keeping them, size 1)."""
        axes = self._reduction_axes
        if mask is not None:
            return _masked_moments(inputs, mask, axes)
        mean = ops.mean(inputs, axis=axes, keepdims=True)
        if self.synchronized:  # Keras's cross-replica formula (one replica here)
            variance = ops.maximum(ops.mean(ops.square(inputs), axis=axes, keepdims=True)
                                   - ops.square(mean), 0.0)
            return mean, variance
        # d variance / d mean = -2 mean(x - mean) = 0, so TensorFlow stops that gradient
        variance = ops.mean(ops.square(inputs - ops.stop_gradient(mean)), axis=axes,
                            keepdims=True)
        return mean, variance

    def _update_moving_statistics(self, mean, variance):
        """A side effect on the variables, not recorded on the tape."""
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            batch = ops.convert_to_numpy(batch).reshape(moving.shape)
            moving.assign(moving.value * self.momentum + batch * (1.0 - self.momentum))

    def _renorm_transform(self, mean, variance, gamma, beta):
        """gamma' = r * gamma, beta' = d * gamma + beta, with r and d constants (no gradient)."""
        mean, stddev = ops.convert_to_numpy(mean), self._stddev(variance)
        renorm_mean = self.renorm_mean.value.reshape(self._broadcast_shape)
        renorm_stddev = np.maximum(self.renorm_stddev.value.reshape(self._broadcast_shape),
                                   np.sqrt(np.asarray(self.epsilon, dtype=mean.dtype)))
        r = stddev / renorm_stddev
        d = (mean - renorm_mean) / renorm_stddev
        clipping = self.renorm_clipping
        if clipping.get("rmin") is not None:
            r = np.maximum(r, clipping["rmin"])
        if clipping.get("rmax") is not None:
            r = np.minimum(r, clipping["rmax"])
        if clipping.get("dmax") is not None:
            d = np.clip(d, -clipping["dmax"], clipping["dmax"])
        if gamma is not None:
            r, d = ops.multiply(r, gamma), ops.multiply(d, gamma)
        return r, d if beta is None else ops.add(d, beta)

    def _stddev(self, variance):
        return np.sqrt(ops.convert_to_numpy(variance) + self.epsilon)

    def _update_renorm_statistics(self, mean, variance):
        """Moving averages of the mean and stddev; moving_variance = relu(stddev² - epsilon)."""
        shape = self.moving_mean.shape
        mean = ops.convert_to_numpy(mean).reshape(shape)
        stddev = self._stddev(variance).reshape(shape)
        momentum, renorm_momentum = self.momentum, self.renorm_momentum
        self.renorm_mean.assign(self.renorm_mean.value * renorm_momentum
                                + mean * (1.0 - renorm_momentum))
        self.renorm_stddev.assign(self.renorm_stddev.value * renorm_momentum
                                  + stddev * (1.0 - renorm_momentum))
        self.moving_mean.assign(self.moving_mean.value * momentum + mean * (1.0 - momentum))
        new_stddev = self.moving_stddev.value * momentum + stddev * (1.0 - momentum)
        self.moving_stddev.assign(new_stddev)
        self.moving_variance.assign(np.maximum(new_stddev * new_stddev - self.epsilon, 0))

    def compute_output_shape(self, input_shape):
        self._check_axis(input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


def batch_normalization(x, mean, variance, offset, scale, epsilon):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, arranged as
    ``tf.nn.batch_normalization``: ``x * inv + (offset - mean * inv)``, ``inv = scale / sqrt(var +
    epsilon)``. ``offset``/``scale`` may be None (0 and 1)."""
    inv = ops.divide(1.0, ops.sqrt(ops.add(variance, epsilon)))
    if scale is not None:
        inv = ops.multiply(inv, scale)
    mean_inv = ops.multiply(mean, inv)
    shift = ops.negative(mean_inv) if offset is None else ops.subtract(offset, mean_inv)
    return ops.add(ops.multiply(x, inv), shift)


def _masked_moments(inputs, mask, axes):
    """Mean and variance over the positions where ``mask`` (the input's shape without the feature
    axis) is true, as Keras computes them: ``sum(x) / (count + 1e-7)``."""
    keep = np.broadcast_to(np.expand_dims(ops.convert_to_numpy(mask).astype(bool), -1),
                           inputs.shape)
    count = np.sum(keep, axis=axes, keepdims=True).astype(inputs.dtype) + backend.epsilon()
    mean = ops.sum(ops.where(keep, inputs, 0.0), axis=axes, keepdims=True) / count
    squared = ops.square(ops.where(keep, inputs - mean, 0.0))
    return mean, ops.sum(squared, axis=axes, keepdims=True) / count


def _clone(initializer):
    """A fresh copy (a new random seed) of an initializer object, as Keras does for renorm."""
    if isinstance(initializer, initializers.Initializer):
        return initializer.clone()
    return initializer


def _check_renorm_clipping(renorm_clipping):
    keys = ["rmax", "rmin", "dmax"]
    if set(renorm_clipping) - set(keys):
        raise ValueError(f"Received invalid keys for `renorm_clipping` argument: "
                         f"{renorm_clipping}. Supported values: {keys}.")
    rmax, rmin, dmax = (renorm_clipping.get(k) for k in keys)
    if rmax is not None and rmin is not None and rmax < rmin:
        raise ValueError(f"rmax should be greater than rmin in the `renorm_clipping` argument. "
                         f"Received: rmax={rmax}, rmin={rmin}.")
    if dmax is not None and dmax < 0:
        raise ValueError(f"dmax should be non-negative in the `renorm_clipping` argument. "
                         f"Received: dmax={dmax}.")
