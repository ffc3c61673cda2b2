"""History: what ``fit`` returns (``keras.callbacks.History``)."""

from minikeras.callbacks.callback import Callback


class History(Callback):
    """Records each epoch's logs: ``history[key]`` is the list of values, one per epoch;
    ``epoch`` lists the epoch indices; ``params`` are the ``fit`` parameters
    (``{'verbose', 'epochs', 'steps'}``).

    ``history`` keeps growing across ``fit`` calls on the same object; ``epoch`` restarts at each
    ``on_train_begin``.
    """

    def __init__(self):
        super().__init__()
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self
