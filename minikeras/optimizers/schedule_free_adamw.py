"""ScheduleFreeAdamW: AdamW that needs no learning-rate schedule
(``keras.optimizers.ScheduleFreeAdamW``)."""

import numpy as np

from minikeras.optimizers.optimizer import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """Schedule-Free AdamW (Defazio et al., 2024, "The Road Less Scheduled"), as Keras writes it.

    Two sequences replace the schedule: z (the slot ``momentum``, which starts as a copy of the
    weights and takes the gradient steps) and x, the running average of the z's; the weights
    hold y, an interpolation between them, and x is recovered from y. With t = iterations + 1:

    lr_t = lr * min(t / warmup_steps, 1)          (only when warmup_steps > 0)
    v = v + (g^2 - v) * (1 - beta_2)              (Adam's second moment, slot ``velocity``)
    z = z - lr_t * g / (sqrt(v / (1 - beta_2^t)) + epsilon)
    x = (y - (1 - beta_1) * z) / beta_1           (x recovered from y, with the *new* z)
    x = (1 - 1/t) * x + (1/t) * z                 (x averages the z's uniformly)
    y = (1 - beta_1) * z + beta_1 * x             (the new weights)

    The paper recovers the old x from the old z: x = (y - (1 - beta_1) * z_old) / beta_1. Keras
    means to (it keeps ``momentum_old = momentum.value``), but with TensorFlow that value is the
    variable itself, read after ``assign_sub``: so Keras 3.15 on TensorFlow uses the new z, and
    minikeras does the same (measured: the old z differs from Keras from the second step on).
    There is no first moment: beta_1 is the interpolation weight. Weight decay (the base
    ``weight_decay``, None by default) decays y before the step, as for the other optimizers.
    Keras evaluates with y, the training weights (it does not swap x in for evaluation).

    Args:
        learning_rate: 0.0025 by default.
        beta_1: the interpolation between z and x; 0.9.
        beta_2: the decay rate of the second moment; 0.999.
        epsilon: 1e-8, added to the bias-corrected sqrt(v).
        warmup_steps: the learning rate rises linearly over that many steps; 0.
        **kwargs: the base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        for z, variable in zip(self._momentums, var_list, strict=True):
            z.assign(variable.value)  # z starts at the weights

    def update_step(self, gradient, variable, learning_rate):
        y = variable.value
        dtype = y.dtype.type
        lr = dtype(learning_rate)
        local_step = dtype(int(self.iterations) + 1)
        beta_1, beta_2 = dtype(self.beta_1), dtype(self.beta_2)
        if self.warmup_steps > 0:
            lr = lr * np.minimum(local_step / dtype(self.warmup_steps), dtype(1.0))
        index = self._get_variable_index(variable)
        z = self._momentums[index].value
        v = self._velocities[index].value

        bias_correction_2 = 1 - beta_2 ** local_step
        v += (np.square(gradient) - v) * (1 - beta_2)
        denom = np.sqrt(v / bias_correction_2) + dtype(self.epsilon)
        z -= lr * gradient / denom
        weight = dtype(1.0) / local_step
        x = (y - (1 - beta_1) * z) / beta_1      # the new z, as Keras on TensorFlow
        x = (1 - weight) * x + weight * z
        y[...] = (1 - beta_1) * z + beta_1 * x

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "warmup_steps": self.warmup_steps}
