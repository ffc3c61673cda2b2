"""``minikeras.models``: Sequential and the Model base class."""

from minikeras.models.model import Model
from minikeras.models.sequential import Sequential

__all__ = ["Model", "Sequential"]
