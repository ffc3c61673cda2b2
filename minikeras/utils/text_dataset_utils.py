"""text_dataset_from_directory: batches of texts read from a folder of ``.txt`` files
(``keras.utils.text_dataset_from_directory``).

With ``labels="inferred"`` each subfolder is a class, named by the folder, numbered in sorted
order::

    main_directory/
        class_a/  a_text_1.txt  a_text_2.txt
        class_b/  b_text_1.txt  b_text_2.txt

Keras returns a ``tf.data.Dataset`` of ``(string tensor, labels)`` batches; minikeras returns a
``PyDataset`` whose batches are ``(list of str, labels)`` (or just the list without labels), with
``class_names`` set as in Keras. Files are read when their batch is asked for.
"""


import numpy as np

from minikeras.utils.dataset_utils import (
    FilesDataset,
    check_labels_args,
    check_validation_split_arg,
    get_training_or_validation_split,
    index_directory,
)


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                batch_size=32, max_length=None, shuffle=True, seed=None,
                                validation_split=None, subset=None, follow_links=False,
                                format="tf", verbose=True):
    """The texts under ``directory`` and their labels, in batches of ``batch_size`` (None: one
    text per item).

    ``label_mode``: ``"int"`` (int32 class indices), ``"categorical"`` (float32 one-hot),
    ``"binary"`` (float32, shape ``(batch, 1)``, exactly 2 classes) or None (texts only).
    ``labels`` may also be a list of int labels for the files in sorted path order, or None.
    ``max_length`` keeps the first ``max_length`` bytes of each file (as ``tf.strings.substr``;
    a character cut in two is dropped). ``validation_split`` with ``subset`` ("training",
    "validation" or "both": a list of the two) keeps the last fraction of the files for
    validation. ``shuffle`` shuffles the file list once with ``np.random.RandomState(seed)``,
    as Keras does before its own per-epoch tf.data shuffle, which minikeras does not add.
    ``format`` ("tf" or "grain") is checked and ignored.
    """
    check_labels_args(labels, label_mode, class_names, "text files", "text samples")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    if labels is None or label_mode is None:
        labels = label_mode = None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, labels, class_names = index_directory(
        directory, labels, (".txt",), class_names, shuffle, seed, follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    num_classes = len(class_names) if class_names else 0

    def make(subset_name, what="text files"):
        paths, subset_labels = get_training_or_validation_split(
            file_paths, labels, validation_split, subset_name)
        if not paths:
            raise ValueError(f"No {what} found in directory {directory}. Allowed format: .txt")
        dataset = TextFilesDataset(paths, subset_labels, label_mode, num_classes, max_length,
                                   batch_size)
        dataset.class_names = class_names
        return dataset

    if subset == "both":
        return [make("training", "training text files"),
                make("validation", "validation text files")]
    return make(subset)


class TextFilesDataset(FilesDataset):
    """Batches of ``(texts, labels)``: a list of str per batch."""

    def __init__(self, file_paths, labels, label_mode, num_classes, max_length, batch_size):
        super().__init__(file_paths, labels, label_mode, num_classes, batch_size)
        self.max_length = max_length

    def read(self, path):
        with open(path, "rb") as f:
            content = f.read()
        if self.max_length is not None:
            content = content[:self.max_length]
        return content.decode("utf-8", errors="ignore")
