"""``keras.preprocessing``: the dataset builders and the image and sequence helpers that
tutorials written for Keras 2 reach through ``keras.preprocessing`` (Keras 3 keeps them there as
aliases of ``keras.utils``): ``keras.preprocessing.image.load_img``,
``keras.preprocessing.sequence.pad_sequences``, ``image_dataset_from_directory``...

Keras 3 has no ``keras.preprocessing.text`` (its ``Tokenizer`` was removed; the
``TextVectorization`` layer replaces it), and neither has minikeras.
"""

from minikeras.preprocessing import image, sequence
from minikeras.utils.image_dataset_utils import image_dataset_from_directory
from minikeras.utils.text_dataset_utils import text_dataset_from_directory
from minikeras.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
