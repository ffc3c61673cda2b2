"""Reading pickled dataset files without letting them run code.

A pickle is a small program: it names functions (``GLOBAL`` opcodes) and calls them
(``REDUCE``). ``np.load(allow_pickle=True)`` or ``pickle.load`` will call *any* function a file
names, ``os.system`` included. The dataset files only ever need three names to rebuild a NumPy
array, so ``RestrictedUnpickler`` allows those and refuses every other name before calling
anything. Lists, ints and bytes need no names: pickle builds them with its own opcodes.

The same three names are what Keras 3.15 allows (``keras/src/datasets/npz_utils.py``); both
spellings of ``multiarray`` are listed because files written under NumPy 1 say ``numpy.core``
and files written under NumPy 2 say ``numpy._core``.
"""

import io
import pickle

import numpy as np

_ALLOWED_PICKLE_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild NumPy arrays, lists, ints and bytes, and nothing else."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to deserialize `{module}.{name}` while loading a Keras dataset. "
            "The file may be corrupted or malicious.")


def load_npy_member(fp):
    """Read one ``.npy`` stream. Numeric arrays are read with pickling off; an object array
    (ragged sequences: a pickle inside the ``.npy``) is read with ``RestrictedUnpickler``."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        _, _, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version in ((2, 0), (3, 0)):  # 3.0 differs from 2.0 only in the header's text encoding
        _, _, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"Unsupported `.npy` file version: {version}.")
    if not dtype.hasobject:
        fp.seek(0)
        return np.lib.format.read_array(fp, allow_pickle=False)
    array = RestrictedUnpickler(fp).load()  # the pickle starts right after the header
    if not isinstance(array, np.ndarray):
        raise pickle.UnpicklingError(
            f"Expected a NumPy array in the dataset file, found {type(array).__name__}.")
    return array


def load_npz(path):
    """``{name: array}`` for every ``name.npy`` in the ``.npz`` archive at ``path``: a safe
    stand-in for ``np.load(path, allow_pickle=True)``."""
    import zipfile  # imported here, not at the top: ``import minikeras`` stays fast

    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    arrays[member[: -len(".npy")]] = load_npy_member(io.BytesIO(raw.read()))
    return arrays
