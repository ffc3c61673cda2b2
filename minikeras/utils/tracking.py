"""Attribute tracking, as Keras does it (``keras/src/utils/tracking.py``).

A layer owns the layers, variables and metrics assigned to its attributes, ``self.dense =
Dense(4)``, and also those held in a list, tuple or dict attribute, ``self.blocks = [Dense(4),
Dense(2)]``: their weights are the layer's weights, so ``fit`` trains them and the files save
them. The layer hands each value it is given to its ``Tracker``, which records the state it
finds (the layer says what counts, through ``store``) and returns lists and dicts wrapped as a
``TrackedList`` / ``TrackedDict``: a copy that records what is appended or set later, and
forgets what is removed.

Inside ``no_automatic_dependency_tracking`` nothing is recorded: Keras (and minikeras) keep
some state that is not a layer's weights that way, such as a stateful RNN's carried states.

A layer keeps what it owns in ``StateList``s, and every change to one of them counts in
``version``: so a model can keep its walk over the layer tree (its weights, its layers) until
the tree changes, instead of walking it again at every training step.
"""

import contextlib
import functools

_enabled = True
version = 0  # how many times any layer gained or lost a sublayer, variable or metric


class StateList(list):
    """A layer's list of its sublayers, variables or metrics: each change moves ``version``."""

    def _changed(self):
        global version
        version += 1


def _changing(method):
    def change(self, *args, **kwargs):
        self._changed()
        return method(self, *args, **kwargs)

    change.__name__ = method.__name__
    return change


for _name in ("append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
              "__setitem__", "__delitem__", "__iadd__"):
    setattr(StateList, _name, _changing(getattr(list, _name)))


@contextlib.contextmanager
def untracked():
    """A block in which attributes are set without tracking."""
    global _enabled
    previous, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = previous


def no_automatic_dependency_tracking(fn):
    """``fn`` sets its attributes without tracking (Keras's decorator of the same name)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with untracked():
            return fn(*args, **kwargs)

    return wrapper


class Tracker:
    """``store(value)`` records ``value`` in its layer and says whether it was state (a layer,
    variable or metric); ``forget(value)`` removes it again."""

    def __init__(self, store, forget):
        self.store = store
        self.forget = forget

    def track(self, value):
        """``value`` as it should be kept: state is recorded; the items of a tuple, list or dict
        are tracked and a list or dict is kept as a tracked copy. (Other containers, a Counter
        or a deque, are kept as they are.)"""
        if not _enabled or self.store(value):
            return value
        kind = type(value)
        if kind is tuple or (issubclass(kind, tuple) and hasattr(kind, "_fields")):
            items = [self.track(item) for item in value]
            return kind(items) if kind is tuple else kind(*items)
        if kind is list or kind is TrackedList:
            return TrackedList(value, self)
        if kind is dict or kind is TrackedDict:
            return TrackedDict(value, self)
        return value

    def untrack(self, value):
        if _enabled:
            self.forget(value)


class TrackedList(list):
    """A list that tracks what it is given and untracks what it loses."""

    def __init__(self, values=(), tracker=None):
        self.tracker = tracker
        super().__init__(values if tracker is None else [tracker.track(v) for v in values])

    def _track(self, value):
        return value if self.tracker is None else self.tracker.track(value)

    def _untrack(self, value):
        if self.tracker is not None:
            self.tracker.untrack(value)

    def append(self, value):
        super().append(self._track(value))

    def insert(self, index, value):
        super().insert(index, self._track(value))

    def extend(self, values):
        super().extend([self._track(v) for v in values])

    def __iadd__(self, values):
        self.extend(values)
        return self

    def __setitem__(self, index, value):
        old = self[index]
        new = [self._track(v) for v in value] if isinstance(index, slice) else self._track(value)
        super().__setitem__(index, new)
        for item in old if isinstance(index, slice) else [old]:
            if not any(item is kept for kept in self):
                self._untrack(item)

    def __delitem__(self, index):
        old = self[index]
        super().__delitem__(index)
        for item in old if isinstance(index, slice) else [old]:
            self._untrack(item)

    def pop(self, index=-1):
        value = super().pop(index)
        self._untrack(value)
        return value

    def remove(self, value):
        index = next((i for i, item in enumerate(self) if item is value), None)
        if index is None:
            super().remove(value)  # Python's ValueError (or removal of an equal item)
        else:
            del self[index]

    def clear(self):
        for value in self:
            self._untrack(value)
        super().clear()


class TrackedDict(dict):
    """A dict that tracks the values it is given and untracks those it loses."""

    def __init__(self, values=(), tracker=None):
        self.tracker = tracker
        items = values.items() if hasattr(values, "items") else values
        super().__init__(items if tracker is None else
                         [(key, tracker.track(value)) for key, value in items])

    def _track(self, value):
        return value if self.tracker is None else self.tracker.track(value)

    def _untrack(self, value):
        if self.tracker is not None:
            self.tracker.untrack(value)

    def __setitem__(self, key, value):
        super().__setitem__(key, self._track(value))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __delitem__(self, key):
        value = self[key]
        super().__delitem__(key)
        self._untrack(value)

    def pop(self, key, *default):
        if key not in self:
            return super().pop(key, *default)
        value = super().pop(key)
        self._untrack(value)
        return value

    def popitem(self):
        key, value = super().popitem()
        self._untrack(value)
        return key, value

    def clear(self):
        for value in self.values():
            self._untrack(value)
        super().clear()
