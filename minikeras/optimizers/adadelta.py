"""Adadelta: steps scaled by the ratio of two moving RMS (``keras.optimizers.Adadelta``)."""

import numpy as np

from minikeras.optimizers.optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta (rms(x) = sqrt(x + epsilon); both accumulators start at 0):

    A_g = rho * A_g + (1 - rho) * g^2
    delta = -rms(A_delta) * g / rms(A_g)
    A_delta = rho * A_delta + (1 - rho) * delta^2
    w = w + lr * delta

    Args:
        learning_rate: 0.001 by default (1.0 matches the paper, which has no learning rate).
        rho: 0.95, the decay rate.
        epsilon: 1e-7.
        **kwargs: the base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"])

    def update_step(self, grad, variable, learning_rate):
        w = variable.value
        lr = w.dtype.type(learning_rate)
        index = self._get_variable_index(variable)
        accumulated_grad = self._accumulated_grads[index].value
        accumulated_delta_var = self._accumulated_delta_vars[index].value
        rho = self.rho

        accumulated_grad *= rho
        accumulated_grad += (1 - rho) * np.square(grad)
        delta_var = -(np.sqrt(accumulated_delta_var + self.epsilon) * grad
                      / np.sqrt(accumulated_grad + self.epsilon))
        accumulated_delta_var *= rho
        accumulated_delta_var += (1 - rho) * np.square(delta_var)
        w += lr * delta_var

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
