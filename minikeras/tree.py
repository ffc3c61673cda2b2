"""Nested structures (``keras.tree``, Keras's ``keras/src/tree/tree_api.py`` over optree).

A model's inputs may be one tensor, a list, a tuple, a dict or a namedtuple of them, nested. The
containers are the *structure*, everything else (``None`` included) is a *leaf*:

    flatten({"b": 1, "a": [2, (3, None)]})   ->  [2, 3, None, 1]   dict values in sorted key order
    flatten_with_path(...)                    ->  [(("a", 0), 2), (("a", 1, 0), 3), ...]
    map_structure(f, s1, s2)                  ->  same structure as s1, f(leaf1, leaf2) at each leaf
    pack_sequence_as(s, flat)                 ->  s with its leaves replaced, in flatten order

Containers: list, tuple, namedtuple, dict (sorted keys; an ``OrderedDict`` keeps its own order)
and ``collections.deque``; rebuilt with their own type (a dict keeps its key insertion order).
"""

import collections
import warnings

__all__ = [
    "MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
    "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure",
    "map_structure_up_to", "pack_sequence_as", "traverse",
]


class MAP_TO_NONE:
    """Return this from a ``traverse`` function to put ``None`` in place of a sub-tree
    (returning ``None`` itself means "keep going down")."""


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _keys(node):
    """The child keys of a container in flatten order (``None`` for a leaf)."""
    if isinstance(node, dict):
        if isinstance(node, collections.OrderedDict):
            return list(node)
        try:
            return sorted(node)
        except TypeError:  # mixed key types: grouped by type name, as optree does
            try:
                return sorted(node, key=lambda k: (type(k).__qualname__, k))
            except TypeError:  # keys that do not sort at all: insertion order
                return list(node)
    if isinstance(node, list | tuple | collections.deque):
        return list(range(len(node)))
    return None


def _is_leaf(x, none_is_leaf=True):
    return _keys(x) is None and not (x is None and not none_is_leaf)


def _children(node):
    return [node[key] for key in _keys(node)] if _keys(node) is not None else []


def _rebuild(node, children):
    """A container like ``node`` holding ``children`` (given in flatten order)."""
    if node is None:
        return None
    if isinstance(node, dict):
        by_key = dict(zip(_keys(node), children, strict=True))
        items = [(key, by_key[key]) for key in node]  # the dict's own key order
        if isinstance(node, collections.defaultdict):
            return collections.defaultdict(node.default_factory, items)
        return type(node)(items)
    if _is_namedtuple(node):
        return type(node)(*children)
    if isinstance(node, collections.deque):
        return collections.deque(children, maxlen=node.maxlen)
    return type(node)(children)


def _kind(node):
    if isinstance(node, dict):
        return "dict"
    if _is_namedtuple(node):
        return "collections.namedtuple"
    if isinstance(node, collections.deque):
        return "collections.deque"
    return type(node).__name__


def _check_node(node, other):
    """``other`` must be a container of ``node``'s kind with the same keys (optree's messages)."""
    kind = _kind(node)
    if node is None:
        if other is not None:
            raise ValueError(f"Expected None, got {other!r}.")
        return
    same_type = (isinstance(other, dict) if kind == "dict"
                 else type(other) is type(node) if kind == "collections.namedtuple"
                 else isinstance(other, collections.deque) if kind == "collections.deque"
                 else type(other) is type(node))
    if not same_type and kind == "collections.namedtuple" and _is_namedtuple(other):
        raise ValueError(f"namedtuple type mismatch; expected type: {type(node)}, got type: "
                         f"{type(other)}; tuple: {other!r}.")
    if not same_type:
        raise ValueError(f"Expected an instance of {kind}, got {other!r}.")
    if kind == "dict":
        if set(node) != set(other):
            expected, got = _keys(node), _keys(other)
            missing = [key for key in expected if key not in other]
            extra = [key for key in got if key not in node]
            raise ValueError(f"dictionary key mismatch; expected key(s): {expected}, got key(s): "
                             f"{got}, missing key(s): {missing}, extra key(s): {extra}; "
                             f"dict: {other!r}.")
    elif len(node) != len(other):
        raise ValueError(f"{type(node).__name__} arity mismatch; expected: {len(node)}, got: "
                         f"{len(other)}; {type(node).__name__}: {other!r}.")


def is_nested(structure):
    """Whether ``structure`` is a container (list, tuple, dict, namedtuple, deque), not a leaf."""
    return _keys(structure) is not None


def flatten(structure):
    """The leaves of ``structure``, depth first (dict values in sorted key order)."""
    return [leaf for _, leaf in flatten_with_path(structure)]


def flatten_with_path(structure):
    """``(path, leaf)`` pairs, a path being the tuple of keys and indices down to the leaf."""
    if _is_leaf(structure):
        return [((), structure)]
    return [((key, *path), leaf) for key in _keys(structure)
            for path, leaf in flatten_with_path(structure[key])]


def map_structure(func, *structures, none_is_leaf=True):
    """``func`` applied leaf by leaf across ``structures``, which must be nested alike (same
    container types, lengths and dict keys); the result has the first structure's layout.

    With ``none_is_leaf=False`` a ``None`` is kept as is instead of being passed to ``func``."""
    if not structures:
        raise ValueError("Must provide at least one structure")
    first = structures[0]
    if _is_leaf(first, none_is_leaf):
        if len(structures) > 1 and not all(_is_leaf(s, none_is_leaf) for s in structures):
            raise ValueError("Structures don't have the same nested structure.")
        return func(*structures)
    for other in structures[1:]:
        _check_node(first, other)
    if first is None:  # none_is_leaf=False: a None stays None, func is not called
        return None
    children = [map_structure(func, *(s[key] for s in structures), none_is_leaf=none_is_leaf)
                for key in _keys(first)]
    return _rebuild(first, children)


def map_structure_up_to(shallow_structure, func, *structures):
    """``map_structure`` that stops at ``shallow_structure``'s leaves: whatever ``structures``
    hold there (leaf or sub-tree) is passed to ``func`` whole.

        map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]])  ->  ['[1, 1]', ['2', '2']]
    """
    if not structures:
        raise ValueError("Must provide at least one structure")
    if _is_leaf(shallow_structure):
        return func(*structures)
    for other in structures:
        _check_node(shallow_structure, other)
    children = [map_structure_up_to(shallow_structure[key], func, *(s[key] for s in structures))
                for key in _keys(shallow_structure)]
    return _rebuild(shallow_structure, children)


def assert_same_structure(a, b, check_types=None):
    """Raise ``ValueError`` unless ``a`` and ``b`` are nested alike: the same container types
    (list, tuple and each namedtuple class differ; dict kinds match on keys), lengths, keys."""
    if check_types is not None:
        warnings.warn("The `check_types` argument is deprecated and no longer has any effect"
                      + (", please remove." if check_types else
                         ". For a looser check, use `keras.tree.assert_same_paths()`, which "
                         "considers `list`, `tuple`, `namedtuple` and `deque` as matching"),
                      DeprecationWarning, stacklevel=2)
    map_structure(lambda x, y: None, a, b)


def assert_same_paths(a, b):
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same leaf paths (container types may
    differ: ``[1, 2]`` and ``(3, 4)`` match)."""
    a_paths = {path for path, _ in flatten_with_path(a)}
    b_paths = {path for path, _ in flatten_with_path(b)}
    if a_paths != b_paths:
        msg = "`a` and `b` don't have the same paths."
        if a_paths - b_paths:
            msg += f"\nPaths in `a` missing in `b`:\n{a_paths - b_paths}"
        if b_paths - a_paths:
            msg += f"\nPaths in `b` missing in `a`:\n{b_paths - a_paths}"
        raise ValueError(msg)


def pack_sequence_as(structure, flat_sequence):
    """``structure`` with its leaves replaced, in ``flatten`` order, by ``flat_sequence``'s
    items (there must be exactly as many)."""
    if isinstance(flat_sequence, str | bytes) or not hasattr(flat_sequence, "__iter__"):
        raise TypeError(f"`flat_sequence` must be a sequence of leaves. Received: "
                        f"{flat_sequence!r} of type {type(flat_sequence).__name__}")
    flat = list(flat_sequence)
    expected = len(flatten(structure))
    if len(flat) < expected:
        raise ValueError(f"Too few leaves for PyTreeSpec; expected: {expected}, got: "
                         f"{len(flat)}.")
    if len(flat) > expected:
        raise ValueError(f"Too many leaves for PyTreeSpec; expected: {expected}.")
    leaves = iter(flat)

    def pack(node):
        if _is_leaf(node):
            return next(leaves)
        return _rebuild(node, [pack(child) for child in _children(node)])

    return pack(structure)


def traverse(func, structure, top_down=True):
    """Call ``func`` on every sub-tree. Top down (default): where ``func`` returns ``None`` the
    walk goes on into the children, anything else replaces the sub-tree (``MAP_TO_NONE``
    puts ``None``). Bottom up: children first, then ``func`` on the rebuilt sub-tree."""

    def traverse_children():
        if _is_leaf(structure):
            return structure
        return _rebuild(structure, [traverse(func, child, top_down=top_down)
                                    for child in _children(structure)])

    if top_down:
        result = func(structure)
        if result is None:
            return traverse_children()
    else:
        traversed = traverse_children()
        result = func(traversed)
        if result is None:
            return traversed
    return None if result is MAP_TO_NONE else result


def lists_to_tuples(structure):
    """Every list in ``structure`` turned into a tuple (bottom up, so nested ones too)."""
    return traverse(lambda node: tuple(node) if isinstance(node, list) else None, structure,
                    top_down=False)


def map_shape_structure(func, structure):
    """``map_structure`` where a shape (a list or tuple of ints and ``None``s) is one leaf."""

    def is_shape(x):
        return isinstance(x, list | tuple) and all(isinstance(e, int | type(None)) for e in x)

    if is_shape(structure) or _is_leaf(structure):
        return func(structure)
    return _rebuild(structure, [map_shape_structure(func, child)
                                for child in _children(structure)])
