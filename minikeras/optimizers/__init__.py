"""Optimizers (``keras.optimizers``): how the gradients change the weights.

``model.compile(optimizer="adam")`` or ``optimizer=SGD(learning_rate=0.1, momentum=0.9)``. Each
optimizer lives in its own file with its update rule in the class docstring; ``optimizer.py`` holds
the pipeline they share (clipping, weight decay, constraints, the iteration counter), and
``schedules`` the learning-rate schedules.
"""

from minikeras.optimizers import schedules
from minikeras.optimizers.adadelta import Adadelta
from minikeras.optimizers.adagrad import Adagrad
from minikeras.optimizers.adam import Adam
from minikeras.optimizers.adamax import Adamax
from minikeras.optimizers.adamw import AdamW
from minikeras.optimizers.ftrl import Ftrl
from minikeras.optimizers.nadam import Nadam
from minikeras.optimizers.optimizer import Optimizer
from minikeras.optimizers.rmsprop import RMSprop
from minikeras.optimizers.sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "Ftrl", "Nadam", "Optimizer",
           "RMSprop", "SGD", "schedules", "serialize", "deserialize", "get"]

ALL_OBJECTS = (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Ftrl)
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}


def serialize(optimizer):
    """Keras's dict: ``{"module": "keras.optimizers", "class_name": "Adam", "config": {...},
    "registered_name": None}`` (a custom class: module None, registered_name its class name)."""
    class_name = type(optimizer).__name__
    builtin = ALL_OBJECTS_DICT.get(class_name.lower()) is type(optimizer)
    return {"module": "keras.optimizers" if builtin else None, "class_name": class_name,
            "config": optimizer.get_config(), "registered_name": None if builtin else class_name}


def deserialize(config, custom_objects=None):
    """An optimizer from ``serialize``'s dict; built-in class names are case-insensitive."""
    custom_objects = custom_objects or {}
    class_name = config.get("class_name") if isinstance(config, dict) else None
    cls = custom_objects.get(class_name) or ALL_OBJECTS_DICT.get(str(class_name).lower())
    if cls is None:
        raise ValueError(f"Could not interpret optimizer identifier: {class_name!r}. Valid "
                         f"names (case-insensitive): {sorted(ALL_OBJECTS_DICT)}")
    return cls.from_config(config.get("config") or {}, custom_objects=custom_objects)


def get(identifier):
    """An optimizer from a name (``'adam'``, ``'SGD'``...), a config dict, or an instance (returned
    unchanged). ``None`` gives ``None``."""
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Valid names "
                     f"(case-insensitive): {sorted(ALL_OBJECTS_DICT)}")
