"""minikeras: Keras rebuilt in plain NumPy.

``import minikeras as keras`` and a tutorial's Keras code runs, with every derivative readable in
``minikeras/ops``.
"""

from minikeras import (
    activations,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    preprocessing,
    random,
    regularizers,
    saving,
    tree,
    utils,
)
from minikeras.autodiff import GradientTape
from minikeras.backend_contexts import device, name_scope
from minikeras.dtype_policies import DTypePolicy, FloatDTypePolicy
from minikeras.initializers import Initializer
from minikeras.layers import Input, InputSpec, KerasTensor, Layer
from minikeras.losses import Loss
from minikeras.metrics import Metric
from minikeras.models import Model, Sequential
from minikeras.optimizers import Optimizer
from minikeras.regularizers import Regularizer
from minikeras.tensor import Tensor
from minikeras.variables import Variable

__version__ = "0.1.0"


def version():
    """minikeras's version string (``keras.version()`` returns Keras's)."""
    return __version__


__all__ = [
    "DTypePolicy", "FloatDTypePolicy", "GradientTape", "Initializer", "Input", "InputSpec",
    "KerasTensor", "Layer", "Loss", "Metric", "Model", "Optimizer", "Regularizer", "Sequential",
    "Tensor", "Variable", "activations", "backend", "callbacks", "config", "constraints",
    "datasets", "device", "initializers", "layers", "losses", "metrics", "mixed_precision",
    "models", "name_scope", "ops", "optimizers", "preprocessing", "random", "regularizers",
    "saving", "tree", "utils", "version",
]
