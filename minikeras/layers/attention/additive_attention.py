"""AdditiveAttention: Bahdanau-style attention (``keras.layers.AdditiveAttention``)."""

from minikeras import ops
from minikeras.layers.attention.attention import Attention


class AdditiveAttention(Attention):
    """Additive attention: Attention with the score

        scores[b, i, j] = Σ_d scale[d] · tanh(query[b, i, d] + key[b, j, d])

    where ``scale`` is a ``(dim,)`` weight (GlorotUniform) when ``use_scale=True`` (the default)
    and 1 otherwise. Masks, the softmax, dropout and the output are those of ``Attention``:
    ``output = softmax(scores) @ value``.
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=[dim],
                                         initializer="glorot_uniform")
        self.built = True

    def _calculate_scores(self, query, key):
        q = ops.expand_dims(query, axis=-2)  # (B, Tq, 1, dim)
        k = ops.expand_dims(key, axis=-3)  # (B, 1, Tv, dim)
        tanh = ops.tanh(ops.add(q, k))
        if self.use_scale:
            tanh = ops.multiply(self.scale, tanh)
        return ops.sum(tanh, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
