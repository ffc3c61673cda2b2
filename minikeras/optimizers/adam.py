"""Adam: adaptive moment estimation (``keras.optimizers.Adam``)."""

import numpy as np

from minikeras.optimizers.optimizer import Optimizer


class Adam(Optimizer):
    """Adam, in Keras's "epsilon hat" form (t = iterations + 1, m and v start at 0):

    m = m + (g - m) * (1 - beta_1);   v = v + (g^2 - v) * (1 - beta_2)
    alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    w = w - alpha * m / (sqrt(v) + epsilon)

    The textbook form ``w -= lr * m_hat / (sqrt(v_hat) + eps)``, with m_hat = m / (1 - beta_1^t)
    and v_hat = v / (1 - beta_2^t), is the same update with eps = epsilon / sqrt(1 - beta_2^t):
    Keras's epsilon sits on the *uncorrected* sqrt(v).
    ``amsgrad=True`` divides by the running maximum v_hat = max(v_hat, v) instead of v.

    Args:
        learning_rate: 0.001 by default.
        beta_1, beta_2: decay rates of the first and second moments (0.9, 0.999).
        epsilon: 1e-7.
        amsgrad: use the AMSGrad variant.
        **kwargs: the base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate):
        w = variable.value
        dtype = w.dtype.type
        lr = dtype(learning_rate)
        local_step = dtype(int(self.iterations) + 1)
        beta_1_power = dtype(self.beta_1) ** local_step
        beta_2_power = dtype(self.beta_2) ** local_step
        index = self._get_variable_index(variable)
        m = self._momentums[index].value
        v = self._velocities[index].value

        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        a, b = self._scratch(w, 2)  # the same arithmetic as the formulas, written in place
        np.subtract(gradient, m, out=a)          # m += (g - m) * (1 - beta_1)
        a *= 1 - self.beta_1
        m += a
        np.square(gradient, out=a)               # v += (g^2 - v) * (1 - beta_2)
        a -= v
        a *= 1 - self.beta_2
        v += a
        if self.amsgrad:
            v_hat = self._velocity_hats[index].value
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        np.multiply(m, alpha, out=a)             # w -= m * alpha / (sqrt(v) + epsilon)
        np.sqrt(v, out=b)
        b += self.epsilon
        a /= b
        w -= a

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}
