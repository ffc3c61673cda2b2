"""LambdaCallback: a callback made of plain functions (``keras.callbacks.LambdaCallback``)."""

from minikeras.callbacks.callback import Callback


class LambdaCallback(Callback):
    """``LambdaCallback(on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
    on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None, **kwargs)``.

    Each function given replaces the hook of that name; ``kwargs`` may name any other hook
    (``on_test_end=...``). Epoch hooks get ``(epoch, logs)``, begin/end hooks ``(logs)``, batch
    hooks ``(batch, logs)``.
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end}
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, function)
