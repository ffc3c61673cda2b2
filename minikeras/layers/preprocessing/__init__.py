"""Preprocessing layers: vocabularies, encodings and bins learned with ``adapt``
(``keras.layers.StringLookup``, ``TextVectorization``, ...), and audio spectrograms
(``MelSpectrogram``; ``STFTSpectrogram``, the one with trainable kernels). Not differentiable,
but for ``STFTSpectrogram``."""

from minikeras.layers.preprocessing.category_encoding import CategoryEncoding
from minikeras.layers.preprocessing.discretization import Discretization
from minikeras.layers.preprocessing.hashed_crossing import HashedCrossing
from minikeras.layers.preprocessing.hashing import Hashing
from minikeras.layers.preprocessing.integer_lookup import IntegerLookup
from minikeras.layers.preprocessing.spectrogram import MelSpectrogram, STFTSpectrogram
from minikeras.layers.preprocessing.string_lookup import StringLookup
from minikeras.layers.preprocessing.text_vectorization import TextVectorization

__all__ = ["CategoryEncoding", "Discretization", "HashedCrossing", "Hashing", "IntegerLookup",
           "MelSpectrogram", "STFTSpectrogram", "StringLookup", "TextVectorization"]
