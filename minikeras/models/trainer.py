"""Trainer: ``compile``, ``fit``, ``evaluate``, ``predict`` (the training loop of ``keras.Model``).

One training step, the heart of it all:

    with GradientTape() as tape:
        y_pred = model(x, training=True)                      # forward, recorded
        loss = compiled_loss(y, y_pred, w) + sum(model.losses)  # + regularization
    grads = tape.gradient(loss, model.trainable_weights)    # backward: the chain rule
    optimizer.apply(grads, model.trainable_weights)         # step against the gradient

The reported epoch loss is the running mean of the batch losses, weighted by batch size.
"""

import numpy as np

from minikeras import callbacks as callbacks_module
from minikeras import config, ops, optimizers
from minikeras import metrics as metrics_module
from minikeras.autodiff import GradientTape
from minikeras.callbacks.callback_list import pythonify_logs
from minikeras.models import data_adapter
from minikeras.models.compile_utils import (
    CompileLoss,
    CompileMetrics,
    MultiOutputCompileLoss,
    MultiOutputCompileMetrics,
)
from minikeras.quiet import quietly
from minikeras.utils import tracking, tree
from minikeras.utils.py_dataset import PyDataset
from minikeras.utils.sequence_utils import pack_x_y_sample_weight, unpack_x_y_sample_weight


class Trainer:
    compiled = False
    optimizer = None
    stop_training = False
    _multi_output = False  # a functional model with a list or dict of outputs (see compile)
    _nested_outputs = False  # outputs nested deeper: they predict but do not train yet

    @tracking.no_automatic_dependency_tracking  # the loss tracker is not one of its metrics
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, the loss and the metrics (names or objects)."""
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        outputs = getattr(self, "_outputs_struct", None)  # a functional model's outputs
        self._multi_output = _has_several_outputs(self)
        self._nested_outputs = isinstance(outputs, list | tuple | dict) and len(
            outputs) != len(self._outputs)
        if self._multi_output:
            # a list of outputs is named by its layers; a dict by its keys, listed sorted
            keys = list(outputs) if isinstance(outputs, dict) else None
            names = sorted(keys) if keys else self.output_names
            self._compile_loss = None if loss is None else MultiOutputCompileLoss(
                loss, loss_weights, names, keys)
            self._compile_metrics = MultiOutputCompileMetrics(metrics, weighted_metrics, names)
        else:
            self._compile_loss = None if loss is None else CompileLoss(loss, loss_weights)
            self._compile_metrics = CompileMetrics(metrics, weighted_metrics)
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._compile_config = {
            "optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
            "metrics": metrics, "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly, "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile}
        self.run_eagerly = run_eagerly
        self.steps_per_execution = steps_per_execution
        self.jit_compile = False
        self.compiled = True
        self.stop_training = False

    # --- one batch ------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss plus every regularization loss in ``model.losses``. With several
        outputs, the compiled loss is Σ loss_weight_i · loss_i over the outputs."""
        if not self._multi_output and isinstance(y_pred, list | tuple | dict):
            raise NotImplementedError(
                f"Model '{self.name}' returned {len(y_pred)} outputs as a "
                f"{type(y_pred).__name__}: minikeras trains several outputs only for a "
                f"functional model built as `keras.Model(inputs, [output_1, output_2, ...])` "
                f"or with a dict of outputs (not nested, nor a subclassed model).")
        total = None
        if self._compile_loss is not None and y is not None:
            total = self._compile_loss(y, y_pred, sample_weight)
        for extra in self.losses:
            total = extra if total is None else ops.add(total, extra)
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def train_step(self, data):
        """One batch, as Keras's: ``data`` is ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, w)``
        (what a subclass that overrides it receives); returns the logs so far."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
            scaled_loss = self.optimizer.scale_loss(loss)  # × loss_scale_factor, if set
        weights = self.trainable_weights
        grads = tape.gradient(scaled_loss, weights)  # apply() divides the factor out again
        self.optimizer.apply(grads, weights)
        return self._update_metrics(loss, x, y, y_pred, sample_weight)

    def test_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        return self._update_metrics(loss, x, y, y_pred, sample_weight)

    def _update_metrics(self, loss, x, y, y_pred, sample_weight):
        self._loss_tracker.update_state(loss, sample_weight=data_adapter.num_samples(x))
        if y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # --- metrics ------------------------------------------------------------------------
    @property
    def metrics(self):
        """In Keras's order: the loss tracker, the compiled metrics and, for several outputs,
        each output's loss; then the metrics assigned to the model's attributes and to its
        layers' (a model inside it keeps its own)."""
        metrics = []
        if self.compiled:
            metrics = [self._loss_tracker]
            if self._compile_config["metrics"] is not None or (
                    self._compile_config["weighted_metrics"] is not None):
                metrics.append(self._compile_metrics)
            if self._multi_output and self._compile_loss is not None:
                metrics += self._compile_loss.metrics
        return metrics + [metric for layer in self._flatten_layers()
                          if layer is self or not isinstance(layer, Trainer)
                          for metric in layer._metrics]

    @property
    def metrics_names(self):
        """``['loss', 'compile_metrics']`` (``['loss']`` if compiled without ``metrics``), then,
        for several outputs once the first batch has run, ``<output>_loss`` for each output,
        then the names of the metrics assigned to attributes."""
        return [metric.name for metric in self.metrics]

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self):
        """The running value of each of ``metrics`` (the compiled ones give several), with
        sorted keys: Python floats, or arrays for a metric with one value per class
        (``F1Score(average=None)``)."""
        logs = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[metric.name] = result
        return {key: _log_value(logs[key]) for key in sorted(logs)}

    def _get_metrics_result_or_logs(self, logs):
        """The metrics' values if a step returned logs of the same names, as Keras does; else
        the step's own logs (a ``train_step`` that reports something else)."""
        metric_logs = self.get_metrics_result()
        return metric_logs if set(logs) == set(metric_logs) else pythonify_logs(logs)

    def _flatten_in_order(self, logs):
        """``evaluate``'s list, in Keras's order: the logs named by ``model.metrics`` (the
        compiled metrics one by one), then the rest, sorted (such as the per-output metrics
        ``<output>_<metric>``, whose names no metric object carries)."""
        names = []
        for metric in self.metrics:
            is_compiled = metric is self._compile_metrics
            names += [m.name for m in metric.metrics] if is_compiled else [metric.name]
        values = [logs[name] for name in names if name in logs]
        values += [logs[key] for key in sorted(logs) if key not in names]
        return values[0] if len(values) == 1 else values

    # --- whole datasets ---------------------------------------------------------------
    @quietly
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` passes over the data; returns the ``History``."""
        self._assert_compiled()
        epochs, steps_per_epoch = config._capped(epochs, steps_per_epoch)  # set_max_epochs
        _check_batch_size(batch_size)
        if not 0 <= validation_split < 1:
            raise ValueError("`validation_split` must be a float in [0, 1). Received: "
                             f"validation_split={validation_split}")
        if class_weight is not None and sample_weight is not None:
            raise ValueError(
                "You cannot `class_weight` and `sample_weight` at the same time.")
        if class_weight is not None and self._multi_output:
            raise ValueError("`class_weight` is only supported for Models with a single output.")
        if isinstance(x, PyDataset) or data_adapter.is_iterator(x):
            if validation_split:
                raise ValueError("`validation_split` is only supported for array inputs, not "
                                 "for generators or PyDatasets. Pass `validation_data` instead.")
            data = (data_adapter.py_dataset_data(x, y, sample_weight, shuffle=shuffle,
                                                 steps=steps_per_epoch, class_weight=class_weight)
                    if isinstance(x, PyDataset) else data_adapter.IteratorData(x, steps_per_epoch))
        else:
            arrays = (data_adapter.to_arrays(x, "x"), data_adapter.to_arrays(y, "y"),
                      data_adapter.to_arrays(sample_weight, "sample_weight"))
            if validation_split and validation_data is None:
                arrays, validation_data = data_adapter.train_validation_split(
                    arrays, validation_split)
            if class_weight is not None:
                arrays = (*arrays[:2], data_adapter.class_weight_to_sample_weights(
                    arrays[1], class_weight))
            data = data_adapter.ArrayData(*arrays, batch_size=batch_size, shuffle=shuffle,
                                          steps=steps_per_epoch)
            self._build_for_data(data.x, data.static_batch_size)
        callbacks = _callback_list(callbacks, self, verbose, epochs, data.num_batches,
                                   add_history=True)
        self.stop_training = False
        callbacks.on_train_begin()
        epoch_logs = None
        initial_epoch = getattr(self, "_initial_epoch", None) or initial_epoch  # BackupAndRestore
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            logs = {}
            for step, (xb, yb, wb) in enumerate(data.batches()):
                callbacks.on_train_batch_begin(step)
                logs = self.train_step(pack_x_y_sample_weight(xb, yb, wb))
                callbacks.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(self._get_metrics_result_or_logs(logs))
            if validation_data is not None and _should_eval(epoch, validation_freq):
                val_x, val_y, val_w = (*_unpack(validation_data), None)[:3]
                val_logs = self.evaluate(val_x, val_y, sample_weight=val_w,
                                         batch_size=validation_batch_size or batch_size,
                                         steps=validation_steps, callbacks=callbacks,
                                         return_dict=True)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if epochs > 0 and self.optimizer.built:  # with use_ema, the weights become their averages
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callbacks.on_train_end(logs=epoch_logs)
        return self.history

    @quietly
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics on the data: a float, a list ``[loss, *metrics]`` or a dict."""
        self._assert_compiled()
        _check_batch_size(batch_size)
        data = self._data(x, y, sample_weight, batch_size, steps)
        callbacks = _callback_list(callbacks, self, verbose, 1, data.num_batches)
        callbacks.on_test_begin()
        self.reset_metrics()
        logs = {}
        for step, (xb, yb, wb) in enumerate(data.batches()):
            callbacks.on_test_batch_begin(step)
            logs = self.test_step(pack_x_y_sample_weight(xb, yb, wb))
            callbacks.on_test_batch_end(step, logs)
        logs = self._get_metrics_result_or_logs(logs)
        callbacks.on_test_end(logs)
        return logs if return_dict else self._flatten_in_order(logs)

    @quietly
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x`` as one float32 NumPy array (inference mode); a list of
        arrays for a model with several outputs."""
        _check_batch_size(batch_size)
        data = self._data(x, None, None, batch_size, steps, predicting=True)
        callbacks = _callback_list(callbacks, self, verbose, 1, data.num_batches)
        callbacks.on_predict_begin()
        outputs = []
        for step, (xb, _, _) in enumerate(data.batches()):
            callbacks.on_predict_batch_begin(step)
            batch = tree.map_structure(np.asarray, self.predict_step(pack_x_y_sample_weight(xb)))
            outputs.append(batch)
            callbacks.on_predict_batch_end(step, {"outputs": batch})
        callbacks.on_predict_end()
        if isinstance(outputs[0], np.ndarray):
            return np.concatenate(outputs)
        return tree.pack_sequence_as(outputs[0], [
            np.concatenate(parts) for parts in zip(*map(tree.flatten, outputs), strict=True)])

    @quietly
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        self._assert_compiled()
        if class_weight is not None:
            if self._multi_output:
                raise ValueError(
                    "`class_weight` is only supported for Models with a single output.")
            if sample_weight is not None:
                raise ValueError(
                    "Arguments `sample_weight` and `class_weight` cannot be specified at the "
                    f"same time. Received: sample_weight={sample_weight}, "
                    f"class_weight={class_weight}")
            sample_weight = data_adapter.class_weight_to_sample_weights(y, class_weight)
        x, y, sample_weight = self._batch(x, y, sample_weight)
        self.reset_metrics()
        logs = self.train_step(pack_x_y_sample_weight(x, y, sample_weight))
        return logs if return_dict else self._flatten_in_order(logs)

    @quietly
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled()
        x, y, sample_weight = self._batch(x, y, sample_weight)
        self.reset_metrics()
        logs = self.test_step(pack_x_y_sample_weight(x, y, sample_weight))
        return logs if return_dict else self._flatten_in_order(logs)

    @quietly
    def predict_on_batch(self, x):
        x = self._batch(x, None, None)[0]
        return tree.map_structure(np.asarray, self.predict_step(pack_x_y_sample_weight(x)))

    # --- helpers --------------------------------------------------------------------------
    def _assert_compiled(self):
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")
        if self._nested_outputs:
            raise NotImplementedError(
                f"Model '{self.name}' has nested outputs: minikeras can call it and `predict` "
                f"with it, but trains several outputs only when they are a flat list or dict, "
                f"`keras.Model(inputs, [output_1, output_2, ...])`; they are not nested here.")

    def _batch(self, x, y, sample_weight):
        data = data_adapter.ArrayData(x, y, sample_weight)  # converted and checked, one batch
        self._build_for_data(data.x, data.num_samples)
        return data.x, data.y, data.sample_weight

    def _data(self, x, y, sample_weight, batch_size, steps, predicting=False):
        if isinstance(x, PyDataset):
            return data_adapter.py_dataset_data(x, y, sample_weight, steps=steps)
        if data_adapter.is_iterator(x):
            return data_adapter.IteratorData(x, steps)
        data = data_adapter.ArrayData(x, y, sample_weight, batch_size=batch_size, steps=steps)
        # predict builds for its first batch; evaluate, like fit, for a batch size they all share
        self._build_for_data(data.x, min(data.batch_size, data.num_samples) if predicting
                             else data.static_batch_size)
        return data

    def _build_for_data(self, x, batch_size):
        """Build a model that is not built yet (a Sequential without an Input) for ``x``'s
        shape with ``batch_size`` as its batch axis (None: any), as Keras does: a stateful RNN
        needs it, and ``summary()`` shows it."""
        if not self.built:
            self.build((batch_size, *x.shape[1:]))


def _has_several_outputs(model):
    """Whether ``model`` is a functional model with a flat list or dict of several outputs
    (what minikeras trains; nested outputs still predict, but ``fit`` raises)."""
    outputs = getattr(model, "_outputs_struct", None)
    return isinstance(outputs, list | tuple | dict) and len(outputs) > 1 and len(
        outputs) == len(model._outputs)


def _log_value(value):
    return float(value) if getattr(value, "ndim", 0) == 0 else np.asarray(value)


def _check_batch_size(batch_size):
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
            batch_size, int | np.integer) or batch_size <= 0):
        raise ValueError(f"`batch_size` must be a positive integer. Received: "
                         f"batch_size={batch_size}")


def _unpack(data):
    """``validation_data`` as ``(x, y, sample_weight)``: a PyDataset or a generator yields all
    three itself."""
    if isinstance(data, PyDataset) or data_adapter.is_iterator(data):
        return data, None, None
    if isinstance(data, tuple | list) and 2 <= len(data) <= 3:
        return tuple(data)
    raise ValueError("`validation_data` must be a tuple (x, y) or (x, y, sample_weight). "
                     f"Received: {type(data).__name__} of length "
                     f"{len(data) if hasattr(data, '__len__') else '?'}")


def _should_eval(epoch, validation_freq):
    epoch = epoch + 1
    if isinstance(validation_freq, int):
        return epoch % validation_freq == 0
    return epoch in validation_freq


def _callback_list(callbacks, model, verbose, epochs, steps, add_history=False):
    if isinstance(callbacks, callbacks_module.CallbackList):
        return callbacks
    if verbose == "auto":
        verbose = 1
    return callbacks_module.CallbackList(callbacks, add_history=add_history,
                                         add_progbar=verbose != 0, verbose=verbose,
                                         epochs=epochs, steps=steps, model=model)
