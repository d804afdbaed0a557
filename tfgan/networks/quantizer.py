"""VQGAN's vector quantizer (van den Oord et al. 2017; Esser et al. 2021), in plain ops.

`VectorQuantizer` replaces each vector of an encoder's grid [B, H, W, D] by its
nearest codebook entry, nearest by |z|^2 + |e|^2 - 2 z.e (one matrix product, no
[N, K, D] difference tensor). The gradient passes straight through the rounding
(z + stop_gradient(z_q - z)), and the layer adds its loss with `add_loss`, which
`tfgan.GAN` puts on the autoencoder's loss:

    beta * mean((stop_gradient(z_q) - z)^2)      the commitment term: moves the encoder
  +        mean((z_q - stop_gradient(z))^2)      the codebook term: moves the codes

with beta 0.25 on the commitment term, as the paper has it. taming-transformers'
`VectorQuantizer2` puts beta on the codebook term instead unless `legacy=False`
(a bug it keeps for old checkpoints); this is the corrected form.

With `ema_decay` the codes are not trained by gradient (the codebook term is dropped)
but are exponential moving averages of the encoder outputs assigned to them (VQ-VAE's
appendix; Sonnet's `VectorQuantizerEMA`): `ema_update` is that arithmetic, which
`tfgan.networks.vqgan.CodebookUpkeep` applies once a training step with the global
batch's counts and sums. Each code's average starts as that of one vector, itself
(size 1, sum = the code). The reference implementations start the sizes at 0 and the
sums at the codes, so a code no vector picks is divided by the smoothing's ~1e-5 and
flies off 10^5 times its length, dead for good; here it stays where it is while its
size decays (about 1,000 steps at 0.99 before eps matters), time for a restart.
`normalize` compares and returns l2-normalized vectors (cosine distance:
Yu et al. 2022's ViT-VQGAN), which keeps codes from drifting away unused.
`restart_dead` gives codes that went unused for a while a random encoder output,
the usual cure for codebook collapse, of which `usage` and `perplexity` (logged
in training) tell.
"""

import threading

import keras
import tensorflow as tf


def nearest(z, codebook):
    """Indices [N] of the codebook rows [K, D] nearest each row of z [N, D] (Euclidean)."""
    distances = tf.reduce_sum(z**2, axis=1, keepdims=True) + tf.reduce_sum(codebook**2, axis=1)[None, :] - 2.0 * tf.matmul(z, codebook, transpose_b=True)
    return tf.argmin(distances, axis=1, output_type=tf.int32)


def perplexity(counts):
    """exp(entropy) of the code frequencies `counts` [K]: K when every code is used
    equally, 1 when one code takes every vector."""
    p = counts / tf.maximum(tf.reduce_sum(counts), 1.0)
    return tf.exp(-tf.reduce_sum(tf.where(p > 0, p * tf.math.log(tf.maximum(p, 1e-12)), 0.0)))


def usage(counts):
    """The share of the K codes that vectors were assigned to."""
    return tf.reduce_mean(tf.cast(counts > 0, tf.float32))


def ema_update(cluster_size, embed_sum, counts, sums, decay, epsilon=1e-5):
    """One step of the EMA codebook: (new cluster_size [K], new embed_sum [K, D], codebook [K, D]).

    cluster_size <- decay * cluster_size + (1 - decay) * counts  (vectors per code this batch)
    embed_sum    <- decay * embed_sum + (1 - decay) * sums       (their sum, [K, D])
    codebook      = embed_sum / smoothed size, the sizes Laplace-smoothed
                    ((n_k + eps) / (n + K eps) * n) so that an unused code divides by no zero.
    """
    cluster_size = decay * cluster_size + (1.0 - decay) * counts
    embed_sum = decay * embed_sum + (1.0 - decay) * sums
    total = tf.reduce_sum(cluster_size)
    size = tf.cast(tf.shape(cluster_size)[0], cluster_size.dtype)
    smoothed = (cluster_size + epsilon) / (total + size * epsilon) * total
    return cluster_size, embed_sum, embed_sum / smoothed[:, None]


def restart_dead(codebook, idle_steps, counts, z, patience, seed):
    """(codebook, idle_steps, dead): codes unused for `patience` steps in a row (`dead` [K])
    take a random row of z [N, D] (this batch's encoder outputs, drawn by the stateless
    `seed`) and their idle count starts again; the others keep theirs."""
    idle_steps = tf.where(counts > 0, 0, idle_steps + 1)
    dead = idle_steps >= patience
    picks = tf.random.stateless_uniform([tf.shape(codebook)[0]], seed, maxval=tf.shape(z)[0], dtype=tf.int32)
    codebook = tf.where(dead[:, None], tf.gather(z, picks), codebook)
    return codebook, tf.where(dead, 0, idle_steps), dead


@keras.saving.register_keras_serializable(package="tfgan")
class VectorQuantizer(keras.layers.Layer):
    """z [B, H, W, D] -> z_q [B, H, W, D], each vector its nearest of `num_codes` codes.

    `beta`: the commitment term's weight; `ema_decay`: None trains the codes by gradient,
    a decay (0.99) leaves them to moving averages (`ema_update`); `normalize`:
    l2-normalized vectors and codes.
    """

    def __init__(self, num_codes, code_dim, beta=0.25, ema_decay=None, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if int(num_codes) < 2 or int(code_dim) < 1 or beta < 0 or (ema_decay is not None and not 0.0 < ema_decay < 1.0):
            raise ValueError(
                f"Expected num_codes >= 2, code_dim >= 1, beta >= 0 and ema_decay None or in (0, 1). Received: "
                f"num_codes={num_codes}, code_dim={code_dim}, beta={beta}, ema_decay={ema_decay}"
            )
        self.num_codes, self.code_dim, self.beta = int(num_codes), int(code_dim), float(beta)
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.normalize = bool(normalize)
        # Created here, not in build(): its shape needs no input, and `indices` and `lookup`
        # (a prior's sampled grid) may come before any call.
        limit = 1.0 / self.num_codes  # the reference's uniform(-1/K, 1/K)
        self.codebook = self.add_weight(
            shape=(self.num_codes, self.code_dim), initializer=keras.initializers.RandomUniform(-limit, limit),
            trainable=self.ema_decay is None, name="codebook",
        )
        if self.ema_decay is not None:
            # The moving averages: each code's vector count and vector sum. The same all-reduced value
            # is assigned on every replica, so the first replica's is everyone's.
            self.cluster_size = self.add_weight(shape=(self.num_codes,), initializer="ones", trainable=False,
                                                aggregation="only_first_replica", name="cluster_size")
            self.embed_sum = self.add_weight(shape=(self.num_codes, self.code_dim), initializer=lambda shape, dtype: tf.identity(self.codebook),
                                             trainable=False, aggregation="only_first_replica", name="embed_sum")
        self.built = True
        self._assigned = threading.local()

    @property
    def assigned(self):
        """(vectors [N, D], their code indices [N]) of this thread's latest training call."""
        return self._assigned.value

    def update_ema(self, counts, sums):
        """One EMA step from the vectors assigned to each code: `counts` [K] and their `sums` [K, D]."""
        size, total, codebook = ema_update(self.cluster_size, self.embed_sum, counts, sums, self.ema_decay)
        self.cluster_size.assign(size)
        self.embed_sum.assign(total)
        self.codebook.assign(codebook)

    def replace(self, which, codebook):
        """Codes `which` [K] (bool) become those of `codebook` [K, D]; with EMA their average starts
        again as that of one vector, the new code."""
        self.codebook.assign(tf.where(which[:, None], codebook, self.codebook))
        if self.ema_decay is not None:
            self.cluster_size.assign(tf.where(which, 1.0, self.cluster_size))
            self.embed_sum.assign(tf.where(which[:, None], codebook, self.embed_sum))

    def codes(self):
        """The codebook [K, D] as compared (l2-normalized where `normalize`)."""
        codebook = tf.cast(self.codebook, tf.float32)
        return tf.math.l2_normalize(codebook, axis=1) if self.normalize else codebook

    def _flat(self, z):
        z = tf.reshape(tf.cast(z, tf.float32), [-1, self.code_dim])
        return tf.math.l2_normalize(z, axis=1) if self.normalize else z

    def indices(self, z):
        """The code index of each vector: [B, H, W] int32."""
        return tf.reshape(nearest(self._flat(z), self.codes()), tf.shape(z)[:-1])

    def lookup(self, indices):
        """The codes of `indices` [...]: [..., D] (what the decoder takes from a sampled grid)."""
        return tf.gather(self.codes(), indices)

    def _quantize(self, z):
        """(the vectors [N, D] as compared, their nearest codes' indices [N], those codes [N, D],
        the vectors with the codes' values and the rounding's gradient taken as 1, shaped as z)."""
        flat, codes = self._flat(z), self.codes()
        indices = nearest(flat, codes)
        quantized = tf.gather(codes, indices)
        return flat, indices, quantized, tf.reshape(flat + tf.stop_gradient(quantized - flat), tf.shape(z))

    def straight_through(self, z):
        """z [..., D] replaced by its nearest codes, the gradient passing straight through to z:
        what a latent optimized in front of the decoder (guided generation) goes through."""
        return self._quantize(z)[-1]

    def call(self, z, training=None):
        flat, indices, quantized, straight = self._quantize(z)
        if training:
            # The latest training call's vectors and their codes, for the hook that keeps the codebook
            # (`tfgan.networks.vqgan.CodebookUpkeep`), read later in the same traced step. Per thread:
            # MirroredStrategy traces each replica's step in a thread of its own, and each replica
            # must read its own share.
            self._assigned.value = (flat, indices)
        commitment = self.beta * tf.reduce_mean((tf.stop_gradient(quantized) - flat) ** 2)
        codebook = 0.0 if self.ema_decay is not None else tf.reduce_mean((quantized - tf.stop_gradient(flat)) ** 2)
        self.add_loss(commitment + codebook)
        return tf.cast(straight, self.compute_dtype)

    def get_config(self):
        return {
            **super().get_config(), "num_codes": self.num_codes, "code_dim": self.code_dim, "beta": self.beta,
            "ema_decay": self.ema_decay, "normalize": self.normalize,
        }
