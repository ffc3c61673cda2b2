"""FTRL: Follow The Regularized Leader (``keras.optimizers.Ftrl``)."""

import numpy as np

from minikeras import initializers
from minikeras.optimizers.optimizer import Optimizer


class Ftrl(Optimizer):
    """FTRL-Proximal (McMahan et al. 2013), as Keras writes it (p = learning_rate_power):

    l2 = l2_regularization_strength + beta / (2 lr);  g' = g + 2 * l2_shrinkage * w
    n' = n + g^2      (n starts at initial_accumulator_value, z at 0)
    z = z + g' - (n'^(-p) - n^(-p)) / lr * w
    w = (clip(z, -l1, l1) - z) / (n'^(-p) / lr + 2 * l2);   n = n'

    (|z| <= l1 gives w = 0: the L1 strength makes weights exactly sparse.)

    Args:
        learning_rate: 0.001 by default.
        learning_rate_power: -0.5, must be <= 0 (0: a fixed learning rate).
        initial_accumulator_value: 0.1, >= 0.
        l1_regularization_strength, l2_regularization_strength: 0.0, >= 0.
        l2_shrinkage_regularization_strength: 0.0, >= 0 (an L2 penalty on the loss).
        beta: 0.0, the beta of the paper.
        **kwargs: the base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if initial_accumulator_value < 0.0:
            raise ValueError("`initial_accumulator_value` needs to be positive or zero. "
                             f"Received: initial_accumulator_value={initial_accumulator_value}.")
        if learning_rate_power > 0.0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        for arg, value in [("l1_regularization_strength", l1_regularization_strength),
                           ("l2_regularization_strength", l2_regularization_strength),
                           ("l2_shrinkage_regularization_strength",
                            l2_shrinkage_regularization_strength)]:
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be positive or zero. Received: "
                                 f"{arg}={value}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        accumulator_initializer = initializers.Constant(self.initial_accumulator_value)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list, ["accumulator", "linear"], initializer=[accumulator_initializer, "zeros"])

    def update_step(self, gradient, variable, learning_rate):
        w = variable.value
        lr = w.dtype.type(learning_rate)
        index = self._get_variable_index(variable)
        accum = self._accumulators[index].value
        linear = self._linears[index].value
        lr_power = self.learning_rate_power
        l1_reg = self.l1_regularization_strength
        l2_reg = self.l2_regularization_strength + self.beta / (2.0 * lr)

        grad_to_use = gradient + 2 * self.l2_shrinkage_regularization_strength * w
        new_accum = accum + np.square(gradient)
        linear += grad_to_use - (new_accum ** -lr_power - accum ** -lr_power) / lr * w
        quadratic = new_accum ** -lr_power / lr + 2 * l2_reg
        w[...] = (np.clip(linear, -l1_reg, l1_reg) - linear) / quadratic
        accum[...] = new_accum

    def get_config(self):
        return {**super().get_config(),
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
