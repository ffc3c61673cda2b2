"""Learning-rate schedules (``keras.optimizers.schedules``): the learning rate as a function of the
step.

``SGD(learning_rate=ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))`` updates with the rates
0.1, 0.05, 0.025, ...: the optimizer evaluates ``schedule(iterations)`` *before* incrementing, so
update k (k = 1, 2, ...) uses ``schedule(k - 1)``.

``schedule(step)`` returns a Python float, computed in float32 (floatx) like Keras does. The
rounding matters at the restarts of ``CosineDecayRestarts``: there ``log(x) / log(t_mul)`` lands on
an integer in float32 where float64 would give 4.9999999 (a whole cycle apart).
"""

import math

import numpy as np

from minikeras import backend
from minikeras.saving import serialization


def _floatx(value):
    """``value`` (a number, an array or a Variable) as a NumPy scalar of floatx."""
    return np.asarray(value, dtype=backend.floatx())[()]


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override "
            f"`__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `get_config()` in "
            f"order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_decay_steps(name, value):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class ExponentialDecay(LearningRateSchedule):
    """``lr0 * decay_rate ** (step / decay_steps)``; ``staircase`` floors the exponent."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps("decay_steps", decay_steps)

    def __call__(self, step):
        p = _floatx(step) / _floatx(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return float(_floatx(self.initial_learning_rate) * _floatx(self.decay_rate) ** p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` if step <= b0, ``values[i]`` if b(i-1) < step <= b(i), ``values[-1]`` after
    the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = np.asarray(step)
        # As in Keras, the boundaries are cast to the step's type (an int step truncates 1.5 to 1).
        boundaries = np.asarray(self.boundaries).astype(step.dtype)
        index = np.searchsorted(boundaries, step, side="left")  # first i with step <= b(i)
        return float(_floatx(self.values[index]))

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(lr0 - end) * (1 - s / decay_steps) ** power + end``, with s = min(step, decay_steps).

    With ``cycle=True`` the step is not capped; decay_steps is multiplied by
    ``ceil(step / decay_steps)`` (1 at step 0), so the decay restarts from higher values.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _check_decay_steps("decay_steps", decay_steps)

    def __call__(self, step):
        initial_learning_rate = _floatx(self.initial_learning_rate)
        end_learning_rate = _floatx(self.end_learning_rate)
        step = _floatx(step)
        decay_steps = _floatx(self.decay_steps)
        if self.cycle:
            multiplier = _floatx(1.0) if step == 0 else np.ceil(step / self.decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = np.minimum(step, decay_steps)
        p = step / decay_steps
        return float((initial_learning_rate - end_learning_rate) * (1 - p) ** _floatx(self.power)
                     + end_learning_rate)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``lr0 / (1 + decay_rate * step / decay_steps)``; ``staircase`` floors step/decay_steps."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps("decay_steps", decay_steps)

    def __call__(self, step):
        p = _floatx(step) / _floatx(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return float(_floatx(self.initial_learning_rate) / (1 + _floatx(self.decay_rate) * p))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """``lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)``,
    s = min(step, decay_steps).

    With ``warmup_target``: first a linear ramp from lr0 to warmup_target over ``warmup_steps``,
    then the cosine decay from warmup_target, with s = step - warmup_steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _check_decay_steps("decay_steps", decay_steps)

    def _decay_function(self, step, decay_steps, decay_from_lr):
        cosine_decayed = 0.5 * (1.0 + np.cos(_floatx(math.pi) * (step / decay_steps)))
        return decay_from_lr * ((1 - self.alpha) * cosine_decayed + self.alpha)

    def __call__(self, step):
        initial_learning_rate = _floatx(self.initial_learning_rate)
        decay_steps = _floatx(self.decay_steps)
        step = _floatx(step)
        if self.warmup_target is None:
            step = np.minimum(step, decay_steps)
            return float(self._decay_function(step, decay_steps, initial_learning_rate))
        warmup_target = _floatx(self.warmup_target)
        warmup_steps = _floatx(self.warmup_steps)
        step = np.minimum(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            ramp = (warmup_target - initial_learning_rate) * (step / warmup_steps)
            return float(ramp + initial_learning_rate)
        return float(self._decay_function(step - warmup_steps, decay_steps, warmup_target))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): cycles of cosine decay, each ``t_mul`` times longer
    and starting ``m_mul`` times lower than the previous one.

    f = step / first_decay_steps
    cycle:      i = floor(log(1 - f * (1 - t_mul)) / log(t_mul))     (floor(f) if t_mul == 1)
    done in i:  c = (f - (1 - t_mul^i) / (1 - t_mul)) / t_mul^i
    lr = lr0 * ((1 - alpha) * 0.5 * m_mul^i * (1 + cos(pi c)) + alpha).
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name
        _check_decay_steps("first_decay_steps", first_decay_steps)

    def __call__(self, step):
        alpha = _floatx(self.alpha)
        t_mul = _floatx(self.t_mul)
        completed_fraction = _floatx(step) / _floatx(self.first_decay_steps)
        if t_mul == 1.0:
            i_restart = np.floor(completed_fraction)
            completed_fraction = completed_fraction - i_restart
        else:
            i_restart = np.floor(np.log(1.0 - completed_fraction * (1.0 - t_mul)) / np.log(t_mul))
            sum_r = (1.0 - t_mul**i_restart) / (1.0 - t_mul)
            completed_fraction = (completed_fraction - sum_r) / t_mul**i_restart
        m_fac = _floatx(self.m_mul) ** i_restart
        cosine_decayed = 0.5 * m_fac * (1.0 + np.cos(_floatx(math.pi) * completed_fraction))
        return float(_floatx(self.initial_learning_rate) * ((1 - alpha) * cosine_decayed + alpha))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


ALL_OBJECTS_DICT = {cls.__name__: cls for cls in (
    ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay,
    CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """Keras's dict: ``{"module": "keras.optimizers.schedules", "class_name": ..., "config": ...,
    "registered_name": None}``; a class registered with ``register_keras_serializable`` keeps its
    module and ``"package>Name"``."""
    return serialization.serialize_keras_object(learning_rate_schedule)


def deserialize(config, custom_objects=None):
    """A schedule from ``serialize``'s dict (built-in, registered or in ``custom_objects``)."""
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT)
