"""LearningRateScheduler: set the learning rate at the start of each epoch
(``keras.callbacks.LearningRateScheduler``)."""

import numpy as np

from minikeras.callbacks.callback import Callback, print_msg


class LearningRateScheduler(Callback):
    """``LearningRateScheduler(schedule, verbose=0)``.

    At each epoch begin: ``optimizer.learning_rate = schedule(epoch, lr)`` (or ``schedule(epoch)``
    for a one-argument schedule), with ``epoch`` 0-based and ``lr`` the current rate as a Python
    float. ``schedule`` must return a float (``int`` is rejected, as in Keras). At each epoch end
    the rate in effect is added to the logs as ``learning_rate``.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, float(np.asarray(optimizer.learning_rate)))
        except TypeError:  # the old one-argument schedule(epoch)
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError("The output of the `schedule` function should be a float. "
                             f"Got: {learning_rate}")
        optimizer.learning_rate = learning_rate
        return learning_rate

    def on_epoch_begin(self, epoch, logs=None):
        learning_rate = self._update_optimizer_lr(self.model.optimizer, epoch)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                      f"{learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))
