"""The attention layers: Attention, AdditiveAttention, MultiHeadAttention."""

from minikeras.layers.attention.additive_attention import AdditiveAttention
from minikeras.layers.attention.attention import Attention
from minikeras.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "MultiHeadAttention"]
