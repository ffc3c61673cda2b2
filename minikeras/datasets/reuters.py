"""Reuters: 11,228 newswires labelled with one of 46 topics, each a list of word indices.

Encoded like IMDB (``imdb.py``): indices by frequency, shifted by ``index_from`` (3) to leave 0
(padding), ``start_char`` (1) and ``oov_char`` (2). ``reuters.npz`` holds ``x`` (an object array
of lists) and ``y``; unlike IMDB, the split into training and test sets is made here, after the
seeded shuffle (``test_split``). Read with the restricted unpickler of ``npz_utils``.
"""

import numpy as np

from minikeras.datasets import npz_utils
from minikeras.datasets._common import limit_vocabulary, remove_long_seq
from minikeras.utils.file_utils import get_file

_ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"  # sha256
_WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"  # md5
_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """``(x_train, y_train), (x_test, y_test)``: x an object array of lists of ints, y the topic
    indices (0-45, see ``get_label_names()``). ``num_words``, ``skip_top``, ``maxlen``, ``seed``,
    ``start_char``, ``oov_char`` and ``index_from`` work as in ``imdb.load_data``; after the
    shuffle, the last ``test_split`` fraction is the test set."""
    path = get_file(fname=path, origin=f"{_ORIGIN_FOLDER}reuters.npz", file_hash=_FILE_HASH)
    f = npz_utils.load_npz(path)
    xs, labels = f["x"], f["y"]

    indices = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(indices)
    xs, labels = xs[indices], labels[indices]

    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    if maxlen:
        xs, labels = remove_long_seq(maxlen, xs, labels)

    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)

    idx = int(len(xs) * (1 - test_split))
    x_train, y_train = np.array(xs[:idx], dtype="object"), np.array(labels[:idx])
    x_test, y_test = np.array(xs[idx:], dtype="object"), np.array(labels[idx:])
    return (x_train, y_train), (x_test, y_test)


def get_word_index(path="reuters_word_index.json"):
    """``{word: index}``, 1 for the most frequent word. Add ``index_from`` (3) to match the
    sequences of ``load_data()``."""
    path = get_file(path, origin=f"{_ORIGIN_FOLDER}reuters_word_index.json",
                    file_hash=_WORD_INDEX_HASH)
    import json  # imported here, not at the top: ``import minikeras`` stays fast

    with open(path) as f:
        return json.load(f)


def get_label_names():
    """The 46 topic names, in label order: ``get_label_names()[y]`` names label ``y``."""
    return _LABEL_NAMES
