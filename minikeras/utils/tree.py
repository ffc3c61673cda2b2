"""Nested structures of tensors (``keras.tree``): a model's inputs may be one tensor, a list or a
dict. ``flatten`` lists the leaves (dict values in sorted key order, as Keras does),
``map_structure`` applies a function to each leaf, ``pack_sequence_as`` puts leaves back."""


def flatten(structure):
    """The leaves of ``structure``, depth first."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def map_structure(fn, structure):
    """The same structure with ``fn(leaf)`` in place of every leaf."""
    if isinstance(structure, dict):
        return {key: map_structure(fn, value) for key, value in structure.items()}
    if isinstance(structure, list | tuple):
        return type(structure)(map_structure(fn, item) for item in structure)
    return fn(structure)


def pack_sequence_as(structure, flat):
    """``structure`` with its leaves replaced, in ``flatten`` order, by the items of ``flat``."""
    leaves = iter(flat)

    def pack(item):
        if isinstance(item, dict):
            packed = {key: pack(item[key]) for key in sorted(item)}
            return {key: packed[key] for key in item}
        if isinstance(item, list | tuple):
            return type(item)(pack(x) for x in item)
        return next(leaves)

    return pack(structure)
