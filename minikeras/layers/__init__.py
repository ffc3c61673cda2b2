"""``minikeras.layers``: the building blocks of models."""

from minikeras.layers.activation import Activation
from minikeras.layers.activity_regularization import ActivityRegularization
from minikeras.layers.adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from minikeras.layers.advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from minikeras.layers.attention import (
    AdditiveAttention,
    Attention,
    GroupedQueryAttention,
    GroupQueryAttention,
    MultiHeadAttention,
)
from minikeras.layers.batch_normalization import BatchNormalization
from minikeras.layers.conv_transpose import (
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
    Convolution1DTranspose,
    Convolution2DTranspose,
    Convolution3DTranspose,
)
from minikeras.layers.convolutional import Conv2D, Convolution2D
from minikeras.layers.convolutional_1d import Conv1D, Convolution1D
from minikeras.layers.convolutional_3d import Conv3D, Convolution3D
from minikeras.layers.dense import Dense
from minikeras.layers.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from minikeras.layers.dot import Dot, dot
from minikeras.layers.dropout import Dropout
from minikeras.layers.einsum_dense import EinsumDense
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
from minikeras.layers.group_normalization import GroupNormalization
from minikeras.layers.identity import Identity
from minikeras.layers.input_layer import Input, InputLayer
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.keras_tensor import KerasTensor
from minikeras.layers.lambda_layer import Lambda
from minikeras.layers.layer import Layer
from minikeras.layers.layer_normalization import LayerNormalization
from minikeras.layers.masking import Masking
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
from minikeras.layers.pipeline import Pipeline
from minikeras.layers.pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D
from minikeras.layers.pooling_1d import AveragePooling1D, AvgPool1D, MaxPool1D, MaxPooling1D
from minikeras.layers.pooling_3d import (
    AveragePooling3D,
    AvgPool3D,
    GlobalAveragePooling3D,
    GlobalAvgPool3D,
    GlobalMaxPool3D,
    GlobalMaxPooling3D,
    MaxPool3D,
    MaxPooling3D,
)
from minikeras.layers.preprocessing import (
    CategoryEncoding,
    Discretization,
    HashedCrossing,
    Hashing,
    IntegerLookup,
    MelSpectrogram,
    STFTSpectrogram,
    StringLookup,
    TextVectorization,
)
from minikeras.layers.preprocessing.image import (
    AutoContrast,
    CenterCrop,
    Equalization,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomGrayscale,
    RandomInvert,
    RandomPosterization,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Resizing,
    Solarization,
)
from minikeras.layers.rescaling import Rescaling
from minikeras.layers.reshape import Reshape
from minikeras.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from minikeras.layers.rms_normalization import RMSNormalization
from minikeras.layers.rnn import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    ConvLSTM1D,
    ConvLSTM2D,
    ConvLSTM3D,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
)
from minikeras.layers.rnn.time_distributed import TimeDistributed
from minikeras.layers.separable_conv import (
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from minikeras.layers.spatial_dropout import (
    AlphaDropout,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from minikeras.layers.spectral_normalization import SpectralNormalization
from minikeras.layers.unit_normalization import UnitNormalization
from minikeras.layers.wrapper import Wrapper

__all__ = ["Activation", "ActivityRegularization", "AdaptiveAveragePooling1D",
           "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D",
           "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "Add", "AdditiveAttention",
           "AlphaDropout", "Attention", "AutoContrast", "Average", "AveragePooling1D",
           "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "BatchNormalization", "Bidirectional", "CategoryEncoding", "CenterCrop", "Concatenate",
           "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose",
           "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "Convolution1D", "Convolution1DTranspose",
           "Convolution2D", "Convolution2DTranspose", "Convolution3D", "Convolution3DTranspose",
           "Cropping1D", "Cropping2D", "Cropping3D", "Dense", "DepthwiseConv1D", "DepthwiseConv2D",
           "Discretization", "Dot", "Dropout", "ELU", "EinsumDense", "Embedding", "Equalization",
           "Flatten", "GRU", "GRUCell", "GaussianDropout", "GaussianNoise",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
           "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D",
           "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
           "GlobalMaxPooling3D", "GroupNormalization", "GroupQueryAttention",
           "GroupedQueryAttention", "HashedCrossing", "Hashing", "Identity", "Input", "InputLayer",
           "InputSpec", "IntegerLookup", "KerasTensor", "LSTM", "LSTMCell", "Lambda", "Layer",
           "LayerNormalization", "LeakyReLU", "Masking", "MaxPool1D", "MaxPool2D", "MaxPool3D",
           "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Maximum", "MelSpectrogram", "Minimum",
           "MultiHeadAttention", "Multiply", "Normalization", "PReLU", "Permute", "Pipeline",
           "RMSNormalization", "RNN", "RandomBrightness", "RandomContrast", "RandomCrop",
           "RandomFlip", "RandomGrayscale", "RandomInvert", "RandomPosterization", "RandomRotation",
           "RandomTranslation", "RandomZoom", "ReLU", "RepeatVector", "Rescaling", "Reshape",
           "Resizing", "STFTSpectrogram", "SeparableConv1D", "SeparableConv2D",
           "SeparableConvolution1D", "SeparableConvolution2D", "SimpleRNN", "SimpleRNNCell",
           "Softmax", "Solarization", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
           "SpectralNormalization", "StackedRNNCells", "StringLookup", "Subtract",
           "TextVectorization", "TimeDistributed", "UnitNormalization", "UpSampling1D",
           "UpSampling2D", "UpSampling3D", "Wrapper", "ZeroPadding1D", "ZeroPadding2D",
           "ZeroPadding3D", "add", "average", "concatenate", "deserialize", "dot", "maximum",
           "minimum", "multiply", "serialize", "subtract"]


def serialize(layer):
    """The layer's config as the dict Keras writes: ``{"module", "class_name", "config", ...}``."""
    from minikeras.saving import serialization  # the saving code imports the layers

    return serialization.serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """The layer a ``serialize`` dict describes (``custom_objects`` resolves your own classes)."""
    from minikeras.saving import serialization

    layer = serialization.deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(layer, Layer):
        raise ValueError("`keras.layers.deserialize` was passed a `config` object that is not a "
                         f"`keras.layers.Layer`. Received: {config}")
    return layer
