"""Adagrad: per-weight rates shrinking with the summed squared gradients
(``keras.optimizers.Adagrad``)."""

import numpy as np

from minikeras import initializers
from minikeras.optimizers.optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad (epsilon inside the square root):

    a = a + g^2          (a starts at initial_accumulator_value)
    w = w - lr * g / sqrt(a + epsilon)

    Args:
        learning_rate: 0.001 by default (1.0 matches the paper).
        initial_accumulator_value: 0.1, the starting value of every accumulator.
        epsilon: 1e-7.
        **kwargs: the base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        initializer = initializers.Constant(self.initial_accumulator_value)
        self._accumulators = self.add_optimizer_variables(var_list, "accumulator",
                                                          initializer=initializer)

    def update_step(self, gradient, variable, learning_rate):
        w = variable.value
        lr = w.dtype.type(learning_rate)
        accumulator = self._accumulators[self._get_variable_index(variable)].value
        accumulator += np.square(gradient)
        w -= lr * gradient / np.sqrt(accumulator + self.epsilon)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
