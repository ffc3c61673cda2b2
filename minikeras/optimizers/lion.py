"""Lion: evolved sign momentum (``keras.optimizers.Lion``)."""

import numpy as np

from minikeras.optimizers.optimizer import Optimizer


class Lion(Optimizer):
    """Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"; m starts at 0):

    c = beta_1 * m + (1 - beta_1) * g      (the update's direction: an interpolation)
    w = w - lr * sign(c)                   (every element moves by exactly lr, or 0)
    m = beta_2 * m + (1 - beta_2) * g      (the momentum, with the other rate)

    Only one slot (``momentum``), as in SGD with momentum; the sign makes every step as large as
    lr, so Lion's learning rate is usually 3-10x smaller than AdamW's (and its weight decay that
    much larger). Keras computes ``1 - beta`` in float32: ``1 - float32(0.9)``.

    Args:
        learning_rate: 0.001 by default.
        beta_1: the interpolation rate of the update direction, in (0, 1]; 0.9.
        beta_2: the decay rate of the momentum; 0.99.
        **kwargs: the base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:  # Keras's message ("[0, 1]" though 0 is refused too)
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}.")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        w = variable.value
        dtype = w.dtype.type
        lr = dtype(learning_rate)
        beta_1, beta_2 = dtype(self.beta_1), dtype(self.beta_2)
        m = self._momentums[self._get_variable_index(variable)].value

        c, a = self._scratch(w, 2)  # the same arithmetic as the formulas, written in place
        np.multiply(m, beta_1, out=c)            # c = m * beta_1 + g * (1 - beta_1)
        np.multiply(gradient, 1 - beta_1, out=a)
        c += a
        np.sign(c, out=c)                        # w -= lr * sign(c)
        c *= lr
        w -= c
        m *= beta_2                              # m = m * beta_2 + g * (1 - beta_2)
        np.multiply(gradient, 1 - beta_2, out=a)
        m += a

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
