"""Adafactor: factored second moments, relative step sizes (``keras.optimizers.Adafactor``)."""

import numpy as np

from minikeras.optimizers.optimizer import Optimizer


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018, "Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost"), as Keras writes it (t = iterations + 1; r, c and v start at 0):

    rho = min(lr, 1 / sqrt(t));   alpha = max(epsilon_2, rms(w)) * rho    (rms = sqrt(mean(x^2)))
    beta_2_t = 1 - t^beta_2_decay                  (0 at t = 1: the first step keeps no history)
    G = g^2 + epsilon_1
    2-D and higher (the last two axes factored):
        r = beta_2_t * r + (1 - beta_2_t) * mean(G, axis=-1)     (one value per row)
        c = beta_2_t * c + (1 - beta_2_t) * mean(G, axis=-2)     (one value per column)
        v = (r / mean(r)) outer c                                (mean(r) over its last axis)
    1-D (not factored):
        v = beta_2_t * v + (1 - beta_2_t) * G
    u = g / sqrt(v);   u_hat = u / max(1, rms(u) / clip_threshold)
    w = w - alpha * u_hat

    The step is relative to the size of the weights (alpha), and ``clip_threshold`` clips the
    update's RMS, apart from ``clipnorm``/``clipvalue``. The paper keeps only r and c for a
    matrix; Keras 3.15 also keeps the full ``velocity`` v (a slot shaped like the weight), and
    for each 1-D weight two unused int32 scalars named like the weight (``adafactor/bias``), all
    listed in ``variables`` and saved in files. ``relative_step=True`` applies
    ``lr = min(lr, 1/sqrt(t))`` to a constant learning rate, a no-op since rho takes that
    minimum anyway: in Keras 3.15 ``relative_step`` changes nothing.

    Args:
        learning_rate: 0.001 by default.
        beta_2_decay: the exponent of t in beta_2_t; -0.8.
        epsilon_1: added to g^2; 1e-30.
        epsilon_2: the smallest weight RMS used for alpha; 1e-3.
        clip_threshold: the largest RMS of the update u_hat; 1.0.
        relative_step: see above; True.
        **kwargs: the base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        """Per variable, in Keras's order: r, c (named like the variable: ``adafactor/kernel``;
        placeholder int32 scalars for a 1-D variable), then ``..._velocity``."""
        if self.built:
            return
        super().build(var_list)
        self._r, self._c, self._v = [], [], []
        for var in var_list:
            if len(var.shape) < 2:
                self._r.append(self.add_variable((), dtype="int32", name=var.name))
                self._c.append(self.add_variable((), dtype="int32", name=var.name))
            else:
                self._r.append(self.add_variable(var.shape[:-1], dtype=var.dtype, name=var.name))
                self._c.append(self.add_variable(var.shape[:-2] + var.shape[-1:],
                                                 dtype=var.dtype, name=var.name))
            self._v.append(self.add_variable_from_reference(var, "velocity"))

    def update_step(self, gradient, variable, learning_rate):
        w = variable.value
        dtype = w.dtype.type
        lr = dtype(learning_rate)
        local_step = dtype(int(self.iterations) + 1)
        index = self._get_variable_index(variable)
        v = self._v[index].value

        rho = min(lr, dtype(1) / np.sqrt(local_step))
        alpha = max(dtype(self.epsilon_2), _rms(w)) * rho
        beta_2_t = dtype(1) - local_step ** dtype(self.beta_2_decay)

        grad_square, u = self._scratch(w, 2)  # G = g^2 + epsilon_1, in place
        np.square(gradient, out=grad_square)
        grad_square += self.epsilon_1
        if w.ndim >= 2:
            r, c = self._r[index].value, self._c[index].value
            r *= beta_2_t                                        # r = b * r + (1 - b) * mean(G, -1)
            r += (1 - beta_2_t) * np.mean(grad_square, axis=-1)
            c *= beta_2_t                                        # c = b * c + (1 - b) * mean(G, -2)
            c += (1 - beta_2_t) * np.mean(grad_square, axis=-2)
            row_factor = r / np.mean(r, axis=-1, keepdims=True)  # v = (r / mean(r)) outer c
            np.multiply(row_factor[..., None], c[..., None, :], out=v)
        else:
            v *= beta_2_t                                        # v = b * v + (1 - b) * G
            grad_square *= 1 - beta_2_t
            v += grad_square

        np.sqrt(v, out=u)                                        # u = g / sqrt(v)
        np.divide(gradient, u, out=u)
        u /= max(dtype(1), _rms(u) / dtype(self.clip_threshold))  # u_hat
        u *= alpha                                               # w -= alpha * u_hat
        w -= u

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}


def _rms(x):
    """The root mean square of all the elements: sqrt(mean(x^2))."""
    return np.sqrt(np.mean(np.square(x)))
