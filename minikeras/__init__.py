"""minikeras: Keras rebuilt in plain NumPy.

``import minikeras as keras`` and a tutorial's Keras code runs, with every derivative readable in
``minikeras/ops``.
"""

from minikeras import (
    activations,
    backend,
    callbacks,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    regularizers,
    saving,
    utils,
)
from minikeras.autodiff import GradientTape
from minikeras.layers import Input, InputSpec, Layer
from minikeras.models import Model, Sequential
from minikeras.tensor import Tensor
from minikeras.variables import Variable

__version__ = "0.1.0"

__all__ = [
    "GradientTape", "Input", "InputSpec", "Layer", "Model", "Sequential", "Tensor", "Variable",
    "activations", "backend", "callbacks", "constraints", "datasets", "initializers", "layers",
    "losses", "metrics", "models", "ops", "optimizers", "regularizers", "saving", "utils",
]
