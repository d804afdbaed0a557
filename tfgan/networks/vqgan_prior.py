"""VQGAN's stage 2 as a generator: a transformer prior samples a code grid, the decoder draws it.

`VQGANSampler(z, labels)` is a tfgan generator like any other: z [B, T] is standard
normal, one entry per token of the h x w grid (T = h w), and the sampler turns
each into its token by inverse transform sampling: u = Phi(z) is uniform, and the
token is the first whose cumulative probability (after temperature, top-k and
top-p) exceeds u. So a z fixes a grid, as it fixes an image for a GAN:
`GAN.generate`-style fixed-z grids, `python -m tfgan.generate --seed`, the
export's `serving_default(z)` and `generate(num, seed)`, and the evaluation all
work unchanged, and resume and N replicas stay exact.

Sampling is T passes of the transformer (`GPT.next_logits`), each for one position
with the earlier positions' keys and values cached; `cached=False` instead runs the
whole sequence every time and reads position t (the reference's way, for checks and
for the speed comparison). Either runs in a `tf.while_loop`, so an export's
signatures hold the whole autoregressive loop in the graph.
"""

import math

import keras
import tensorflow as tf

from tfgan import architectures
from tfgan.networks.base import Generator
from tfgan.networks.transformer import GPT


def filtered_probabilities(logits, temperature=1.0, top_k=0, top_p=1.0):
    """Next-token probabilities [B, V] from logits: divided by `temperature`; only the `top_k`
    most likely tokens kept (0: all; ties at the k-th kept); then only the smallest set of the
    most likely whose probabilities reach `top_p` (nucleus sampling; 1: all). The settings may be
    numbers or scalar tensors (an export's `sample` signature takes them per request)."""
    logits = tf.cast(logits, tf.float32) / temperature
    vocab = tf.shape(logits)[-1]
    if not _is_number(top_k, 0):  # a Python 0 builds no top-k at all
        k = tf.cast(top_k, tf.int32)
        kth = tf.math.top_k(logits, k=tf.where(k > 0, tf.minimum(k, vocab), vocab)).values[:, -1:]
        logits = tf.where(logits < kth, -math.inf, logits)
    probabilities = tf.nn.softmax(logits, axis=-1)
    if not _is_number(top_p, 1.0):
        order = tf.argsort(probabilities, axis=-1, direction="DESCENDING", stable=True)
        ranked = tf.gather(probabilities, order, batch_dims=1)
        before = tf.cumsum(ranked, axis=-1, exclusive=True)  # the mass of the tokens ranked above
        # The most likely token always stays; top_p 1 keeps all, even where the sum rounds to 1 early.
        keep_ranked = (before < top_p) | (tf.cast(top_p, tf.float32) >= 1.0)
        keep = tf.scatter_nd(tf.stack([tf.broadcast_to(tf.range(tf.shape(order)[0])[:, None], tf.shape(order)), order], -1),
                             keep_ranked, tf.shape(order))
        probabilities = tf.where(keep, probabilities, 0.0)
        probabilities /= tf.reduce_sum(probabilities, axis=-1, keepdims=True)
    return probabilities


def _is_number(value, number):
    return isinstance(value, (int, float)) and value == number


def inverse_cdf(probabilities, u):
    """The token [B] (int32) whose cumulative-probability interval holds u [B] in [0, 1): the
    number of tokens whose cumulative probability is <= u. Scaled by the total, so that a sum
    that rounds below 1 never lets u past the last token with any probability."""
    cumulative = tf.cumsum(probabilities, axis=-1)
    u = tf.minimum(tf.cast(u, tf.float32), 1.0 - 2.0**-24)[:, None] * cumulative[:, -1:]
    return tf.reduce_sum(tf.cast(cumulative <= u, tf.int32), axis=-1)


def uniform(z):
    """Phi(z): standard normal z -> uniform in [0, 1]. (erf, not erfc, which ONNX lacks.)"""
    return 0.5 * (1.0 + tf.math.erf(tf.cast(z, tf.float32) / math.sqrt(2.0)))


@keras.saving.register_keras_serializable(package="tfgan")
class VQGANSampler(Generator):
    """z [B, h w] (and labels [B]) -> images [B, H, W, C]: a grid of codes sampled from `prior`
    token by token, decoded by `autoencoder` (whose weights it keeps, frozen)."""

    # tf2onnx turns the sampling loop into an ONNX Loop that ONNX Runtime rejects as an invalid
    # graph (tf2onnx 1.16, opset 17): its ONNX export holds the encoder and the decoder only.
    onnx_sampling = False

    def __init__(self, prior, autoencoder, temperature=1.0, top_k=0, top_p=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(prior, dict):
            prior = keras.saving.deserialize_keras_object(prior)
        if isinstance(autoencoder, dict):
            autoencoder = keras.saving.deserialize_keras_object(autoencoder)
        grid = autoencoder.grid_shape
        if prior.length != grid[0] * grid[1] or prior.vocab_size != autoencoder.quantizer.num_codes:
            raise ValueError(f"The prior models {prior.length} tokens of {prior.vocab_size} codes, but the autoencoder's grid is "
                             f"{grid[0]}x{grid[1]} of {autoencoder.quantizer.num_codes} codes")
        bad = architectures.bad_sampling(temperature, top_k, top_p)
        if bad:
            raise ValueError(f"Expected {', '.join(f'{k} {architectures.SAMPLING_EXPECTED[k]}' for k in bad)}. "
                             f"Received: temperature={temperature}, top_k={top_k}, top_p={top_p}")
        for network in (prior, autoencoder):  # weights made now: a checkpoint can be restored before any sampling
            if not network.built:
                network.build_from_config(None)
        self.prior, self.autoencoder = prior, autoencoder
        self.built = True
        self.autoencoder.trainable = False  # stage 1 is done; the prior alone trains
        self.temperature, self.top_k, self.top_p = float(temperature), int(top_k), float(top_p)
        self.latent_dim, self.num_classes = prior.length, prior.num_classes
        self.sample_shape = autoencoder.sample_shape

    @property
    def sampling(self):
        """The settings sampling uses unless a call gives others: {"temperature", "top_k", "top_p"}."""
        return {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p}

    def sample_tokens(self, z, labels=None, cached=True, temperature=None, top_k=None, top_p=None):
        """The code grid [B, h, w] (int32) that z [B, T] picks; `temperature`, `top_k` and `top_p`
        (numbers or scalar tensors; None: the sampler's own) for this call."""
        given = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
        settings = {k: self.sampling[k] if v is None else v for k, v in given.items()}
        u = uniform(z)
        batch, length = tf.shape(z)[0], self.prior.length
        labels = None if labels is None or not self.num_classes else tf.cast(labels, tf.int32)

        def pick(logits, i):
            return inverse_cdf(filtered_probabilities(logits, **settings), u[:, i])

        def place(tokens, i, token):
            return tokens + tf.one_hot(i, length, dtype=tf.int32)[None] * token[:, None]

        def cached_step(i, tokens, cache):
            logits, cache = self.prior.next_logits(tf.gather(tokens, tf.maximum(i - 1, 0), axis=1), labels, i, cache)
            return i + 1, place(tokens, i, pick(logits, i)), cache

        def full_step(i, tokens):  # positions after i hold zeros, which the causal mask hides from i
            return i + 1, place(tokens, i, pick(tf.gather(self.prior(tokens, labels), i, axis=1), i))

        tokens = tf.zeros([batch, length], tf.int32)
        if cached:
            _, tokens, _ = tf.while_loop(lambda i, *_: i < length, cached_step, (tf.constant(0), tokens, self.prior.empty_cache(batch)))
        else:
            _, tokens = tf.while_loop(lambda i, *_: i < length, full_step, (tf.constant(0), tokens))
        return tf.reshape(tokens, [batch, *self.autoencoder.grid_shape])

    def call(self, z, labels=None, training=None, **sampling):
        return self.autoencoder.decode(self.sample_tokens(z, labels, **sampling))

    def get_config(self):
        return {**super().get_config(), "prior": keras.saving.serialize_keras_object(self.prior),
                "autoencoder": keras.saving.serialize_keras_object(self.autoencoder),
                **self.sampling}


def build_sampler(options, autoencoder, num_classes):
    """The sampler `model.vqgan_prior` describes, over a trained `autoencoder`."""
    grid = autoencoder.grid_shape
    prior = GPT(autoencoder.quantizer.num_codes, grid[0] * grid[1], num_classes, options.layers, options.heads, options.dim, name="prior")
    return VQGANSampler(prior, autoencoder, options.temperature, options.top_k, options.top_p, name="generator")

