"""``minikeras.models``: Sequential, Functional, the Model base class, and loading / cloning
models."""

from minikeras.models.functional import Functional
from minikeras.models.model import Model
from minikeras.models.sequential import Sequential
from minikeras.saving.saving_api import clone_model, load_model, model_from_json, save_model

__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json",
           "save_model"]
