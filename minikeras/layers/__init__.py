"""``minikeras.layers``: the building blocks of models."""

from minikeras.layers.activation import Activation
from minikeras.layers.dense import Dense
from minikeras.layers.dropout import Dropout
from minikeras.layers.flatten import Flatten
from minikeras.layers.input_layer import Input, InputLayer, KerasTensor
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "InputSpec",
           "KerasTensor", "Layer"]
