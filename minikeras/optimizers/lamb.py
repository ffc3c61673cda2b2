"""Lamb: Adam with a layer-wise trust ratio (``keras.optimizers.Lamb``)."""

import numpy as np

from minikeras.optimizers.optimizer import Optimizer


class Lamb(Optimizer):
    """Lamb (You et al., 2019, "Large Batch Optimization for Deep Learning"; t = iterations + 1,
    m and v start at 0):

    m = m + (g - m) * (1 - beta_1);   v = v + (g^2 - v) * (1 - beta_2)       (Adam's moments)
    update = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)
    ratio = ||w|| / ||update||   (1 when either norm is 0; ||.|| the L2 norm of the whole variable)
    w = w - ratio * lr * update

    The trust ratio gives every variable (a "layer" in the paper) a step of lr * ||w||, whatever
    the size of its gradients. Unlike Keras's Adam, epsilon is added to the bias-corrected
    sqrt(v_hat) (the textbook form), and there is no amsgrad.

    Args:
        learning_rate: 0.001 by default.
        beta_1, beta_2: decay rates of the first and second moments (0.9, 0.999).
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
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])

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

        update, a = self._scratch(w, 2)  # the same arithmetic as the formulas, written in place
        np.subtract(gradient, m, out=a)          # m += (g - m) * (1 - beta_1)
        a *= 1 - self.beta_1
        m += a
        np.square(gradient, out=a)               # v += (g^2 - v) * (1 - beta_2)
        a -= v
        a *= 1 - self.beta_2
        v += a
        np.divide(m, 1 - beta_1_power, out=update)  # update = m_hat / (sqrt(v_hat) + epsilon)
        np.divide(v, 1 - beta_2_power, out=a)
        np.sqrt(a, out=a)
        a += self.epsilon
        update /= a

        w_norm = np.sqrt(np.sum(np.square(w)))
        g_norm = np.sqrt(np.sum(np.square(update)))
        ratio = w_norm / g_norm if w_norm > 0 and g_norm > 0 else dtype(1)
        update *= ratio * lr                     # w -= ratio * lr * update
        w -= update

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
