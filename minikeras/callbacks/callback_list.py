"""CallbackList: calls every hook on a list of callbacks (``keras.callbacks.CallbackList``).

The trainer builds one per ``fit``/``evaluate``/``predict``: ``fit`` asks for a ``History`` (always)
and a ``ProgbarLogger`` (when ``verbose != 0``). Before the hooks run, the logs are made plain:
keys sorted, nested dicts flattened, values turned into Python floats where possible. That is why
``History.history`` and the CSV columns come out in sorted order.
"""

from minikeras.callbacks.callback import Callback
from minikeras.callbacks.history import History
from minikeras.callbacks.progbar_logger import ProgbarLogger


def pythonify_logs(logs):
    """Sorted, flattened copy of ``logs`` with ``float(value)`` where that works
    (``keras.src.utils.python_utils.pythonify_logs``)."""
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            pass
        result[key] = value
    return result


def _flatten(callbacks):
    if isinstance(callbacks, (list, tuple)):
        return [cb for item in callbacks for cb in _flatten(item)]
    return [callbacks]


_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def _implements(callback, hook):
    """Whether ``callback`` does anything on ``hook`` (or on the older name it forwards to)."""
    for name in {hook, _ALIASES.get(hook, hook)}:
        method = getattr(callback, name, None)
        if method is not None and getattr(method, "__func__", None) is not getattr(
                Callback, name):
            return True
    return False


class CallbackList(Callback):
    """``CallbackList(callbacks=None, add_history=False, add_progbar=False, model=None, **params)``.

    ``add_history``/``add_progbar`` append a ``History``/``ProgbarLogger`` unless the list already
    has one; ``params`` (e.g. ``verbose=1, epochs=3, steps=10``) go to every callback's
    ``set_params``. Setting the model also sets ``model.history`` to the list's ``History``.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        super().__init__()
        self.callbacks = _flatten(callbacks) if callbacks else []
        self._listeners = {}  # hook name -> the callbacks that implement it
        self._in_begin_end_block_count = 0
        self._add_default_callbacks(add_history, add_progbar)
        self.set_model(model)
        self.set_params(params)

    def _add_default_callbacks(self, add_history, add_progbar):
        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self._progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)

    def set_params(self, params):
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model):
        if not model:
            return
        super().set_model(model)
        if self._history:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def append(self, callback):
        self.callbacks.append(callback)
        self._listeners.clear()

    def _call(self, hook, *args, logs=None):
        """Call ``hook`` on every callback that implements it, in list order, with plain logs:
        positional for the epoch and begin/end hooks, as ``logs=`` for the batch hooks (what
        Keras does). Callbacks that keep the base class's empty hook are skipped, so a batch
        costs nothing when nobody listens."""
        listeners = self._listeners.get(hook)
        if listeners is None:
            listeners = self._listeners[hook] = [
                callback for callback in self.callbacks if _implements(callback, hook)]
        if not listeners:
            return
        logs = pythonify_logs(logs)
        for callback in listeners:
            if "batch" in hook:
                getattr(callback, hook)(*args, logs=logs)
            else:
                getattr(callback, hook)(*args, logs)

    def _on_begin(self):
        self._in_begin_end_block_count += 1

    def _on_end(self):
        self._in_begin_end_block_count -= 1
        if self._in_begin_end_block_count < 0:
            raise ValueError("`on_xxx_end` called without corresponding `on_xxx_begin`")

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs=logs)

    def on_train_begin(self, logs=None):
        self._on_begin()
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs=logs)
        self._on_end()

    def on_test_begin(self, logs=None):
        self._on_begin()
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs=logs)
        self._on_end()

    def on_predict_begin(self, logs=None):
        self._on_begin()
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs=logs)
        self._on_end()
