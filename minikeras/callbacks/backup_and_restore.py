"""BackupAndRestore: resume an interrupted ``fit`` where it stopped
(``keras.callbacks.BackupAndRestore``).

During ``fit`` the callback keeps, in ``backup_dir``, the state needed to carry on:

    backup_dir/latest.weights.h5          model weights + optimizer state (``save_weights``)
    backup_dir/training_metadata.json     {"epoch": epochs done, "batch": last batch seen}

When ``fit`` starts, a backup found there is loaded and ``model._initial_epoch`` set to its
epoch: the trainer then starts its epoch loop there instead of at ``initial_epoch``. At the end
of a ``fit`` that was not interrupted the folder is deleted (``delete_checkpoint=True``).

Every file is written to a temporary file beside it and renamed over it (``os.replace``), so a
crash while backing up leaves the previous backup whole (weights and metadata are renamed one
right after the other, once both are written).
"""

import json
import os
import shutil

from minikeras.callbacks.callback import Callback


class BackupAndRestore(Callback):
    """``BackupAndRestore(backup_dir, save_freq='epoch', double_checkpoint=False,
    delete_checkpoint=True)``.

    ``save_freq='epoch'`` backs up at each epoch end; an integer ``n`` every ``n`` training
    batches (the epoch stored is then the number of epochs *finished*, so a resumed ``fit``
    repeats the unfinished epoch from its start, with the weights of the last backup).
    ``double_checkpoint=True`` keeps the previous backup as ``*.bkp`` and falls back to it when
    the latest one cannot be read. The model must be built before ``fit``.

    Example (Keras's own)::

        callback = keras.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
        try:
            model.fit(x, y, epochs=10, callbacks=[callback, InterruptAtEpoch4()])
        except RuntimeError:
            pass
        history = model.fit(x, y, epochs=10, callbacks=[callback])
        len(history.history["loss"])   # 6: epochs 4 to 9
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        self.backup_dir = backup_dir
        self._weights_path = os.path.join(backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(backup_dir, "training_metadata.json")
        self._prev_weights_path = f"{self._weights_path}.bkp"
        self._prev_training_metadata_path = f"{self._training_metadata_path}.bkp"
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError("Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq}. Expected either 'epoch' or an integer "
                             "value.")

    # --- restoring -----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, you model must be built before you call "
                f"`fit()`. Model {self.model} is unbuilt. You can build it beforehand by calling "
                "it on a batch of data.")
        try:
            self._load_model()
        except (OSError, ValueError):
            # The latest backup is unreadable (corrupted): fall back to the previous one. (Keras
            # catches OSError, what h5py raises; minikeras's load_weights raises ValueError.)
            if not os.path.exists(self._prev_weights_path):
                raise
            _atomic_copy(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                _atomic_copy(self._prev_training_metadata_path, self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._load_model()

    def _load_model(self):
        """Load the backed-up weights and optimizer state; set ``model._initial_epoch``."""
        if os.path.exists(self._weights_path):
            optimizer = getattr(self.model, "optimizer", None)
            if optimizer is not None and not optimizer.built:
                # the optimizer's slots must exist for the saved ones to load into
                optimizer.build(self.model.trainable_variables)
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path, encoding="utf-8") as f:
                training_metadata = json.loads(f.read())
            self.model._initial_epoch = training_metadata["epoch"]

    # --- backing up ----------------------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model()

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._weights_path):
            _atomic_copy(self._weights_path, self._prev_weights_path)
        if self.double_checkpoint and os.path.exists(self._training_metadata_path):
            _atomic_copy(self._training_metadata_path, self._prev_training_metadata_path)
        # Both files are written in full beside their targets first, then renamed over them one
        # right after the other: a failure while writing leaves the previous pair untouched.
        pending_weights = os.path.join(self.backup_dir, ".pending.weights.h5")
        training_metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        try:
            self.model.save_weights(filepath=pending_weights, overwrite=True)
            with _atomic_write(self._training_metadata_path) as tmp:
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(json.dumps(training_metadata))
                os.replace(pending_weights, self._weights_path)
        finally:
            if os.path.exists(pending_weights):
                os.remove(pending_weights)

    def _should_save_on_batch(self, batch):
        """Count batches (a batch index that does not grow means a new epoch); True every
        ``save_freq`` batches."""
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch
            add_batches = batch + 1  # batches are 0-based
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


def _atomic_copy(source, target):
    with _atomic_write(target) as tmp:
        shutil.copyfile(source, tmp)


def _atomic_write(target):
    from minikeras.saving import file_utils  # it loads h5py: only when a backup is written

    return file_utils.atomic_write(target)
