"""StyleGAN2 (Karras et al. 2020, https://arxiv.org/abs/1912.04958): config E/F's
skip generator and residual discriminator, as StyleGAN2-ADA builds them.

G = synthesis(mapping(z)): the mapping network (`style_layers.MappingNetwork`)
turns z into w; synthesis starts from a learned 4x4 constant and, per
resolution 4, 8, ..., r, runs two modulated 3x3 convolutions (the first
upsampling 2x with the [1, 3, 3, 1] filter), each fed its own w, and a toRGB
whose output is added to the upsampled image so far (skip connections). Each
convolution takes one entry of ws, toRGB the next one: num_ws = 2 log2(r) - 2.

D: fromRGB at r, then per resolution a residual block (two 3x3 convolutions, the
second downsampling, beside a 1x1 downsampling skip, summed times sqrt(1/2)), and
at 4x4 the minibatch standard deviation (groups of 4 consecutive samples, so that
a batch split over replicas groups as on one device), a 3x3 convolution, a dense
layer and the score; conditional by projection onto a mapped label embedding.

Feature maps at resolution r: min(channel_base / r, channel_max). No custom ops:
both networks are convolutions, matmuls, pads and reshapes, so the generator
exports to SavedModel and ONNX.
"""

import math

import keras
import tensorflow as tf
from keras import ops

from tfgan.networks import equalized, resample
from tfgan.networks.base import Discriminator, MappingSynthesisGenerator
from tfgan.networks.style_layers import NOISE_MODES, MappingNetwork, StyleConv, ToRGB, activate

BASE = 4


def resolutions(size):
    """4, 8, ..., size; `size` must be a power of two >= 4."""
    levels = int(round(math.log2(size))) if size >= BASE else 0
    if size < BASE or 2**levels != size:
        raise ValueError(f"StyleGAN2 needs square power-of-two images of at least {BASE}x{BASE} (4, 8, ..., 1024). Received: {size}x{size}")
    return [2**i for i in range(2, levels + 1)]


def channel_counts(size, channel_base, channel_max):
    """{r: feature maps at resolution r} for r = 4, 8, ..., size: min(channel_base / r, channel_max)."""
    return {r: min(channel_base // r, channel_max) for r in resolutions(size)}


@keras.saving.register_keras_serializable(package="tfgan")
class SynthesisNetwork(keras.layers.Layer):
    """ws [B, num_ws, w_dim] -> images [B, r, r, C], linear (the reference's)."""

    def __init__(self, sample_shape, w_dim, channel_base, channel_max, **kwargs):
        super().__init__(**kwargs)
        self.sample_shape = tuple(int(s) for s in sample_shape)
        if self.sample_shape[0] != self.sample_shape[1]:
            raise ValueError(f"StyleGAN2 needs square images. Received: {self.sample_shape}")
        self.w_dim, self.channel_base, self.channel_max = int(w_dim), int(channel_base), int(channel_max)
        self.resolutions = resolutions(self.sample_shape[0])
        ch = self.channels = channel_counts(self.sample_shape[0], self.channel_base, self.channel_max)
        self.convs, self.to_rgb = [], []
        for r in self.resolutions:
            if r == BASE:
                block = [StyleConv(ch[r], ch[r], r, w_dim, name=f"b{r}_conv1")]
            else:
                block = [StyleConv(ch[r // 2], ch[r], r, w_dim, up=True, name=f"b{r}_conv0"), StyleConv(ch[r], ch[r], r, w_dim, name=f"b{r}_conv1")]
            self.convs.append(block)
            self.to_rgb.append(ToRGB(ch[r], self.sample_shape[2], w_dim, name=f"b{r}_torgb"))
        self.num_ws = sum(len(block) for block in self.convs) + 1

    def build(self, input_shape=None):
        self.const = self.add_weight(
            shape=(BASE, BASE, self.channels[BASE]),
            initializer=keras.initializers.RandomNormal(0.0, 1.0), name="const",
        )
        for block, to_rgb in zip(self.convs, self.to_rgb):
            for layer in block:
                layer.build()
            to_rgb.build()
        self.built = True

    @property
    def noise_layers(self):
        """The layers with a noise input, in the order a list of noise maps follows."""
        return [layer for block in self.convs for layer in block]

    def call(self, ws, training=None, seed=None, noise="auto", features=False):
        noise_maps = None
        if isinstance(noise, (list, tuple)):  # one map per noise layer
            if len(noise) != len(self.noise_layers):
                raise ValueError(f"Received {len(noise)} noise maps; expected one per noise layer, {len(self.noise_layers)}.")
            noise_maps, noise = list(noise), "maps"
        elif noise not in NOISE_MODES:
            raise ValueError(f"Received an invalid value for `noise`, expected one of {list(NOISE_MODES)}. Received: noise={noise!r}")
        if noise == "auto":
            noise = "random" if seed is not None else "const"
        if noise == "random" and seed is None:
            raise ValueError("noise='random' draws from a stateless seed: pass `seed` (a [2] int tensor).")
        ws = ops.cast(ws, self.compute_dtype)
        x = ops.tile(ops.cast(self.const, self.compute_dtype)[None], (ops.shape(ws)[0], 1, 1, 1))
        images, maps, index = None, [], 0
        for block, to_rgb in zip(self.convs, self.to_rgb):
            for layer in block:
                layer_seed = None if seed is None else tf.random.experimental.stateless_fold_in(seed, index)
                x = layer(x, ws[:, index], noise=noise_maps[index] if noise_maps else noise, seed=layer_seed)
                index += 1
            maps.append(x)
            rgb = to_rgb(x, ws[:, index])  # the next layer's w
            images = rgb if images is None else resample.upsample(images) + rgb
        return (images, maps) if features else images

    def get_config(self):
        return {
            **super().get_config(), "sample_shape": self.sample_shape, "w_dim": self.w_dim,
            "channel_base": self.channel_base, "channel_max": self.channel_max,
        }


@keras.saving.register_keras_serializable(package="tfgan")
class StyleGAN2Generator(MappingSynthesisGenerator):
    """z [B, latent_dim] (and labels [B]) -> images [B, r, r, C]; see `MappingSynthesisGenerator`."""

    def __init__(
        self, sample_shape, latent_dim=512, num_classes=0, w_dim=512, mapping_layers=8, channel_base=16384,
        channel_max=512, style_mixing=0.9, w_avg_beta=0.995, **kwargs,
    ):
        super().__init__(**kwargs)
        self.sample_shape = tuple(int(s) for s in sample_shape)
        self.latent_dim, self.num_classes = int(latent_dim), int(num_classes)
        self.mapping_layers, self.style_mixing, self.w_avg_beta = int(mapping_layers), float(style_mixing), float(w_avg_beta)
        self.mapping_network = MappingNetwork(latent_dim, w_dim, mapping_layers, num_classes, w_avg_beta=w_avg_beta, name="mapping")
        self.synthesis_network = SynthesisNetwork(sample_shape, w_dim, channel_base, channel_max, name="synthesis")
        self.build()  # its weights exist from the start: the halves are called on their own (inversion, editing)

    def build(self, input_shape=None):
        for half in (self.mapping_network, self.synthesis_network):
            if not half.built:  # a half called on its own builds itself first
                half.build()
        self.built = True

    def get_config(self):
        synthesis = self.synthesis_network
        return {
            **super().get_config(), "sample_shape": self.sample_shape, "latent_dim": self.latent_dim,
            "num_classes": self.num_classes, "w_dim": synthesis.w_dim, "mapping_layers": self.mapping_layers,
            "channel_base": synthesis.channel_base, "channel_max": synthesis.channel_max,
            "style_mixing": self.style_mixing, "w_avg_beta": self.w_avg_beta,
        }


def _conv(filters, kernel_size, **kwargs):
    # Equalized with gain 1: the activation carries StyleGAN's sqrt(2).
    return equalized.EqualizedConv2D(filters, kernel_size, gain=1.0, **kwargs)


@keras.saving.register_keras_serializable(package="tfgan")
class StyleGAN2Discriminator(Discriminator):
    """images [B, r, r, C] (and labels [B]) -> scores [B, 1] (float32)."""

    def __init__(self, sample_shape, num_classes=0, channel_base=16384, channel_max=512, mbstd_group=4, mapping_layers=8, mbstd_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.sample_shape = tuple(int(s) for s in sample_shape)
        self.num_classes, self.channel_base, self.channel_max = int(num_classes), int(channel_base), int(channel_max)
        self.mbstd_group, self.mapping_layers, self.mbstd_channels = int(mbstd_group), int(mapping_layers), int(mbstd_channels)
        top = self.sample_shape[0]
        ch = self.channels = channel_counts(top, self.channel_base, self.channel_max)
        self.block_resolutions = [r for r in reversed(resolutions(top)) if r > BASE]
        self.from_rgb = _conv(ch[top], 1, name=f"b{top}_fromrgb")
        self.blocks = [
            [_conv(ch[r], 3, name=f"b{r}_conv0"), _conv(ch[r // 2], 3, down=True, name=f"b{r}_conv1"),
             _conv(ch[r // 2], 1, down=True, use_bias=False, name=f"b{r}_skip")]
            for r in self.block_resolutions
        ]
        self.stddev = (
            equalized.MinibatchStddev(self.mbstd_group, contiguous=True, num_channels=self.mbstd_channels, name="b4_mbstd")
            if self.mbstd_group != 1 else None
        )
        self.last_conv = _conv(ch[BASE], 3, name="b4_conv")
        self.dense = equalized.EqualizedDense(ch[BASE], gain=1.0, name="b4_fc")
        self.cmap_dim = ch[BASE] if self.num_classes else 0
        self.score = equalized.EqualizedDense(self.cmap_dim or 1, gain=1.0, dtype="float32", name="b4_out")
        self.label_map = (
            MappingNetwork(0, self.cmap_dim, mapping_layers, num_classes, w_avg_beta=None, dtype="float32", name="mapping")
            if self.num_classes else None
        )

    def build(self, input_shape=None):
        ch, top = self.channels, self.sample_shape[0]
        self.from_rgb.build((None, top, top, self.sample_shape[2]))
        for r, (conv0, conv1, skip) in zip(self.block_resolutions, self.blocks):
            conv0.build((None, r, r, ch[r]))
            conv1.build((None, r, r, ch[r]))
            skip.build((None, r, r, ch[r]))
        self.last_conv.build((None, BASE, BASE, ch[BASE] + (self.mbstd_channels if self.stddev is not None else 0)))
        self.dense.build((None, BASE * BASE * ch[BASE]))
        self.score.build((None, ch[BASE]))
        if self.label_map is not None:
            self.label_map.build()
        self.built = True

    def call(self, images, labels=None, training=None):
        x = activate(self.from_rgb(images))
        for conv0, conv1, skip in self.blocks:
            shortcut = skip(x) * math.sqrt(0.5)
            x = shortcut + activate(conv1(activate(conv0(x)))) * math.sqrt(0.5)
        if self.stddev is not None:
            x = self.stddev(x)
        x = activate(self.last_conv(x))
        x = activate(self.dense(ops.reshape(x, (-1, BASE * BASE * x.shape[-1]))))
        scores = self.score(x)
        if self.label_map is None:
            return scores
        # Projection (Miyato & Koyama 2018) onto the label's mapped embedding, as StyleGAN2-ADA's D.
        cmap = self.label_map(tf.zeros([tf.shape(images)[0], 0]), labels)
        return ops.sum(scores * cmap, axis=1, keepdims=True) / math.sqrt(self.cmap_dim)

    def get_config(self):
        return {
            **super().get_config(), "sample_shape": self.sample_shape, "num_classes": self.num_classes,
            "channel_base": self.channel_base, "channel_max": self.channel_max, "mbstd_group": self.mbstd_group,
            "mapping_layers": self.mapping_layers, "mbstd_channels": self.mbstd_channels,
        }


def build(config, examples, d_shape):
    """(G, D) for `model.network: stylegan2` (tfgan.architectures)."""
    options = config.model.stylegan2
    height, width, _ = examples.sample_shape
    if height != width:
        raise ValueError(f"the data's images are {height}x{width}; StyleGAN2 needs square images (set data.resolution)")
    resolutions(height)  # a clear error for 28x28: pad MNIST to 32 (data.pad: 2)
    num_classes = examples.num_classes if config.model.conditional else 0
    generator = StyleGAN2Generator(
        examples.sample_shape, config.model.latent_dim, num_classes, options.w_dim, options.mapping_layers,
        options.channel_base, options.channel_max, options.style_mixing, name="generator",
    )
    discriminator = StyleGAN2Discriminator(
        d_shape, num_classes, options.channel_base, options.channel_max, options.mbstd_group, options.mapping_layers, options.mbstd_channels,
        name="discriminator",
    )
    return generator, discriminator


def hooks(config):
    from tfgan.penalties import PathLengthPenalty

    options = config.model.stylegan2
    if not options.pl_weight:
        return []
    return [PathLengthPenalty(options.pl_weight, options.pl_decay, options.pl_every, options.pl_batch_shrink)]
