"""LossScaleOptimizer: dynamic loss scaling around another optimizer
(``keras.optimizers.LossScaleOptimizer``)."""

import numpy as np

from minikeras import ops
from minikeras.optimizers.optimizer import Optimizer, _as_gradient_array
from minikeras.quiet import quietly
from minikeras.saving import serialization

# Base arguments Keras's LossScaleOptimizer accepted once (old configs carry them): only their
# default values are allowed, and they do nothing.
_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                  "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                  "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


class LossScaleOptimizer(Optimizer):
    """Wraps ``inner_optimizer`` and scales the loss so that small float16 gradients do not
    underflow to 0 (s = ``dynamic_scale``, starting at ``initial_scale``):

    scale_loss(loss) = loss * s                 (the trainer differentiates this scaled loss)
    if every gradient is finite:
        inner_optimizer.apply(g / s)            (the true gradients again)
        if step_counter == dynamic_growth_steps - 1:  step_counter = 0;  s = 2 * s
        else:                                         step_counter += 1
    else (an inf or NaN anywhere):
        skip the step (the inner optimizer and its ``iterations`` are untouched)
        step_counter = 0;  s = s / 2

    So the scale halves at each overflow and doubles after ``dynamic_growth_steps`` finite
    steps in a row. With a power-of-two scale, multiplying and dividing by s is exact.

    ``variables`` = its own [iteration (stays 0), learning_rate (0.0, unused), step_counter
    (int64), dynamic_scale (float32)] followed by all of the inner optimizer's variables.
    ``iterations`` and ``learning_rate`` are the inner optimizer's.

    Args:
        inner_optimizer: the ``Optimizer`` to wrap (its ``loss_scale_factor`` is set to None).
        initial_scale: the first loss scale; 2**15.
        dynamic_growth_steps: double the scale after this many finite steps; 2000.
        name: defaults to ``'loss_scale_optimizer'`` made unique.
    """

    def __init__(self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`.")
        for arg_name, default_value in _BASE_DEFAULTS.items():
            if arg_name not in kwargs:
                continue
            arg_value = kwargs.pop(arg_name)
            if (default_value is None and arg_value is not None) or arg_value != default_value:
                raise ValueError(f"LossScaleOptimizer does not support `{arg_name}`. Instead, "
                                 f"set `{arg_name}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError("LossScaleOptimizer does not support arguments: "
                             f"`{'`, `'.join(kwargs.keys())}`.")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None  # else the gradients are unscaled twice

    def build(self, var_list):
        if self.built:  # (Keras would add a second set of variables)
            return
        self.step_counter = self.add_variable((), "zeros", "int64", "step_counter")
        self.dynamic_scale = self.add_variable((), np.float32(self.initial_scale), "float32",
                                               "dynamic_scale")
        inner = self.inner_optimizer
        n_before = len(inner._variables)
        inner.build(var_list)
        for variable in inner._variables[n_before:]:  # Keras builds them in its name scope:
            variable.path = f"{self.name}/{variable.path}"  # 'loss_scale_optimizer/adam/...'
        super().build(var_list)

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    @quietly
    def apply(self, grads, trainable_variables=None):
        """Unscale and apply the gradients if all are finite, else skip; then adjust the scale."""
        if not self.built:
            self.build(trainable_variables)
        if self.check_finite(grads):
            scale = self.dynamic_scale.value
            variables = trainable_variables or self._trainable_variables
            unscaled = [None if g is None else _unscale(g, v, scale)
                        for g, v in zip(grads, variables, strict=True)]
            self.inner_optimizer.apply(unscaled, trainable_variables=trainable_variables)
            if int(self.step_counter.value) == self.dynamic_growth_steps - 1:
                self.step_counter.assign(0)
                self.dynamic_scale.assign(self.dynamic_scale.value * np.float32(2.0))
            else:
                self.step_counter.assign_add(1)
        else:
            self.step_counter.assign(0)
            self.dynamic_scale.assign(self.dynamic_scale.value * np.float32(0.5))

    def check_finite(self, grads):
        """True when no gradient holds an inf or a NaN (``None`` gradients are ignored)."""
        return all(bool(np.all(np.isfinite(_array(g)))) for g in grads if g is not None)

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def scale_loss(self, loss):
        """``loss * dynamic_scale`` (``initial_scale`` before the first step)."""
        scale = self.dynamic_scale.value if self.built else self.initial_scale
        return ops.multiply(loss, scale)

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        return {"name": self.name,
                "inner_optimizer": serialization.serialize_keras_object(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner_optimizer = serialization.deserialize_keras_object(
            config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner_optimizer, **config)


def _array(gradient):
    return gradient._value if hasattr(gradient, "_value") else np.asarray(gradient)


def _unscale(gradient, variable, scale):
    """``g / scale`` in the variable's dtype (a variable overwritten by its gradient keeps it)."""
    if getattr(variable, "overwrite_with_gradient", False):
        return gradient
    g = _as_gradient_array(gradient, variable)
    return g / g.dtype.type(scale)
