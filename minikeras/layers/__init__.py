"""``minikeras.layers``: the building blocks of models."""

from minikeras.layers.activation import Activation
from minikeras.layers.activity_regularization import ActivityRegularization
from minikeras.layers.advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from minikeras.layers.batch_normalization import BatchNormalization
from minikeras.layers.convolutional import Conv2D, Convolution2D
from minikeras.layers.dense import Dense
from minikeras.layers.dropout import Dropout
from minikeras.layers.embedding import Embedding
from minikeras.layers.flatten import Flatten
from minikeras.layers.global_pooling import (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
)
from minikeras.layers.identity import Identity
from minikeras.layers.input_layer import Input, InputLayer
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.keras_tensor import KerasTensor
from minikeras.layers.lambda_layer import Lambda
from minikeras.layers.layer import Layer
from minikeras.layers.layer_normalization import LayerNormalization
from minikeras.layers.merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from minikeras.layers.noise import GaussianDropout, GaussianNoise
from minikeras.layers.normalization import Normalization
from minikeras.layers.pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D
from minikeras.layers.rescaling import Rescaling
from minikeras.layers.reshape import Reshape

__all__ = ["ELU", "Activation", "ActivityRegularization", "Add", "Average", "AveragePooling2D",
           "AvgPool2D", "BatchNormalization", "Concatenate", "Conv2D", "Convolution2D", "Dense",
           "Dropout", "Embedding", "Flatten", "GaussianDropout", "GaussianNoise",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAvgPool1D",
           "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "Identity", "Input", "InputLayer", "InputSpec", "KerasTensor",
           "Lambda", "Layer", "LayerNormalization", "LeakyReLU", "MaxPool2D", "MaxPooling2D",
           "Maximum", "Minimum", "Multiply", "Normalization", "PReLU", "ReLU", "Rescaling",
           "Reshape", "Softmax", "Subtract", "add", "average", "concatenate", "maximum", "minimum",
           "multiply", "subtract"]
