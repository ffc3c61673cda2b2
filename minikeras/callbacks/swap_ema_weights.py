"""SwapEMAWeights: evaluate with the optimizer's moving averages of the weights
(``keras.callbacks.SwapEMAWeights``).

An optimizer built with ``use_ema=True`` keeps, beside each trainable weight ``w``, its
exponential moving average ("Polyak averaging")::

    average = ema_momentum * average + (1 - ema_momentum) * w

This callback swaps the two in place before every evaluation (validation in ``fit`` included)
and swaps them back after it, so the metrics are those of the averaged weights while training
goes on with the raw ones.
"""

import numpy as np

from minikeras.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """``SwapEMAWeights(swap_on_epoch=False)``.

    ``swap_on_epoch=True`` also swaps at each epoch end (and back at the next epoch's start), so
    the callbacks placed after this one, e.g. ``ModelCheckpoint``, see the averaged weights; at
    the last epoch end the averages are also copied back from the swapped weights, because the
    end of ``fit`` (``optimizer.finalize_variable_values``, as in Keras) copies the averages
    into the weights.

    As in Keras, ``on_predict_end`` does not swap back (Keras 3.15 tests
    ``if not self._ema_weights_in_model`` there): after a ``predict`` given this callback, the
    model keeps the averaged weights.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _ema_optimizers(self):
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        if hasattr(optimizer, "optimizers"):
            if not any(getattr(opt, "use_ema", False) for opt in optimizer.optimizers):
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner optimizer has "
                    "`use_ema=True` set. Received a MultiOptimizer with all inner optimizers "
                    "having `use_ema=False`.")
            inner = [opt for opt in optimizer.optimizers if getattr(opt, "use_ema", False)]
        else:
            inner = [optimizer]
        for opt in inner:
            if not hasattr(opt, "_model_variables_moving_average"):
                raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the "
                                 f"optimizer. Received: use_ema={opt.use_ema}")
        return inner

    def _swap_variables(self):
        for optimizer in self._ema_optimizers():
            for var, average in zip(optimizer._trainable_variables,
                                    optimizer._model_variables_moving_average, strict=True):
                temporary = np.array(var.numpy(), copy=True)
                var.assign(average.numpy())
                average.assign(temporary)

    def _finalize_ema_values(self):
        for optimizer in self._ema_optimizers():
            for var, average in zip(optimizer._trainable_variables,
                                    optimizer._model_variables_moving_average, strict=True):
                average.assign(var.numpy())

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            # the end of fit copies the averages into the weights: give it back the averages
            if epoch == self.params["epochs"] - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_predict_end(self, logs=None):
        if not self._ema_weights_in_model:  # sic: Keras 3.15 never swaps back after predict
            self._swap_variables()
            self._ema_weights_in_model = False
