"""Muon: momentum orthogonalized by Newton-Schulz (``keras.optimizers.Muon``)."""

import re

import numpy as np

from minikeras.optimizers.optimizer import Optimizer


class Muon(Optimizer):
    """Muon (Keller Jordan, 2024; with the update scaling of Liu et al., 2025, "Muon is Scalable
    for LLM Training") for 2-D weights, AdamW for the others.

    Muon step, for a 2-D weight W of shape (n, m) (m starts at 0):

    m = momentum * m + g
    G = g + momentum * m   if nesterov, else  G = m
    O = NS5(G)             (about U V^T from G = U S V^T: every singular value pushed near 1)
    W = W - lr * O * sqrt(max(n, m)) * rms_rate       (no scaling when rms_rate is None)

    NS5 is Newton-Schulz with the quintic (a, b, c) = (muon_a, muon_b, muon_c): transpose X = G
    if it is tall, X = X / (||X||_F + 1e-7), then ``ns_steps`` times
    A = X X^T;  B = b A + c A A;  X = a X + B X;   and transpose back.

    AdamW step (Keras's Adam with epsilon on the uncorrected sqrt(v), slots m and v), with
    lr_adam = lr * adam_lr_ratio, for the variables that are not 2-D, whose path contains
    "embedding" (when ``exclude_embeddings``), or whose path matches a regular expression of
    ``exclude_layers``:

    m = m + (g - m)(1 - adam_beta_1);  v = v + (g^2 - v)(1 - adam_beta_2)
    W = W - lr_adam * sqrt(1 - adam_beta_2^t) / (1 - adam_beta_1^t) * m / (sqrt(v) + epsilon)

    Weight decay, before the step and at the base learning rate: W = W - W * wd * lr, with
    wd = ``weight_decay`` for the Muon variables and ``adam_weight_decay`` for the AdamW ones.

    Slots, per variable in order: ``momentum``, then ``velocity`` for the AdamW variables only.

    Args:
        learning_rate: 0.001 by default.
        adam_beta_1, adam_beta_2: Adam's decay rates (0.9, 0.999).
        adam_weight_decay: weight decay of the AdamW variables; 0.004.
        epsilon: Adam's epsilon; 1e-7.
        weight_decay: weight decay of the Muon variables; 0.004.
        exclude_layers: regular expressions; matching variable paths use AdamW.
        exclude_embeddings: variables with "embedding" in their path use AdamW; True.
        muon_a, muon_b, muon_c: the Newton-Schulz coefficients (3.4445, -4.7750, 2.0315).
        adam_lr_ratio: lr_adam / lr; 1.
        momentum: Muon's momentum; 0.95.
        ns_steps: Newton-Schulz iterations; 5.
        nesterov: use the Nesterov form; True.
        rms_rate: the update scale factor (Liu et al.); 0.2, or None for none.
        **kwargs: the base arguments of ``Optimizer`` (clipnorm, name, ...).
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004, exclude_layers=None,
                 exclude_embeddings=True, muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315,
                 adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True, rms_rate=0.2,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable):
        if len(variable.shape) != 2:
            return True
        if self.exclude_embeddings and "embedding" in variable.path.lower():
            return True
        return any(re.search(keyword, variable.path) for keyword in self.exclude_layers)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.momentums = [None] * len(var_list)
        self.adam_velocities = [None] * len(var_list)
        for variable in var_list:
            if getattr(variable, "overwrite_with_gradient", False):
                continue
            index = self._get_variable_index(variable)
            self.momentums[index] = self.add_variable_from_reference(variable, "momentum")
            if self._should_use_adamw(variable):
                self.adam_velocities[index] = self.add_variable_from_reference(variable,
                                                                               "velocity")

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        m, v = self.momentums[index], self.adam_velocities[index]
        if v is not None:  # a velocity slot marks an AdamW variable
            self._adamw_update_step(gradient, variable, learning_rate * self.adam_lr_ratio,
                                    m.value, v.value)
        else:
            self._muon_update_step(gradient, variable, learning_rate, m.value)

    def _muon_update_step(self, gradient, variable, lr, m):
        w = variable.value
        dtype = w.dtype.type
        m += gradient + m * dtype(self.momentum - 1)    # m = momentum * m + g
        g = gradient + dtype(self.momentum) * m if self.nesterov else m
        update = self.zeropower_via_newtonschulz5(g, self.ns_steps)
        w -= self.lr_adjust(dtype(lr) * update)

    def _adamw_update_step(self, gradient, variable, learning_rate, m, v):
        w = variable.value
        dtype = w.dtype.type
        lr = dtype(learning_rate)
        local_step = dtype(int(self.iterations) + 1)
        alpha = (lr * np.sqrt(1 - dtype(self.adam_beta_2) ** local_step)
                 / (1 - dtype(self.adam_beta_1) ** local_step))
        m += (gradient - m) * dtype(1 - self.adam_beta_1)
        v += (np.square(gradient) - v) * dtype(1 - self.adam_beta_2)
        w -= m * alpha / (np.sqrt(v) + dtype(self.epsilon))

    def lr_adjust(self, x):
        """``x * sqrt(max(n, m)) * rms_rate`` for an (n, m) update (Moonlight's scaling)."""
        if self.rms_rate is None:
            return x
        dtype = x.dtype.type
        return x * np.sqrt(dtype(max(x.shape[0], x.shape[1]))) * dtype(self.rms_rate)

    def zeropower_via_newtonschulz5(self, x, steps):
        """The quintic Newton-Schulz iteration: ~ U V^T for x = U S V^T (last two axes)."""
        shape = np.shape(x)
        if len(shape) < 2:
            raise ValueError("Expected gradient or momentum to have at least 2 dimensions. "
                             f"Received: shape={shape}")
        dtype = x.dtype.type
        a, b, c = dtype(self.muon_a), dtype(self.muon_b), dtype(self.muon_c)
        tall = shape[-2] > shape[-1]
        if tall:
            x = np.swapaxes(x, -1, -2)
        norm = np.sqrt(np.sum(np.square(x), axis=(-2, -1), keepdims=True))
        x = x / (norm + dtype(1e-7))                    # spectral norm <= Frobenius norm <= 1
        for _ in range(steps):
            temp_a = x @ np.swapaxes(x, -1, -2)
            temp_b = b * temp_a + (c * temp_a) @ temp_a
            x = a * x + temp_b @ x
        if tall:
            x = np.swapaxes(x, -1, -2)
        return x

    def _apply_weight_decay(self, variables):
        """``W -= W * wd * lr``: ``weight_decay`` for Muon variables, ``adam_weight_decay`` for
        the AdamW ones."""
        learning_rate = self._learning_rate_value()
        for variable in variables:
            if not self._use_weight_decay(variable):
                continue
            weight_decay = (self.adam_weight_decay if self._should_use_adamw(variable)
                            else self.weight_decay)
            if weight_decay is None:
                continue
            w = variable.value
            w -= w * w.dtype.type(weight_decay) * w.dtype.type(learning_rate)

    def get_config(self):
        return {**super().get_config(), "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2, "epsilon": self.epsilon,
                "exclude_layers": self.exclude_layers, "muon_a": self.muon_a,
                "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate}
