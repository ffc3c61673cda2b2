"""TensorBoard: write the training logs for TensorBoard (``keras.callbacks.TensorBoard``).

The event files are written by ``minikeras.utils.summary_writer`` (NumPy only, no TensorFlow);
the runs, tags and steps are those Keras 3 writes:

=====================================  ==================  ===================================
tag                                    run (sub-folder)    step
=====================================  ==================  ===================================
``keras`` (the model's JSON)           ``train``           0, when the model is set
``epoch_<name>``, ``epoch_learning_    ``train``           the epoch (0-based)
rate``, ``epoch_steps_per_second``
``epoch_<name>`` (``val_`` removed)    ``validation``      the epoch
``evaluation_<name>_vs_iterations``    ``validation``      ``optimizer.iterations``, after each
                                                           ``evaluate`` (validation included)
``batch_<name>``, ``batch_steps_per_   ``train``           the batch, counted from 1 across
second``                                                   epochs (only with ``update_freq``
                                                           ``"batch"`` or an int)
``<weight.path>/histogram``,           ``train``           the epoch, every ``histogram_freq``
``<weight.path>/image``                                    epochs
=====================================  ==================  ===================================

With ``update_freq=N``, Keras's "record if" rule applies to *every* summary, not only to the
batch ones: a summary is written only while the last pushed batch counter is a multiple of N
(see ``_should_record``). So if an epoch has a number of batches that is not a multiple of N,
that epoch's ``epoch_*`` scalars and histograms are not written either, exactly as in Keras.
"""

import os
import time
import warnings

import numpy as np

from minikeras import backend
from minikeras.callbacks.callback import Callback


class TensorBoard(Callback):
    """``TensorBoard(log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
    write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
    embeddings_metadata=None)``.

    Then ``tensorboard --logdir logs`` shows the runs ``logs/train`` and ``logs/validation``
    (``pip install tensorboard`` to view them; minikeras never imports it).

    Args:
        log_dir: the folder of the runs; it should not be shared with other callbacks.
        histogram_freq: every that many epochs (0: never), a histogram (30 buckets) of each
            weight of each layer, tagged ``<weight.path>/histogram``.
        write_graph: write the model's JSON (tag ``keras``, plugin ``graph_keras_model``), from
            which TensorBoard's Graphs tab draws the layers, for a Sequential or functional
            model. Keras 3 writes no op graph either.
        write_images: with ``histogram_freq``, also each weight as a grayscale image (``[0,
            1]`` maps to black..white; a kernel is shown with its longer side as width).
        write_steps_per_second: also log ``epoch_steps_per_second`` (and
            ``batch_steps_per_second`` with batch-level logging).
        update_freq: ``"epoch"``, ``"batch"`` (same as 1) or an int N: also log the running
            ``batch_<name>`` values every N batches (see the module docstring for the rule).
        profile_batch: accepted and checked as in Keras (an int >= 0, a pair ``(start,
            stop)`` or ``"start,stop"``) but **not written**: minikeras has no profiler, so a
            nonzero value only warns.
        embeddings_freq: every that many epochs, save the weights to
            ``<log_dir>/train/keras_embedding.ckpt-<epoch>.weights.h5`` and write
            ``<log_dir>/projector_config.pbtxt`` naming each ``Embedding`` layer, as Keras does.
        embeddings_metadata: a metadata file name for every ``Embedding`` layer, or a dict
            ``{layer_name: file_name}``.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._init_profile_batch(profile_batch)
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._previous_epoch_iterations = 0
        self._batch_start_time = 0
        self._epoch_start_time = 0
        self._writers = {}  # created on first use, so no empty event files
        # Keras's stack of (default writer, record-if step) contexts; see _should_record.
        self._prev_summary_state = []

    # --- writers --------------------------------------------------------------------------
    def set_model(self, model):
        """Set the model and write its JSON if ``write_graph``; a new ``fit`` or ``evaluate``
        starts new event files, as in Keras."""
        self._model = model
        self._log_write_dir = self.log_dir
        self._train_dir = os.path.join(self._log_write_dir, "train")
        self._val_dir = os.path.join(self._log_write_dir, "validation")
        self._writers = {}
        if self.write_graph:
            self._write_keras_model_summary()
        if self.embeddings_freq:
            self._configure_embeddings()

    def _writer(self, key, logdir):
        from minikeras.utils.summary_writer import SummaryWriter

        if key not in self._writers or self._writers[key].closed:
            self._writers[key] = SummaryWriter(logdir)
        return self._writers[key]

    @property
    def _train_writer(self):
        return self._writer("train", self._train_dir)

    @property
    def _val_writer(self):
        return self._writer("val", self._val_dir)

    def _push_writer(self, writer, step):
        """Make ``writer`` the default one for batch summaries, recording at ``step`` only if
        ``step % update_freq == 0`` (Keras: ``writer.as_default(step)`` and
        ``tf.summary.record_if``). Nothing to do with ``update_freq="epoch"``."""
        if self.update_freq == "epoch":
            return
        self._prev_summary_state.append((writer, step))

    def _pop_writer(self):
        if self.update_freq == "epoch":
            return
        self._prev_summary_state.pop()

    def _should_record(self):
        """TensorFlow's record-if state: the condition of the innermost pushed context, which
        holds for every summary written, whichever writer it goes to."""
        if not self._prev_summary_state:
            return True
        return self._prev_summary_state[-1][1] % self.update_freq == 0

    def _default_writer(self):
        return self._prev_summary_state[-1][0] if self._prev_summary_state else None

    def _scalar(self, writer, tag, value, step):
        if writer is not None and self._should_record():
            writer.scalar(tag, value, step)

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()

    def _write_keras_model_summary(self):
        """The model's JSON for the Graphs tab (Keras's ``keras_model_summary``)."""
        if type(self.model).__name__ not in ("Functional", "Sequential"):
            return
        writer = self._train_writer
        try:
            json_string = self.model.to_json()
        except Exception as exc:  # Keras too only warns: a summary must not break training
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {exc}", stacklevel=2)
            return
        if self._should_record():
            writer.write("keras", json_string, 0, "graph_keras_model", b"1")

    # --- profile_batch (validated, not traced) --------------------------------------------
    def _init_profile_batch(self, profile_batch):
        message = ("profile_batch must be a non-negative integer or 2-tuple of positive "
                   "integers. A pair of positive integers signifies a range of batches to "
                   f"profile. Found: {profile_batch}")
        given = profile_batch
        if isinstance(profile_batch, str):  # the legacy "start,stop" or "start"
            profile_batch = [int(part) for part in profile_batch.split(",")]  # "5" fails too
        if isinstance(profile_batch, int):
            self._start_batch = self._stop_batch = profile_batch
        elif isinstance(profile_batch, (tuple, list)) and len(profile_batch) == 2:
            self._start_batch, self._stop_batch = profile_batch
        else:
            raise ValueError(message)
        if self._start_batch < 0 or self._stop_batch < self._start_batch:
            raise ValueError(message)
        self._should_trace = not (self._start_batch == 0 and self._stop_batch == 0)
        if self._should_trace:
            warnings.warn(f"minikeras has no profiler: `profile_batch={given!r}` is "
                          "accepted, but no trace is written to TensorBoard.", stacklevel=3)

    # --- embeddings -----------------------------------------------------------------------
    def _configure_embeddings(self):
        """Write ``projector_config.pbtxt`` (protobuf text format) for TensorBoard's
        Projector: one ``embeddings`` entry per ``Embedding`` layer."""
        from minikeras.layers import Embedding

        metadata = self.embeddings_metadata
        if isinstance(metadata, dict):
            metadata = dict(metadata)  # Keras pops from the caller's dict; we use a copy
        entries = []
        for layer in self.model.layers:
            if isinstance(layer, Embedding):
                # Keras names the first layer with weights, whichever the Embedding is
                entry = ('  tensor_name: "layer_with_weights-0/embeddings/.ATTRIBUTES/'
                         'VARIABLE_VALUE"\n')
                path = None
                if isinstance(metadata, str):
                    path = metadata
                elif metadata is not None and layer.name in metadata:
                    path = metadata.pop(layer.name)
                if path is not None:
                    entry += f'  metadata_path: "{_c_escape(path)}"\n'
                entries.append("embeddings {\n" + entry + "}\n")
        if metadata and not isinstance(metadata, str):
            raise ValueError("Unrecognized `Embedding` layer names passed to "
                             "`keras.callbacks.TensorBoard` `embeddings_metadata` argument: "
                             f"{metadata.keys()}")
        os.makedirs(self._log_write_dir, exist_ok=True)  # Keras fails if it is missing
        path = os.path.join(self._log_write_dir, "projector_config.pbtxt")
        with open(path, "w") as f:
            f.write("".join(entries))

    def _log_embeddings(self, epoch):
        os.makedirs(self._train_dir, exist_ok=True)
        self.model.save_weights(os.path.join(
            self._train_dir, f"keras_embedding.ckpt-{epoch}.weights.h5"))

    # --- hooks ----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0
        self._push_writer(self._train_writer, self._global_train_batch)  # creates the file

    def on_train_end(self, logs=None):
        self._pop_writer()
        self._close_writers()

    def on_test_begin(self, logs=None):
        self._push_writer(self._val_writer, self._global_test_batch)

    def on_test_end(self, logs=None):
        optimizer = self.model.optimizer
        if optimizer and hasattr(optimizer, "iterations"):
            step = int(np.asarray(optimizer.iterations))
            for name, value in (logs or {}).items():
                self._scalar(self._val_writer, f"evaluation_{name}_vs_iterations", value, step)
        self._pop_writer()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer(self._train_writer, self._global_train_batch)
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        writer = self._default_writer()  # None with update_freq="epoch": nothing written
        if self.write_steps_per_second:
            batch_run_time = time.time() - self._batch_start_time
            self._scalar(writer, "batch_steps_per_second", 1.0 / max(batch_run_time, 1e-9),
                         self._global_train_batch)
        if isinstance(logs, dict):
            for name, value in logs.items():
                self._scalar(writer, f"batch_{name}", value, self._global_train_batch)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer(self._val_writer, self._global_test_batch)

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            iterations = np.asarray(self.model.optimizer.iterations)
            self._previous_epoch_iterations = np.float32(iterations)
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        """The epoch's scalars, then the histograms and embeddings when they are due."""
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._log_embeddings(epoch)

    # --- what is written at epoch end -----------------------------------------------------
    def _collect_learning_rate(self, logs):
        from minikeras.optimizers.optimizer import Optimizer

        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                logs[f"learning_rate_{opt.name}"] = float(np.asarray(opt.learning_rate))
        elif isinstance(optimizer, Optimizer):
            logs["learning_rate"] = float(np.asarray(optimizer.learning_rate))
        return logs

    def _compute_steps_per_second(self):
        current = np.float32(np.asarray(self.model.optimizer.iterations))
        elapsed = np.float32(time.time() - self._epoch_start_time)
        return float((current - self._previous_epoch_iterations) / elapsed)

    def _log_epoch_metrics(self, epoch, logs):
        """``epoch_<name>`` in ``train`` (with the learning rate), ``epoch_<name>`` for the
        ``val_<name>`` logs in ``validation``."""
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k: v for k, v in logs.items() if k.startswith("val_")}
        train_logs = self._collect_learning_rate(train_logs)
        if self.write_steps_per_second:
            train_logs["steps_per_second"] = self._compute_steps_per_second()
        if train_logs:
            writer = self._train_writer
            for name, value in train_logs.items():
                self._scalar(writer, f"epoch_{name}", value, epoch)
        if val_logs:
            writer = self._val_writer
            for name, value in val_logs.items():
                self._scalar(writer, f"epoch_{name[4:]}", value, epoch)

    def _log_weights(self, epoch):
        """A histogram (and with ``write_images`` an image) of every weight of every layer."""
        writer = self._train_writer
        if not self._should_record():
            return
        for layer in self.model.layers:
            for weight in layer.weights:
                weight_name = weight.path.replace(":", "_")
                value = np.asarray(weight)
                writer.histogram(f"{weight_name}/histogram", value, epoch)
                if self.write_images:
                    image = _weight_as_image(value)
                    if image is not None:
                        writer.image(f"{weight_name}/image", image, epoch)
        writer.flush()


def _weight_as_image(weight):
    """A ``(k, height, width, 1)`` batch for ``tf.summary.image``, as Keras lays it out: a
    bias as one row, a kernel with its longer side across, a conv kernel one image per output
    channel; ``None`` for other shapes (a scalar, 3D convolutions)."""
    image = np.squeeze(weight)
    if image.ndim == 1:
        image = image.reshape(1, image.shape[0], 1, 1)
    elif image.ndim == 2:
        if image.shape[0] > image.shape[1]:
            image = image.T
        image = image.reshape(1, image.shape[0], image.shape[1], 1)
    elif image.ndim == 3:
        if backend.image_data_format() == "channels_last":
            image = np.transpose(image, (2, 0, 1))
        image = image.reshape(*image.shape, 1)
    if image.ndim == 4 and image.shape[-1] in (1, 3, 4):
        return image
    return None


def _c_escape(text):
    """A string as protobuf's text format quotes it (C escapes, other bytes in octal)."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in "\"'\\":
            out.append("\\" + char)
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)
