"""``minikeras.utils``: labels, seeds, the progress bar and the summary table."""

from minikeras.utils.numerical_utils import normalize, to_categorical
from minikeras.utils.progbar import Progbar
from minikeras.utils.random import set_random_seed

__all__ = ["Progbar", "normalize", "set_random_seed", "to_categorical"]
