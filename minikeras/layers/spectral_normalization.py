"""SpectralNormalization: keep a layer's kernel at spectral norm 1
(``keras.layers.SpectralNormalization``, Keras's
``keras/src/layers/normalization/spectral_normalization.py``; Miyato et al. 2018,
https://arxiv.org/abs/1802.05957)."""

import numpy as np

from minikeras import backend, initializers, ops
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.wrapper import Wrapper


class SpectralNormalization(Wrapper):
    """Wrap a layer with a ``kernel`` (Dense, Conv2D, ...) or ``embeddings`` (Embedding) and
    divide that weight by an estimate of its largest singular value σ, which bounds the layer's
    Lipschitz constant (it stabilizes GAN discriminators).

    σ comes from power iteration on W, the kernel reshaped to (-1, out), with a vector ``u``
    (1, out) kept between calls (``vector_u``, non-trainable, TruncatedNormal(0.02) at first):

        repeat power_iterations times:
            v = normalize(u Wᵀ)         normalize(x) = x · min(1/√Σx², 1/ε)  (Keras's form)
            u = normalize(v W)
        σ = v W uᵀ
        W <- W / σ,   vector_u <- u

    As in Keras, this happens only in training calls (``training=True``, as ``fit`` does), and
    both results are *assigned*: the wrapped layer's own kernel becomes the normalized one (an
    all-zero kernel is left alone), and the layer then runs as usual. Inference calls use the
    kernel as it is. The update is not recorded on the tape (Keras stops the gradient through
    u and v, and the assignment itself carries none), so gradients are those of the wrapped
    layer at the normalized kernel.

    Weights, as Keras lists them: the kernel (also the wrapper's own, first), ``vector_u``, then
    the wrapped layer's other weights.
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError("`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        if getattr(self.layer, "kernel", None) is not None:
            self.kernel = self.layer.kernel
        elif getattr(self.layer, "embeddings", None) is not None:
            self.kernel = self.layer.embeddings
        else:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' "
                             "nor 'embeddings'")
        self.kernel_shape = self.kernel.shape
        self.vector_u = self.add_weight(
            shape=(1, self.kernel_shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02), trainable=False,
            name="vector_u", dtype=self.kernel.dtype)
        self.built = True

    def call(self, inputs, training=False):
        if training:
            kernel = self.kernel.numpy()
            if not np.all(kernel == 0):
                new_vector_u, new_kernel = self.normalized_weights()
                self.vector_u.assign(new_vector_u)
                self.kernel.assign(new_kernel)
        output = self.layer(inputs)
        return ops.cast(output, inputs.dtype)

    def normalized_weights(self):
        """(u, W / σ) after ``power_iterations`` steps, as NumPy arrays of the weights' dtype
        (computed outside the tape: Keras stops their gradient and assigns them)."""
        kernel = self.kernel.numpy()
        weights = kernel.reshape(-1, self.kernel_shape[-1])
        vector_u = self.vector_u.numpy()
        for _ in range(self.power_iterations):
            vector_v = _normalize(vector_u @ weights.T)
            vector_u = _normalize(vector_v @ weights)
        sigma = (vector_v @ weights) @ vector_u.T  # (1, 1)
        new_kernel = (kernel.reshape(weights.shape) / sigma).reshape(self.kernel_shape)
        return (vector_u.astype(self.vector_u.dtype), new_kernel.astype(kernel.dtype))

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}


def _normalize(x):
    """Keras's ``ops.normalize(x, axis=None)``: x · min(1/√Σx², 1/ε), in x's dtype."""
    inverse_norm = np.float32(1.0) / np.sqrt(np.sum(np.square(x), keepdims=True))
    inverse_norm = np.minimum(inverse_norm, np.asarray(1.0 / backend.epsilon(), dtype=x.dtype))
    return (x * inverse_norm.astype(x.dtype)).astype(x.dtype)
