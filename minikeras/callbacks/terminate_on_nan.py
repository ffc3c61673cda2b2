"""TerminateOnNaN: stop ``fit`` at the first NaN or infinite loss
(``keras.callbacks.TerminateOnNaN``)."""

import numpy as np

from minikeras.callbacks.callback import Callback, print_msg


class TerminateOnNaN(Callback):
    """``TerminateOnNaN(raise_error=False)``: after each training batch, if ``logs['loss']`` is
    NaN or ±inf, set ``model.stop_training = True`` (the epoch's remaining batches are skipped and
    ``on_train_end`` still runs), or raise RuntimeError with ``raise_error=True``."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None and (np.isnan(loss) or np.isinf(loss)):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                                   f"{loss}. Terminating training immediately.")
            print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
