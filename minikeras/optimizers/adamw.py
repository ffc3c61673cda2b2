"""AdamW: Adam with decoupled weight decay (``keras.optimizers.AdamW``)."""

from minikeras.optimizers.adam import Adam


class AdamW(Adam):
    """Adam whose ``weight_decay`` defaults to 0.004 (and may not be None).

    Each step first decays the weights, w = w - lr * weight_decay * w (the base optimizer's
    decoupled weight decay, also available on every other optimizer), then applies the Adam update
    with the gradient computed at the old weights.

    Args:
        learning_rate: 0.001 by default.
        weight_decay: 0.004.
        beta_1, beta_2, epsilon, amsgrad: as in ``Adam``.
        **kwargs: the other base arguments of ``Optimizer`` (clipnorm, name, ...).
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
