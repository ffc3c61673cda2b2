"""``minikeras.utils``: labels, seeds, the progress bar, the summary table, get_file, PyDataset."""

from minikeras.utils.file_utils import get_file
from minikeras.utils.numerical_utils import normalize, to_categorical
from minikeras.utils.progbar import Progbar
from minikeras.utils.py_dataset import PyDataset, Sequence
from minikeras.utils.random import set_random_seed

__all__ = ["Progbar", "PyDataset", "Sequence", "get_file", "normalize", "set_random_seed",
           "to_categorical"]
