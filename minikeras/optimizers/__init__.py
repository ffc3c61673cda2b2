"""Optimizers (``keras.optimizers``): how the gradients change the weights.

``model.compile(optimizer="adam")`` or ``optimizer=SGD(learning_rate=0.1, momentum=0.9)``. Each
optimizer lives in its own file with its update rule in the class docstring; ``optimizer.py`` holds
the pipeline they share (clipping, weight decay, constraints, the iteration counter), and
``schedules`` the learning-rate schedules.
"""

from minikeras.optimizers import schedules
from minikeras.optimizers.adadelta import Adadelta
from minikeras.optimizers.adafactor import Adafactor
from minikeras.optimizers.adagrad import Adagrad
from minikeras.optimizers.adam import Adam
from minikeras.optimizers.adamax import Adamax
from minikeras.optimizers.adamw import AdamW
from minikeras.optimizers.ftrl import Ftrl
from minikeras.optimizers.lamb import Lamb
from minikeras.optimizers.lion import Lion
from minikeras.optimizers.loss_scale_optimizer import LossScaleOptimizer
from minikeras.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from minikeras.optimizers.muon import Muon
from minikeras.optimizers.nadam import Nadam
from minikeras.optimizers.optimizer import Optimizer
from minikeras.optimizers.rmsprop import RMSprop
from minikeras.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from minikeras.optimizers.sgd import SGD
from minikeras.saving import serialization
from minikeras.saving.object_registration import get_registered_object

__all__ = ["Adadelta", "Adafactor", "Adagrad", "Adam", "Adamax", "AdamW", "Ftrl", "Lamb", "Lion",
           "LossScaleOptimizer", "MultiOptimizer", "Muon", "Nadam", "Optimizer", "OptimizerMap",
           "RMSprop", "SGD", "ScheduleFreeAdamW", "schedules", "serialize", "deserialize", "get"]

# Keras 3.15 leaves Lamb out of its list, so there ``get("lamb")`` raises and ``deserialize``
# returns the string "Lamb"; minikeras resolves it like the others (docs/keras-compatibility.md).
ALL_OBJECTS = (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Ftrl, Lion, Lamb,
               Adafactor, Muon, MultiOptimizer, OptimizerMap, LossScaleOptimizer, ScheduleFreeAdamW)
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}


def serialize(optimizer):
    """Keras's dict: ``{"module": "keras.optimizers", "class_name": "Adam", "config": {...},
    "registered_name": None}``; a class registered with ``register_keras_serializable`` keeps its
    module and ``"package>Name"``."""
    return serialization.serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """An optimizer from ``serialize``'s dict; built-in class names are case-insensitive."""
    if config["class_name"].lower() in ALL_OBJECTS_DICT:
        config = {**config, "class_name": config["class_name"].lower()}
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT)


def get(identifier):
    """An optimizer from a name (``'adam'``, ``'SGD'``..., or a registered ``'package>Name'``), a
    config dict, or an instance (returned unchanged). ``None`` gives ``None``."""
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and (identifier.lower() in ALL_OBJECTS_DICT
                                        or get_registered_object(identifier) is not None):
        identifier = {"class_name": identifier, "config": {}}
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Valid names "
                     f"(case-insensitive): {sorted(ALL_OBJECTS_DICT)}")
