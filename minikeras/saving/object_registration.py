"""Custom classes and functions that configs may name (``register_keras_serializable``).

A config names its class; loading turns that name back into a class only through these tables
(and minikeras's own namespaces), never by importing whatever module a file mentions.

    @register_keras_serializable(package="my_package")
    class MyDense(Dense): ...          # saved as registered_name "my_package>MyDense"
"""

import inspect

GLOBAL_CUSTOM_OBJECTS = {}  # "package>Name" -> class or function
GLOBAL_CUSTOM_NAMES = {}  # class or function -> "package>Name"
_SCOPE = [{}]  # the custom objects of the innermost `custom_object_scope`


class CustomObjectScope:
    """``with custom_object_scope({"MyLayer": MyLayer}):`` makes the names resolvable inside."""

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _SCOPE.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _SCOPE.pop()


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The global registry: a dict ``{"package>Name": object}`` you may also edit directly."""
    return GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class or function under ``"package>name"`` (``name`` defaults to
    the object's ``__name__``), so that configs naming it can be loaded."""

    def decorator(arg):
        registered_name = f"{package}>{name if name is not None else arg.__name__}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj):
    """``"package>Name"`` for a registered object, else its plain ``__name__``."""
    return GLOBAL_CUSTOM_NAMES.get(obj, obj.__name__)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered as ``name``: scope first, then the registry, ``custom_objects`` and
    ``module_objects``; ``None`` when no table has it."""
    for table in (_SCOPE[-1], GLOBAL_CUSTOM_OBJECTS, custom_objects or {}, module_objects or {}):
        if name in table:
            return table[name]
    return None
