"""PyDataset: data that makes its batches on demand (``keras.utils.PyDataset``, formerly
``keras.utils.Sequence``).

Subclass it, call ``super().__init__(**kwargs)``, and define ``__len__`` (the number of batches)
and ``__getitem__(index)`` (batch ``index`` as ``x``, ``(x, y)`` or ``(x, y, sample_weight)``).
``fit`` asks for every batch once per epoch, in a new random order when ``shuffle=True``, and calls
``on_epoch_begin``/``on_epoch_end`` around each epoch: the place to reshuffle or augment data.

``workers``, ``use_multiprocessing`` and ``max_queue_size`` are kept for compatibility; minikeras
always makes the batches in the main process, one after the other.
"""

import itertools


class PyDataset:
    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        """Batch number ``index``."""
        raise NotImplementedError

    def __iter__(self):
        count = self.num_batches
        for index in itertools.count() if count is None else range(count):
            yield self[index]

    @property
    def num_batches(self):
        """The number of batches, or None for an endless dataset (then give ``fit`` a
        ``steps_per_epoch``)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset  # the tf.keras 2 name
