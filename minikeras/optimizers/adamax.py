"""Adamax: Adam with the infinity norm (``keras.optimizers.Adamax``)."""

import numpy as np

from minikeras.optimizers.optimizer import Optimizer


class Adamax(Optimizer):
    """Adamax (t = iterations + 1; m and u start at 0):

    m = m + (g - m) * (1 - beta_1)
    u = max(beta_2 * u, |g|)
    w = w - lr * m / ((1 - beta_1^t) * (u + epsilon))

    Args:
        learning_rate: 0.001 by default.
        beta_1, beta_2: 0.9 and 0.999.
        epsilon: 1e-7.
        **kwargs: the base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate):
        w = variable.value
        dtype = w.dtype.type
        lr = dtype(learning_rate)
        beta_1_power = dtype(self.beta_1) ** dtype(int(self.iterations) + 1)
        index = self._get_variable_index(variable)
        m = self._m[index].value
        u = self._u[index].value

        m += (gradient - m) * (1 - self.beta_1)
        np.maximum(self.beta_2 * u, np.abs(gradient), out=u)
        w -= lr * m / ((1 - beta_1_power) * (u + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
