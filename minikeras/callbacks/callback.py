"""Callback: the base class of every callback (``keras.callbacks.Callback``).

``fit``, ``evaluate`` and ``predict`` call the hooks below at fixed points of their loops; a
callback overrides the ones it needs. Every hook does nothing by default, except the two
``on_train_batch_*`` hooks, which forward to the older names ``on_batch_begin``/``on_batch_end``.
"""

from minikeras.utils.io_utils import print_msg  # noqa: F401  (the callbacks import it here)


class Callback:
    """Subclass and override hooks. The trainer gives each callback ``params`` (``{'verbose',
    'epochs', 'steps'}``) with ``set_params`` and the model with ``set_model``.

    The order of calls in ``fit``::

        on_train_begin
          on_epoch_begin(epoch)
            on_train_batch_begin(batch) / on_train_batch_end(batch, logs)   # each batch
            on_test_begin ... on_test_end                                   # validation
          on_epoch_end(epoch, logs)            # logs: epoch means, val_ keys included
        on_train_end(logs)
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """Backwards-compatible alias of ``on_train_batch_begin``."""

    def on_batch_end(self, batch, logs=None):
        """Backwards-compatible alias of ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of epoch ``epoch`` (0-based), in ``fit`` only."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch; ``logs`` holds the epoch's metrics and ``val_*``."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each training batch; forwards to ``on_batch_begin``."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after each training batch with the running metrics; forwards to
        ``on_batch_end``."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each batch of ``evaluate`` (and of validation in ``fit``)."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each batch of ``evaluate`` (and of validation in ``fit``)."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each batch of ``predict``."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each batch of ``predict``."""

    def on_train_begin(self, logs=None):
        """Called once when ``fit`` starts."""

    def on_train_end(self, logs=None):
        """Called once when ``fit`` ends; ``logs`` are the last epoch's logs."""

    def on_test_begin(self, logs=None):
        """Called when ``evaluate`` (or a validation pass) starts."""

    def on_test_end(self, logs=None):
        """Called when ``evaluate`` (or a validation pass) ends, with its final logs."""

    def on_predict_begin(self, logs=None):
        """Called when ``predict`` starts."""

    def on_predict_end(self, logs=None):
        """Called when ``predict`` ends."""
