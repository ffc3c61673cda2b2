"""Nested structures for the functional API: ``minikeras.tree``'s functions (one implementation)."""

from minikeras.tree import flatten, map_structure, pack_sequence_as

__all__ = ["flatten", "map_structure", "pack_sequence_as"]
