"""minikeras: Keras rebuilt in plain NumPy.

``import minikeras as keras`` and a tutorial's Keras code runs, with every derivative readable in
``minikeras/ops``.
"""

from minikeras.tensor import Tensor  # first: it wires Python's operators to minikeras.ops
from minikeras import backend, ops  # noqa: I001
from minikeras.autodiff import GradientTape
from minikeras.variables import Variable

__version__ = "0.1.0"
