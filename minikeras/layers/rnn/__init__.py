"""Recurrent layers: an RNN runs a cell over the time axis; SimpleRNN, LSTM and GRU are RNNs
around their cells; StackedRNNCells stacks cells into one; Bidirectional runs an RNN both ways;
ConvLSTM1D/2D/3D are LSTMs whose products are convolutions."""

from minikeras.layers.rnn.bidirectional import Bidirectional
from minikeras.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from minikeras.layers.rnn.gru import GRU, GRUCell
from minikeras.layers.rnn.lstm import LSTM, LSTMCell
from minikeras.layers.rnn.rnn import RNN
from minikeras.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from minikeras.layers.rnn.stacked_rnn_cells import StackedRNNCells

__all__ = ["Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "GRU", "GRUCell", "LSTM",
           "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells"]
