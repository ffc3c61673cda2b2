"""``keras.name_scope`` and ``keras.device``: the context managers Keras code opens around its
work. minikeras has one device (the CPU, through NumPy) and no graph, so both only keep state:
the name scopes a stack of names, the device a check that the device asked for is the CPU."""

import contextlib
import re

_NAME_SCOPE_STACK = []


class name_scope:
    """Opens a sub-namespace ``name`` (Keras uses it for variable paths such as
    ``"outer/inner/kernel"``); ``current_path()`` gives the open scopes joined by ``/``.

    As Keras: ``name`` must be a string without ``/``; with ``deduplicate`` (default) entering
    a scope of the same ``name`` and ``caller`` as the innermost one does not nest again."""

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character "
                             f"`/`. Received: name={name}")
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        if (override_parent is None and deduplicate
                and getattr(caller, "_parent_path", None) is not None):
            self.override_parent = caller._parent_path
        self._pop_on_exit = False

    def __enter__(self):
        if self.deduplicate and _NAME_SCOPE_STACK:
            parent = _NAME_SCOPE_STACK[-1]
            if self.caller is not None and self.caller is parent.caller \
                    and self.name == parent.name:
                return self
        _NAME_SCOPE_STACK.append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *args, **kwargs):
        if self._pop_on_exit and _NAME_SCOPE_STACK:
            _NAME_SCOPE_STACK.pop()


def current_path():
    """The open name scopes joined by ``/`` (``""`` when none is open); a scope with
    ``override_parent`` starts the path afresh from that parent."""
    path = []
    for scope in _NAME_SCOPE_STACK:
        if scope.override_parent is not None:
            path = [scope.override_parent] if scope.override_parent else []
        path.append(scope.name)
    return "/".join(path)


_CPU = re.compile(r"^/?(?:job:[^/]+/)?(?:replica:\d+/)?(?:task:\d+/)?(?:device:)?cpu(?::\d+)?$",
                  re.IGNORECASE)
_CURRENT_DEVICE = ["cpu:0"]


@contextlib.contextmanager
def device(device_name):
    """Place the computations inside on ``device_name``: ``"cpu"``, ``"cpu:0"``, ``"/cpu:0"``
    or ``"/device:CPU:0"`` are accepted (minikeras computes with NumPy on the CPU only);
    a GPU or TPU name raises ``ValueError``."""
    if not isinstance(device_name, str) or not _CPU.match(device_name.strip()):
        raise ValueError(f"minikeras computes on the CPU only (with NumPy), so it cannot place "
                         f"work on device {device_name!r}. Use keras.device('cpu:0'), or run "
                         f"the same code with Keras to use a GPU or TPU.")
    _CURRENT_DEVICE.append(device_name)
    try:
        yield
    finally:
        _CURRENT_DEVICE.pop()
