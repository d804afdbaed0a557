"""VQGAN's stage-1 networks (Esser et al. 2021): a quantized autoencoder and a patch discriminator.

- `VQAutoencoder`: encoder -> 1x1 conv to the code dimension -> `VectorQuantizer`
  -> 1x1 conv -> decoder, taming-transformers' layout. The encoder is a 3x3
  convolution and, per level, residual blocks (group norm, swish, 3x3 conv, twice)
  and a stride-2 convolution after every level but the last, then two residual
  blocks in the middle; the decoder mirrors it with nearest-neighbour 2x upsampling
  and a 3x3 convolution. `len(channel_mult) - 1` levels downsample, so the factor f
  is 2 ** (len - 1): (1, 2, 2) gives f = 4, an 8x8 grid of codes for 32x32 MNIST.
  (The reference's attention blocks at the lowest resolution are left out: at an
  8x8 grid a 3x3 convolution already sees most of it.)
  It `reconstructs` its input, so `tfgan.GAN` feeds it the real batch; the
  quantizer's commitment and codebook terms reach its loss through `add_loss`.
  `encode(images)` gives the code grid, `decode(indices)` the images of a grid (a
  stage-2 prior's samples), and `last_layer` the decoder's output kernel, at which
  VQGAN's adaptive weight compares the gradients.
- `PatchDiscriminator`: pix2pix's NLayerDiscriminator, which VQGAN uses: 4x4
  convolutions at stride 2 with LeakyReLU 0.2 and batch norm (none on the first),
  then one at stride 1 and a 1-channel 4x4 convolution: one logit per patch,
  [B, h, w, 1], which `tfgan.losses` averages per example.
- `VQGANLoss`: the hook with the rest of the autoencoder's loss (L1 reconstruction)
  and the adversarial term's adaptive weight; `CodebookUpkeep`: the hook that logs the
  codebook's usage and perplexity and restarts dead codes.
"""

import math

import keras
import tensorflow as tf
from keras import layers

from tfgan.hooks import Hook
from tfgan.networks.base import Discriminator, Generator
from tfgan.networks import quantizer as quantizer_lib
from tfgan.networks.quantizer import VectorQuantizer
from tfgan.perceptual import PerceptualLoss
from tfgan.replicas import replicas_gather, replicas_sum


def _norm(name):
    # The reference's GroupNorm(32 groups, eps 1e-6); fewer where 32 does not divide the channels.
    return lambda channels: layers.GroupNormalization(groups=math.gcd(32, channels), epsilon=1e-6, name=name)


@keras.saving.register_keras_serializable(package="tfgan")
class ResidualBlock(layers.Layer):
    """x + conv(swish(norm(conv(swish(norm(x)))))), with a 1x1 projection where the channels change."""

    def __init__(self, in_channels, channels, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.channels = int(in_channels), int(channels)
        self.norm1, self.norm2 = _norm("norm1")(self.in_channels), _norm("norm2")(self.channels)
        self.conv1 = layers.Conv2D(self.channels, 3, padding="same", name="conv1")
        self.conv2 = layers.Conv2D(self.channels, 3, padding="same", name="conv2")
        self.shortcut = layers.Conv2D(self.channels, 1, name="shortcut") if self.in_channels != self.channels else None

    def call(self, x):
        h = self.conv1(keras.activations.silu(self.norm1(x)))
        h = self.conv2(keras.activations.silu(self.norm2(h)))
        return (x if self.shortcut is None else self.shortcut(x)) + h

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels, "channels": self.channels}


def _encoder(channels, channel_mult, num_res_blocks, code_dim):
    stack = [layers.Conv2D(channels, 3, padding="same", name="enc_in")]
    width = channels
    for level, mult in enumerate(channel_mult):
        for i in range(num_res_blocks):
            stack.append(ResidualBlock(width, channels * mult, name=f"enc_{level}_res{i}"))
            width = channels * mult
        if level < len(channel_mult) - 1:
            stack.append(layers.Conv2D(width, 3, strides=2, padding="same", name=f"enc_{level}_down"))
    stack += [ResidualBlock(width, width, name="enc_mid0"), ResidualBlock(width, width, name="enc_mid1"),
              _norm("enc_norm")(width), layers.Activation("silu"), layers.Conv2D(code_dim, 1, name="quant_conv")]
    return stack


def _decoder(channels, channel_mult, num_res_blocks, out_channels):
    width = channels * channel_mult[-1]
    stack = [layers.Conv2D(width, 1, name="post_quant_conv"), layers.Conv2D(width, 3, padding="same", name="dec_in"),
             ResidualBlock(width, width, name="dec_mid0"), ResidualBlock(width, width, name="dec_mid1")]
    for level in reversed(range(len(channel_mult))):
        for i in range(num_res_blocks + 1):  # the reference's decoder has one block more a level
            stack.append(ResidualBlock(width, channels * channel_mult[level], name=f"dec_{level}_res{i}"))
            width = channels * channel_mult[level]
        if level > 0:
            stack += [layers.UpSampling2D(2, interpolation="nearest", name=f"dec_{level}_up"),
                      layers.Conv2D(width, 3, padding="same", name=f"dec_{level}_upconv")]
    stack += [_norm("dec_norm")(width), layers.Activation("silu"), layers.Conv2D(out_channels, 3, padding="same", name="dec_out")]
    return stack


@keras.saving.register_keras_serializable(package="tfgan")
class VQAutoencoder(Generator):
    """images [B, H, W, C] in [-1, 1] -> their reconstructions, through a grid of `num_codes` codes."""

    reconstructs = True
    latent_dim = None
    num_classes = 0

    def __init__(self, sample_shape, channels=64, channel_mult=(1, 2, 2), num_res_blocks=1, num_codes=512, code_dim=64,
                 beta=0.25, ema_decay=None, normalize_codes=False, **kwargs):
        super().__init__(**kwargs)
        self.sample_shape = tuple(int(d) for d in sample_shape)
        self.channels, self.channel_mult, self.num_res_blocks = int(channels), tuple(int(m) for m in channel_mult), int(num_res_blocks)
        self.factor = 2 ** (len(self.channel_mult) - 1)
        height, width, image_channels = self.sample_shape
        if height % self.factor or width % self.factor:
            raise ValueError(f"VQGAN with channel_mult {self.channel_mult} downsamples by {self.factor}; the images are "
                             f"{height}x{width}, which {self.factor} does not divide")
        self.encoder = _encoder(self.channels, self.channel_mult, self.num_res_blocks, int(code_dim))
        self.quantizer = VectorQuantizer(num_codes, code_dim, beta, ema_decay, normalize_codes, name="quantizer")
        self.decoder = _decoder(self.channels, self.channel_mult, self.num_res_blocks, image_channels)

    @property
    def grid_shape(self):
        """The code grid of one image: (H / f, W / f)."""
        return self.sample_shape[0] // self.factor, self.sample_shape[1] // self.factor

    @property
    def last_layer(self):
        """The decoder's output kernel, where VQGAN's adaptive weight compares gradients."""
        return self.decoder[-1].kernel

    def _run(self, stack, x):
        for layer in stack:
            x = layer(x)
        return x

    def encode(self, images):
        """The code grid [B, H / f, W / f] (int32) of images in [-1, 1]."""
        return self.quantizer.indices(self._run(self.encoder, images))

    def decode(self, indices):
        """Images [B, H, W, C] of code grids [B, H / f, W / f]."""
        return self.decode_vectors(self.quantizer.lookup(indices))

    def decode_vectors(self, vectors):
        """Images [B, H, W, C] of grids of code vectors [B, H / f, W / f, code_dim]."""
        return self._run(self.decoder, vectors)

    def call(self, images, labels=None, training=None):
        return self._run(self.decoder, self.quantizer(self._run(self.encoder, images), training=training))

    def get_config(self):
        quantizer = self.quantizer  # the codebook's settings live there
        return {
            **super().get_config(), "sample_shape": self.sample_shape, "channels": self.channels, "channel_mult": self.channel_mult,
            "num_res_blocks": self.num_res_blocks, "num_codes": quantizer.num_codes, "code_dim": quantizer.code_dim,
            "beta": quantizer.beta, "ema_decay": quantizer.ema_decay, "normalize_codes": quantizer.normalize,
        }


@keras.saving.register_keras_serializable(package="tfgan")
class PatchDiscriminator(Discriminator):
    """images [B, H, W, C] -> patch logits [B, H / 2^num_layers, W / 2^num_layers, 1] (pix2pix's NLayerDiscriminator)."""

    num_classes = 0

    def __init__(self, sample_shape, filters=64, num_layers=3, sync_batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.sample_shape, self.filters, self.num_layers = tuple(int(d) for d in sample_shape), int(filters), int(num_layers)
        self.sync_batch_norm = bool(sync_batch_norm)  # statistics over the global batch under tf.distribute
        stack = [layers.Conv2D(self.filters, 4, strides=2, padding="same", name="conv0"), layers.LeakyReLU(0.2)]
        for i in range(1, self.num_layers + 1):
            stride = 2 if i < self.num_layers else 1
            stack += [layers.Conv2D(self.filters * min(2**i, 8), 4, strides=stride, padding="same", use_bias=False, name=f"conv{i}"),
                      layers.BatchNormalization(synchronized=self.sync_batch_norm, name=f"norm{i}"), layers.LeakyReLU(0.2)]
        stack.append(layers.Conv2D(1, 4, padding="same", name="logits"))
        self.stack = stack

    def call(self, x, labels=None, training=None):
        for layer in self.stack:
            x = layer(x, training=training) if isinstance(layer, layers.BatchNormalization) else layer(x)
        return x

    def get_config(self):
        return {**super().get_config(), "sample_shape": self.sample_shape, "filters": self.filters, "num_layers": self.num_layers,
                "sync_batch_norm": self.sync_batch_norm}


@keras.saving.register_keras_serializable(package="tfgan")
class VQGANLoss(Hook):
    """The autoencoder's loss beyond the quantizer's terms (which `add_loss` brings):
    `rec_weight` * |x - x_hat|_1 (mean over pixels), logged as `reconstruction`, and the
    adversarial term's weight: taming-transformers' adaptive |grad (rec + perceptual)| /
    (|grad adversarial| + 1e-4) at the decoder's last layer (the perceptual term where a
    `tfgan.perceptual.PerceptualLoss` hook adds one), clipped to
    [0, 1e4], times `disc_weight`, and 0 before step `disc_start`. (D trains from the
    first step; the reference also holds D back until then.)"""

    def __init__(self, rec_weight=1.0, disc_weight=0.8, disc_start=0, adaptive=True):
        self.rec_weight, self.disc_weight, self.disc_start, self.adaptive = float(rec_weight), float(disc_weight), int(disc_start), bool(adaptive)

    @property
    def name(self):
        return "reconstruction"

    def generator_penalty(self, gan, real, fake, labels):
        return self.rec_weight * tf.reduce_mean(tf.abs(tf.cast(real, tf.float32) - tf.cast(fake, tf.float32)), axis=[1, 2, 3])

    def adversarial_weight(self, gan, terms, gradient):
        weight = tf.constant(self.disc_weight)
        if self.adaptive:
            layer = gan.generator.last_layer
            likelihood = tuple(name for name in (self.name, "perceptual") if name in terms)  # taming's "nll" term
            ratio = tf.norm(gradient(likelihood, layer)) / (tf.norm(gradient("adversarial", layer)) + 1e-4)
            weight *= tf.clip_by_value(ratio, 0.0, 1e4)
        return tf.where(gan.step >= self.disc_start, weight, 0.0)

    def get_config(self):
        return {"rec_weight": self.rec_weight, "disc_weight": self.disc_weight, "disc_start": self.disc_start, "adaptive": self.adaptive}


@keras.saving.register_keras_serializable(package="tfgan")
class CodebookUpkeep(Hook):
    """After each step: with an EMA codebook, its moving averages updated from the G update's
    global batch; the codebook's `codebook_usage` (the share of its codes that the G
    update's batch used, over all replicas) and `codebook_perplexity` (exp of the entropy of
    their frequencies), logged; and where `restart_after` > 0, codes unused for that many
    steps in a row take a random encoder output of the global batch (drawn by the hook's
    stateless seed: the same on every replica, and on resume), the cure for codebook
    collapse. The idle counts are kept in checkpoints."""

    logged = ("codebook_usage", "codebook_perplexity")

    def __init__(self, restart_after=0):
        if int(restart_after) < 0:
            raise ValueError(f"Received an invalid value for `restart_after`, expected >= 0 (0: off). Received: restart_after={restart_after}")
        self.restart_after = int(restart_after)

    def attach(self, gan):
        self.quantizer = gan.generator.quantizer
        self.idle = keras.Variable(tf.zeros([self.quantizer.num_codes], tf.int32), trainable=False, aggregation="only_first_replica",
                                   name="codebook_idle_steps")

    def state(self):
        return {"codebook_idle_steps": [self.idle]}

    def after_generator_step(self, gan):
        quantizer = self.quantizer
        vectors, indices = quantizer.assigned  # the G update's batch, this replica's share
        counts = replicas_sum(tf.math.bincount(indices, minlength=quantizer.num_codes, maxlength=quantizer.num_codes, dtype=tf.float32))
        if quantizer.ema_decay is not None:
            quantizer.update_ema(counts, replicas_sum(tf.math.unsorted_segment_sum(vectors, indices, quantizer.num_codes)))
        if self.restart_after:
            codebook, idle, dead = quantizer_lib.restart_dead(
                tf.convert_to_tensor(quantizer.codebook), self.idle, counts, replicas_gather(vectors), self.restart_after, gan.hook_seed(self),
            )
            quantizer.replace(dead, tf.cast(codebook, quantizer.codebook.dtype))
            self.idle.assign(idle)
        return {"codebook_usage": quantizer_lib.usage(counts), "codebook_perplexity": quantizer_lib.perplexity(counts)}

    def get_config(self):
        return {"restart_after": self.restart_after}


def build(config, examples, d_shape):
    """(the autoencoder, the patch D) for `model.network: vqgan` (tfgan.architectures)."""
    options = config.model.vqgan
    autoencoder = VQAutoencoder(
        examples.sample_shape, options.channels, options.channel_mult, options.num_res_blocks, options.num_codes, options.code_dim,
        options.beta, options.ema_decay, options.normalize_codes, name="generator",
    )
    discriminator = PatchDiscriminator(d_shape, options.d_filters, options.d_layers, config.distribute.sync_batch_norm, name="discriminator")
    return autoencoder, discriminator


def hooks(config):
    options = config.model.vqgan
    perceptual = [PerceptualLoss(options.perceptual, options.perceptual_weight)] if options.perceptual else []
    return [VQGANLoss(options.rec_weight, options.disc_weight, options.disc_start, options.adaptive_weight), *perceptual,
            CodebookUpkeep(options.restart_after)]
