"""Nadam: Adam with Nesterov momentum (``keras.optimizers.Nadam``)."""

import numpy as np

from minikeras import backend
from minikeras.optimizers.optimizer import Optimizer
from minikeras.variables import Variable


class Nadam(Optimizer):
    """Nadam with Dozat's momentum schedule (t = iterations + 1):

    mu_t = beta_1 * (1 - 0.5 * 0.96^t);   mu_t1 = beta_1 * (1 - 0.5 * 0.96^(t+1))
    P = P * mu_t   (once per step, before the variables; P = ``u_product``, starts at 1)
    m = m + (g - m) * (1 - beta_1);       v = v + (g^2 - v) * (1 - beta_2)
    m_hat = mu_t1 * m / (1 - P * mu_t1) + (1 - mu_t) * g / (1 - P)
    v_hat = v / (1 - beta_2^t)
    w = w - lr * m_hat / (sqrt(v_hat) + epsilon)

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
        dtype = var_list[0].dtype if var_list else backend.floatx()
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        # Keras creates the product unnamed, as a plain Variable: its path is "nadam/variable".
        self._u_product = self._track_variable(Variable(1.0, dtype=dtype))

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        u_product = self._u_product.value
        dtype = u_product.dtype.type
        decay_power = dtype(0.96) ** dtype(int(self.iterations) + 1)
        u_product[...] = u_product * self.beta_1 * (1.0 - 0.5 * decay_power)
        super()._backend_update_step(grads, trainable_variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        w = variable.value
        dtype = w.dtype.type
        lr = dtype(learning_rate)
        local_step = dtype(int(self.iterations) + 1)
        next_step = local_step + 1
        decay = dtype(0.96)
        beta_1 = dtype(self.beta_1)
        beta_2 = dtype(self.beta_2)
        u_t = beta_1 * (1.0 - 0.5 * decay**local_step)
        u_t_1 = beta_1 * (1.0 - 0.5 * decay**next_step)
        u_product_t = dtype(self._u_product.value)
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = beta_2**local_step
        index = self._get_variable_index(variable)
        m = self._momentums[index].value
        v = self._velocities[index].value

        m += (gradient - m) * (1 - beta_1)
        v += (np.square(gradient) - v) * (1 - beta_2)
        m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * gradient / (1 - u_product_t)
        v_hat = v / (1 - beta_2_power)
        w -= m_hat * lr / (np.sqrt(v_hat) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
