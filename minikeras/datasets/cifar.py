"""Reading one CIFAR batch file: a Python 2 pickle of a dict.

A batch is ``{b"data": uint8 array (n, 3072), b"labels": [int, ...], b"batch_label": bytes,
b"filenames": [bytes, ...]}`` (CIFAR-100 has ``b"fine_labels"`` and ``b"coarse_labels"``
instead of ``b"labels"``). Each row of ``data`` is the red plane, then green, then blue, 32x32
each. The keys are bytes because Python 2 wrote them (``encoding="bytes"`` keeps them so).
"""

from minikeras.datasets.npz_utils import RestrictedUnpickler


def load_batch(fpath, label_key="labels"):
    """``(data, labels)``: data of shape (n, 3, 32, 32) (channels first, as stored) and the
    labels under ``label_key`` (a list). Only NumPy arrays may be rebuilt from the pickle."""
    with open(fpath, "rb") as f:
        d = RestrictedUnpickler(f, encoding="bytes").load()
    d = {k.decode("utf8"): v for k, v in d.items()}
    data = d["data"]
    labels = d[label_key]
    data = data.reshape(data.shape[0], 3, 32, 32)
    return data, labels
