"""RMSprop: divide by a moving root mean square of the gradients (``keras.optimizers.RMSprop``)."""

import numpy as np

from minikeras.optimizers.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop (epsilon *inside* the square root):

    v = rho * v + (1 - rho) * g^2
    centered:  a = rho * a + (1 - rho) * g;  den = v - a^2 + epsilon
    else:      den = v + epsilon
    inc = lr * g / sqrt(den)
    momentum > 0:  M = momentum * M + inc;  w = w - M
    else:          w = w - inc

    Args:
        learning_rate: 0.001 by default.
        rho: 0.9, the decay of the moving averages.
        momentum: 0.0 (no slot); plain, not Nesterov, momentum.
        epsilon: 1e-7.
        centered: divide by an estimate of the variance instead of the second moment.
        **kwargs: the base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")

    def update_step(self, gradient, variable, learning_rate):
        w = variable.value
        lr = w.dtype.type(learning_rate)
        index = self._get_variable_index(variable)
        rho = self.rho

        velocity = self._velocities[index].value
        velocity *= rho
        velocity += (1 - rho) * np.square(gradient)
        if self.centered:
            average_grad = self._average_gradients[index].value
            average_grad *= rho
            average_grad += (1 - rho) * gradient
            denominator = velocity - np.square(average_grad) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = lr * gradient / np.sqrt(denominator)
        if self.momentum > 0:
            momentum = self._momentums[index].value
            momentum *= self.momentum
            momentum += increment
            w -= momentum
        else:
            w -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
