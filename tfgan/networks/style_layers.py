"""The layers of StyleGAN2's generator (Karras et al. 2020, https://arxiv.org/abs/1912.04958).

- `MappingNetwork`: z (and a class embedding) -> w through an MLP whose
  learning rate is 100x smaller (lr multiplier 0.01); keeps `w_avg`, the running
  mean of w (beta 0.995), the centre truncation pulls toward.
- `ModulatedConv2D`: a convolution whose input channels are scaled by a style
  s = A(w) per sample, then demodulated: each output map divided by the norm
  its per-sample weights would have, sqrt(sum (w_ijk s_i)^2 + 1e-8), which takes
  a unit-variance input to a unit-variance output whatever the styles (the
  paper's eq. 3). Computed as scale -> shared convolution -> scale (the
  reference's non-fused path), so it is one plain conv op, exportable anywhere.
- `StyleConv`: a modulated 3x3 convolution (with 2x upsampling where `up`),
  per-pixel noise times a learned strength, a bias and leaky ReLU x sqrt(2).
- `ToRGB`: a modulated 1x1 convolution without demodulation, to the image.

Every weight has the equalized learning rate of `tfgan.networks.equalized`.
"""

import math

import keras
import tensorflow as tf
from keras import ops

from tfgan.replicas import replica_share
from tfgan.networks import resample
from tfgan.networks.equalized import EqualizedDense

SQRT2 = math.sqrt(2.0)
NOISE_MODES = ("auto", "random", "const", "none")


def activate(x):
    """Leaky ReLU 0.2 with StyleGAN's gain sqrt(2), which keeps the signal's magnitude."""
    return ops.leaky_relu(x, negative_slope=0.2) * SQRT2


def normalize_2nd_moment(x, epsilon=1e-8):
    return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + epsilon)


@keras.saving.register_keras_serializable(package="tfgan")
class MappingNetwork(keras.layers.Layer):
    """z [B, z_dim] (and labels [B]) -> w [B, w_dim]. With z_dim 0 it maps labels alone
    (StyleGAN2-ADA's conditional D uses one so); `w_avg_beta` None: no w_avg."""

    def __init__(self, z_dim, w_dim, num_layers, num_classes=0, lr_multiplier=0.01, w_avg_beta=0.995, **kwargs):
        super().__init__(**kwargs)
        self.z_dim, self.w_dim, self.num_layers, self.num_classes = int(z_dim), int(w_dim), int(num_layers), int(num_classes)
        self.lr_multiplier, self.w_avg_beta = float(lr_multiplier), w_avg_beta
        self.embed = EqualizedDense(w_dim, gain=1.0, name="embed") if self.num_classes else None
        self.dense = [EqualizedDense(w_dim, gain=1.0, lr_multiplier=self.lr_multiplier, name=f"fc{i}") for i in range(self.num_layers)]

    def build(self, input_shape=None):
        if self.embed is not None:
            self.embed.build((None, self.num_classes))
        width = self.z_dim + (self.w_dim if self.num_classes else 0)
        for layer in self.dense:
            layer.build((None, width))
            width = self.w_dim
        # Mean aggregation: each replica moves it toward its own batch's mean w, and the
        # mean of those moves is the move toward the global batch's mean (lerp is linear).
        self.w_avg = self.add_weight(shape=(self.w_dim,), initializer="zeros", trainable=False, aggregation="mean", name="w_avg")
        self.built = True

    def call(self, z, labels=None, training=None, update_w_avg=True):
        parts = [normalize_2nd_moment(ops.cast(z, self.compute_dtype))] if self.z_dim else []
        if self.num_classes:
            one_hot = ops.one_hot(ops.cast(labels, "int32"), self.num_classes, dtype=self.compute_dtype)
            parts.append(normalize_2nd_moment(self.embed(one_hot)))
        x = ops.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]
        for layer in self.dense:
            x = activate(layer(x))
        if training and update_w_avg and self.w_avg_beta is not None:
            batch_mean = ops.cast(ops.mean(x, axis=0), "float32")
            self.w_avg.assign(batch_mean + (self.w_avg - batch_mean) * self.w_avg_beta)
        return x

    def get_config(self):
        return {
            **super().get_config(), "z_dim": self.z_dim, "w_dim": self.w_dim, "num_layers": self.num_layers,
            "num_classes": self.num_classes, "lr_multiplier": self.lr_multiplier, "w_avg_beta": self.w_avg_beta,
        }


@keras.saving.register_keras_serializable(package="tfgan")
class ModulatedConv2D(keras.layers.Layer):
    """x [B, H, W, in_channels] and w [B, w_dim] -> [B, H', W', filters] ('same' padding;
    H' = 2H where `up`). Weights N(0, 1) times 1/sqrt(fan_in); the style affine's bias starts at 1."""

    def __init__(self, in_channels, filters, kernel_size, w_dim, demodulate=True, up=False, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.filters, self.kernel_size, self.w_dim = int(in_channels), int(filters), int(kernel_size), int(w_dim)
        self.demodulate, self.up = bool(demodulate), bool(up)
        self.affine = EqualizedDense(self.in_channels, gain=1.0, bias_init=1.0, name="affine")

    def build(self, input_shape=None):
        self.affine.build((None, self.w_dim))
        shape = (self.kernel_size, self.kernel_size, self.in_channels, self.filters)
        self.kernel = self.add_weight(shape=shape, initializer=keras.initializers.RandomNormal(0.0, 1.0), name="kernel")
        self.scale = 1.0 / math.sqrt(self.kernel_size * self.kernel_size * self.in_channels)
        self.built = True

    def call(self, x, w):
        styles = self.affine(w)  # [B, in]
        kernel = ops.cast(self.kernel * self.scale, self.compute_dtype)
        x = x * styles[:, None, None, :]
        if self.up:
            x = resample.upsample(x)
        x = ops.conv(x, kernel, padding="same")
        if self.demodulate:
            # |per-sample weights|^2 for each output map: sum_i s_i^2 sum_jk w_ijk^2.
            energy = ops.matmul(ops.square(styles), ops.sum(ops.square(kernel), axis=(0, 1)))  # [B, filters]
            x = x * ops.rsqrt(energy + 1e-8)[:, None, None, :]
        return x

    def get_config(self):
        return {
            **super().get_config(), "in_channels": self.in_channels, "filters": self.filters, "kernel_size": self.kernel_size,
            "w_dim": self.w_dim, "demodulate": self.demodulate, "up": self.up,
        }


@keras.saving.register_keras_serializable(package="tfgan")
class StyleConv(keras.layers.Layer):
    """One synthesis layer at `resolution` (its output size): modulated 3x3 conv, noise, bias, activation.

    The noise input is one map per pixel [B, r, r, 1] times a learned strength that
    starts at 0: `random` draws it from a stateless seed, `const` uses a fixed map
    kept with the weights (a deterministic generator), `none` adds nothing, and a
    tensor [B or 1, r, r, 1] is the map itself (GAN inversion optimizes it).
    """

    def __init__(self, in_channels, filters, resolution, w_dim, up=False, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.filters, self.resolution, self.w_dim, self.up = int(in_channels), int(filters), int(resolution), int(w_dim), bool(up)
        self.conv = ModulatedConv2D(in_channels, filters, 3, w_dim, up=up, name="conv")

    def build(self, input_shape=None):
        self.conv.build()
        size = self.resolution
        self.noise_const = self.add_weight(shape=(1, size, size, 1), initializer=keras.initializers.RandomNormal(0.0, 1.0), trainable=False, name="noise_const")
        self.noise_strength = self.add_weight(shape=(), initializer="zeros", name="noise_strength")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")
        self.built = True

    def call(self, x, w, noise="const", seed=None):
        x = self.conv(x, w)
        if not isinstance(noise, str):
            x = x + ops.cast(noise, x.dtype) * ops.cast(self.noise_strength, x.dtype)
        elif noise == "random":
            size = self.resolution
            draw = lambda n: tf.random.stateless_normal([n, size, size, 1], seed=seed, dtype=x.dtype)  # noqa: E731
            x = x + replica_share(draw, tf.shape(x)[0]) * ops.cast(self.noise_strength, x.dtype)
        elif noise == "const":
            x = x + ops.cast(self.noise_const * self.noise_strength, x.dtype)
        return activate(x + ops.cast(self.bias, x.dtype))

    def get_config(self):
        return {
            **super().get_config(), "in_channels": self.in_channels, "filters": self.filters, "resolution": self.resolution,
            "w_dim": self.w_dim, "up": self.up,
        }


@keras.saving.register_keras_serializable(package="tfgan")
class ToRGB(keras.layers.Layer):
    def __init__(self, in_channels, channels, w_dim, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.channels, self.w_dim = int(in_channels), int(channels), int(w_dim)
        self.conv = ModulatedConv2D(in_channels, channels, 1, w_dim, demodulate=False, name="conv")

    def build(self, input_shape=None):
        self.conv.build()
        self.bias = self.add_weight(shape=(self.channels,), initializer="zeros", name="bias")
        self.built = True

    def call(self, x, w):
        return self.conv(x, w) + ops.cast(self.bias, x.dtype)

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels, "channels": self.channels, "w_dim": self.w_dim}
