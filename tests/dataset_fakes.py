"""Small fake dataset files with the structure of the real ones, and a ``file://`` "server".

No test may download: each test writes fakes into a temporary server folder and points the
dataset module's origin (``_ORIGIN`` or ``_ORIGIN_FOLDER``) and hash at them, so ``get_file``
really "downloads" them with urllib, checks their sha256 and caches them under ``KERAS_HOME``.

What the real files hold (from Keras 3.15's loaders):

- ``mnist.npz``: ``x_train`` (60000, 28, 28), ``y_train`` (60000,), ``x_test``, ``y_test``, uint8.
- fashion-mnist: four gzipped IDX files; labels after an 8-byte header, images after 16 bytes.
- ``boston_housing.npz`` / ``california_housing.npz``: ``x`` (n, 13) / (n, 8) and ``y`` (n,).
- ``cifar-10-python.tar.gz``: ``cifar-10-batches-py/data_batch_1..5`` and ``test_batch``, each a
  Python 2 pickle (protocol 2, byte strings, NumPy 1's ``numpy.core.multiarray`` names) of
  ``{b"batch_label", b"labels": [int], b"data": uint8 (n, 3072), b"filenames": [bytes]}``;
  ``cifar-100-python.tar.gz``: ``cifar-100-python/train`` and ``test`` with ``b"fine_labels"``
  and ``b"coarse_labels"``.
- ``imdb.npz``: ``x_train``, ``x_test`` object arrays of lists of ints, ``y_train``, ``y_test``
  int arrays; ``reuters.npz``: ``x`` (object array of lists) and ``y``.
"""

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
import zipfile

import numpy as np


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def serve(monkeypatch, module, server, name):
    """Point ``module._ORIGIN`` at ``server/name`` and ``module._FILE_HASH`` at its sha256."""
    monkeypatch.setattr(module, "_ORIGIN", (server / name).as_uri())
    monkeypatch.setattr(module, "_FILE_HASH", sha256(server / name))


def serve_folder(monkeypatch, module, server, **hashes):
    """Point ``module._ORIGIN_FOLDER`` at ``server/``; set hash attributes (``_FILE_HASH`` etc.)
    to the sha256 of the named files: ``serve_folder(mp, imdb, server, _FILE_HASH="imdb.npz")``."""
    monkeypatch.setattr(module, "_ORIGIN_FOLDER", server.as_uri() + "/")
    for attr, name in hashes.items():
        monkeypatch.setattr(module, attr, sha256(server / name))


def object_array(sequences):
    """A 1-D object array of Python lists (np.array would make a 2-D array of equal lengths)."""
    out = np.empty(len(sequences), dtype=object)
    for i, seq in enumerate(sequences):
        out[i] = [int(w) for w in seq]
    return out


# --- writers -----------------------------------------------------------------------------------
def write_mnist(path, n_train=6, n_test=4, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}
    np.savez(path, **arrays)
    return arrays


def write_fashion_mnist(folder, n_train=5, n_test=3, seed=0):
    """The four IDX files, gzipped; returns the arrays they hold."""
    rng = np.random.default_rng(seed)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}
    def labels(y):
        return struct.pack(">II", 2049, len(y)) + y.tobytes()

    def images(x):
        return struct.pack(">IIII", 2051, len(x), 28, 28) + x.tobytes()

    files = {"train-labels-idx1-ubyte.gz": labels(arrays["y_train"]),
             "train-images-idx3-ubyte.gz": images(arrays["x_train"]),
             "t10k-labels-idx1-ubyte.gz": labels(arrays["y_test"]),
             "t10k-images-idx3-ubyte.gz": images(arrays["x_test"])}
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(gzip.compress(data))
    return arrays


def write_housing(path, n=20, features=13, seed=0):
    """x and y with row i recognisable: y[i] = i and x[i, 0] = i."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    x[:, 0] = np.arange(n)
    y = np.arange(n, dtype="float64")
    np.savez(path, x=x, y=y)
    return x, y


class Py2Pickler(pickle._Pickler):
    """Writes ``bytes`` with Python 2's string opcodes, as the real CIFAR files (pickled by Python
    2) have them. Python 3's protocol 2 would instead call ``_codecs.encode``, a global that
    neither Keras nor minikeras allows."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def py2_pickle(obj):
    """``obj`` pickled as Python 2 with NumPy 1 would: protocol 2, ``numpy.core`` names."""
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def cifar_batch(n, seed, label_keys=("labels",), classes=(10,)):
    rng = np.random.default_rng(seed)
    batch = {b"batch_label": b"fake batch",
             b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(n)]}
    for key, k in zip(label_keys, classes, strict=True):
        batch[key.encode()] = [int(v) for v in rng.integers(0, k, n)]
    return batch


def write_tar(path, files, mode="w:gz", compresslevel=1):
    """``files``: ``{member name: bytes}``."""
    kwargs = {"compresslevel": compresslevel} if mode.endswith("gz") else {}
    with tarfile.open(path, mode, **kwargs) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def write_cifar10(path, batch_size=2, test_size=3, mode="w:gz"):
    """A ``cifar-10-python.tar.gz`` with five training batches of ``batch_size`` images."""
    batches = {f"data_batch_{i}": cifar_batch(batch_size, i) for i in range(1, 6)}
    batches["test_batch"] = cifar_batch(test_size, 99)
    write_tar(path, {f"cifar-10-batches-py/{k}": py2_pickle(v) for k, v in batches.items()},
              mode=mode)
    return batches


def write_cifar100(path, n_train=4, n_test=3):
    keys, classes = ("fine_labels", "coarse_labels"), (100, 20)
    batches = {"train": cifar_batch(n_train, 1, keys, classes),
               "test": cifar_batch(n_test, 2, keys, classes)}
    write_tar(path, {f"cifar-100-python/{k}": py2_pickle(v) for k, v in batches.items()})
    return batches


def random_sequences(rng, n, vocab=30, max_len=12):
    return [list(rng.integers(1, vocab, int(rng.integers(1, max_len)))) for _ in range(n)]


def write_imdb(path, n_train=8, n_test=6, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {"x_train": object_array(random_sequences(rng, n_train)),
              "y_train": rng.integers(0, 2, n_train).astype("int64"),
              "x_test": object_array(random_sequences(rng, n_test)),
              "y_test": rng.integers(0, 2, n_test).astype("int64")}
    np.savez(path, **arrays)
    return arrays


def write_reuters(path, n=15, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {"x": object_array(random_sequences(rng, n)), "y": rng.integers(0, 46, n)}
    np.savez(path, **arrays)
    return arrays


# --- malicious files ---------------------------------------------------------------------------
class RunsCommand:
    """Unpickling this calls ``os.system(command)``: the classic malicious pickle."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        import os

        return (os.system, (self.command,))


def npz_with_pickle_member(path, name, pickled):
    """An ``.npz`` whose member ``name.npy`` declares an object array and holds ``pickled``."""
    header = io.BytesIO()  # magic, version 1.0, then the header dict
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}.npy", header.getvalue() + pickled)
