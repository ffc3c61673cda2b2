"""Global settings (``keras.config``): float type, epsilon, image layout, logging, safety, caps.

Most are the ``minikeras.backend`` functions under their ``keras.config`` names. The switches
that concern machinery minikeras does not have (traceback filtering, flash attention, JAX's NNX)
keep their state, so code that sets and reads them runs, and change nothing else.
"""

import os
import warnings

from minikeras import backend as _backend
from minikeras.backend import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from minikeras.dtype_policies import dtype_policy, set_dtype_policy
from minikeras.saving.serialization import enable_unsafe_deserialization
from minikeras.utils.io_utils import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)

_STATE = {"traceback_filtering": True, "flash_attention": None,
          # as in Keras, the caps can also come from the environment of a script
          "max_epochs": int(os.environ["KERAS_MAX_EPOCHS"])
          if os.environ.get("KERAS_MAX_EPOCHS") else None,
          "max_steps_per_epoch": int(os.environ["KERAS_MAX_STEPS_PER_EPOCH"])
          if os.environ.get("KERAS_MAX_STEPS_PER_EPOCH") else None}


def backend():
    """``'numpy'``: minikeras computes with NumPy (Keras's NumPy backend reports the same)."""
    return _backend.backend()


def set_backend(backend):
    """Only ``'numpy'`` exists in minikeras; Keras's other names raise a clear error."""
    if backend != "numpy":
        raise ValueError(f"minikeras only has the 'numpy' backend. Received: backend={backend}. "
                         "To run on TensorFlow, JAX or PyTorch, use Keras itself.")


# --- traceback filtering: minikeras does not filter tracebacks, the flag is kept for parity ---
def enable_traceback_filtering():
    _STATE["traceback_filtering"] = True


def disable_traceback_filtering():
    _STATE["traceback_filtering"] = False


def is_traceback_filtering_enabled():
    return _STATE["traceback_filtering"]


# --- flash attention: a GPU kernel; the flag is kept. As in Keras, the default reads None ------
def enable_flash_attention():
    _STATE["flash_attention"] = None


def disable_flash_attention():
    _STATE["flash_attention"] = False


def is_flash_attention_enabled():
    """``None`` (the default, "use it when possible", as in Keras) or ``False``."""
    return _STATE["flash_attention"]


def is_nnx_enabled():
    """Flax NNX support of Keras's JAX backend: never in minikeras."""
    return False


# --- caps for quick debugging runs: honored by ``fit`` --------------------------------------
def set_max_epochs(max_epochs):
    """Cap ``epochs`` of every ``fit`` call (``None``: no cap); ``fit`` warns when it applies."""
    _STATE["max_epochs"] = max_epochs


def max_epochs():
    return _STATE["max_epochs"]


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Cap the batches of each ``fit`` epoch (``None``: no cap); ``fit`` warns when it applies."""
    _STATE["max_steps_per_epoch"] = max_steps_per_epoch


def max_steps_per_epoch():
    return _STATE["max_steps_per_epoch"]


def _capped(epochs, steps_per_epoch):
    """``fit``'s ``epochs`` and ``steps_per_epoch`` after the two caps, with Keras's warnings."""
    cap = _STATE["max_epochs"]
    if cap and cap < epochs:
        warnings.warn(f"Limiting epochs to {cap}", stacklevel=3)
        epochs = cap
    cap = _STATE["max_steps_per_epoch"]
    if cap and (not steps_per_epoch or cap < steps_per_epoch):
        warnings.warn(f"Limiting steps_per_epoch to {cap}", stacklevel=3)
        steps_per_epoch = cap
    return epochs, steps_per_epoch


__all__ = [
    "backend", "disable_flash_attention", "disable_interactive_logging",
    "disable_traceback_filtering", "dtype_policy", "enable_flash_attention",
    "enable_interactive_logging", "enable_traceback_filtering", "enable_unsafe_deserialization",
    "epsilon", "floatx", "image_data_format", "is_flash_attention_enabled",
    "is_interactive_logging_enabled", "is_nnx_enabled", "is_traceback_filtering_enabled",
    "max_epochs", "max_steps_per_epoch", "set_backend", "set_dtype_policy", "set_epsilon",
    "set_floatx", "set_image_data_format", "set_max_epochs", "set_max_steps_per_epoch",
]
