"""Image preprocessing and augmentation layers (``keras.layers.Resizing``, ``RandomFlip``, ...).

``Resizing`` and ``CenterCrop`` act the same in training and inference; the ``Random*`` layers
augment only while training (``fit``) and are the identity in ``predict``/``evaluate``. The
arithmetic, written as TensorFlow computes it, is in ``transform.py``; the call protocol Keras's
layers share is in ``base.py``.
"""

from minikeras.layers.preprocessing.image.auto_contrast import AutoContrast
from minikeras.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from minikeras.layers.preprocessing.image.center_crop import CenterCrop
from minikeras.layers.preprocessing.image.equalization import Equalization
from minikeras.layers.preprocessing.image.random_brightness import RandomBrightness
from minikeras.layers.preprocessing.image.random_contrast import RandomContrast
from minikeras.layers.preprocessing.image.random_crop import RandomCrop
from minikeras.layers.preprocessing.image.random_flip import RandomFlip
from minikeras.layers.preprocessing.image.random_grayscale import RandomGrayscale
from minikeras.layers.preprocessing.image.random_invert import RandomInvert
from minikeras.layers.preprocessing.image.random_posterization import RandomPosterization
from minikeras.layers.preprocessing.image.random_rotation import RandomRotation
from minikeras.layers.preprocessing.image.random_translation import RandomTranslation
from minikeras.layers.preprocessing.image.random_zoom import RandomZoom
from minikeras.layers.preprocessing.image.resizing import Resizing
from minikeras.layers.preprocessing.image.solarization import Solarization

__all__ = ["AutoContrast", "BaseImagePreprocessingLayer", "CenterCrop", "Equalization",
           "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomGrayscale",
           "RandomInvert", "RandomPosterization", "RandomRotation", "RandomTranslation",
           "RandomZoom", "Resizing", "Solarization"]
