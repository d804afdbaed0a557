"""Progressive growing of GANs (Karras et al. 2018, https://arxiv.org/abs/1710.10196).

G and D are built whole, for the target resolution, from the start: one fixed
set of variables, so a checkpoint, the optimizers and the EMA of G never change
shape. `grow(resolution)` chooses how much of each network a call runs; a 4x4
phase traces only the 4x4 layers, so its step does not pay for larger ones.

During a fade-in (`alpha` < 1) the new block is blended with the previous
resolution's path, as in the reference implementation:

    G: images = lerp(upsample(toRGB_old(x_old)), toRGB_new(block_new(x_old)), alpha)
    D: x      = lerp(fromRGB_old(avgpool(images)), block_new(fromRGB_new(images)), alpha)

so at alpha = 0 G makes exactly the previous resolution's images, nearest-
upsampled, and D judges exactly what the previous D would judge of the images
averaged down. `FadeRealImages` blends the real images the same way.

Architecture (the paper's Table 2): feature maps min(fmap_base / 2^stage, fmap_max);
latent vector pixel-normalised; G: dense to 4x4, 3x3 convs, nearest-neighbour
upsampling, pixel norm after each conv, leaky ReLU 0.2, linear 1x1 toRGB;
D: 1x1 fromRGB, 3x3 convs, 2x2 average pooling, the minibatch standard
deviation before the last 3x3 conv, then dense 4x4 -> fmaps -> 1 score.
"""

import math

import keras
from keras import ops

from tfgan.hooks import Hook
from tfgan.networks import equalized
from tfgan.networks.base import Discriminator, Generator

BASE = 4  # the first resolution


def levels(resolution):
    """How many doublings take 4x4 to `resolution`; it must be a power of two >= 4."""
    stages = int(round(math.log2(resolution))) - 2 if resolution >= BASE else -1
    if stages < 0 or BASE * 2**stages != resolution:
        raise ValueError(f"PGGAN needs a square power-of-two resolution >= {BASE} (4, 8, ..., 1024). Received: resolution={resolution}")
    return stages


def _level(resolution, top):
    level = levels(resolution)
    if level > top:
        raise ValueError(f"Cannot grow to {resolution}x{resolution}: the network was built for {BASE * 2**top}x{BASE * 2**top}.")
    return level


def _fading(alpha):
    """Whether a call must blend in the previous resolution (alpha a tensor, or a number < 1)."""
    return not (isinstance(alpha, (int, float)) and alpha >= 1.0)


def _lerp(old, new, alpha):
    return old + (new - old) * ops.cast(alpha, new.dtype)


def _act(x):
    return ops.leaky_relu(x, negative_slope=0.2)


def upscale(images, factor):
    """Nearest-neighbour upsampling by an integer factor."""
    if factor == 1:
        return images
    return ops.repeat(ops.repeat(images, factor, axis=1), factor, axis=2)


def downscale(images, factor=2):
    """2x2 (factor x factor) average pooling."""
    if factor == 1:
        return images
    return ops.average_pool(images, factor, factor, padding="valid")


class _Growing:
    """What G and D share: the feature maps per stage and the level being trained."""

    grows = True  # tfgan.GAN passes `alpha` to every call and calls `grow` at each phase

    def _setup(self, sample_shape, level, fmap_base, fmap_max):
        self.target_shape = tuple(int(s) for s in sample_shape)  # what it is built for
        self.top = levels(self.target_shape[0])
        self.level = self.top if level is None else int(level)
        self.fmap_base, self.fmap_max = int(fmap_base), int(fmap_max)

    def fmaps(self, stage):
        return min(self.fmap_base // 2**stage, self.fmap_max)

    def grow(self, resolution):
        """Runs the network at `resolution` (a power of two up to the built one) from the next trace on."""
        self.level = _level(resolution, self.top)

    @property
    def resolution(self):
        return BASE * 2**self.level

    @property
    def sample_shape(self):
        """The shape of the images it makes or judges now (the target shape once grown fully)."""
        return (self.resolution, self.resolution, self.target_shape[2])


@keras.saving.register_keras_serializable(package="tfgan")
class PGGANGenerator(_Growing, Generator):
    """z [B, latent_dim] -> images [B, r, r, C] at the current resolution r, linear output (the reference's)."""

    def __init__(self, sample_shape, latent_dim=512, fmap_base=8192, fmap_max=512, level=None, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self._setup(sample_shape, level, fmap_base, fmap_max)
        self.latent_dim, self.num_classes, self.alpha = int(latent_dim), 0, float(alpha)
        self.pixel_norm = equalized.PixelNormalization(name="pixel_norm")
        # The reference's gain sqrt(2)/4 on the 4x4 projection (from its Theano original).
        self.project = equalized.EqualizedDense(self.fmaps(1) * 16, gain=equalized.HE_GAIN / 4, name="project")
        self.blocks = [[equalized.EqualizedConv2D(self.fmaps(1), 3, name="b4_conv")]]
        for level in range(1, self.top + 1):
            size, width = BASE * 2**level, self.fmaps(level + 1)
            self.blocks.append([equalized.EqualizedConv2D(width, 3, name=f"b{size}_conv{i}") for i in range(2)])
        self.to_rgb = [
            equalized.EqualizedConv2D(self.target_shape[2], 1, gain=1.0, name=f"to_rgb_{BASE * 2**level}")
            for level in range(self.top + 1)
        ]

    def build(self, input_shape):
        # Every layer, at every resolution, so that the variables never change.
        self.project.build((None, self.latent_dim))
        self.blocks[0][0].build((None, BASE, BASE, self.fmaps(1)))
        for level in range(1, self.top + 1):
            size, width = BASE * 2**level, self.fmaps(level + 1)
            self.blocks[level][0].build((None, size, size, self.fmaps(level)))
            self.blocks[level][1].build((None, size, size, width))
        for level, layer in enumerate(self.to_rgb):
            layer.build((None, BASE * 2**level, BASE * 2**level, self.fmaps(level + 1)))
        self.built = True

    def _conv(self, layer, x):
        return self.pixel_norm(_act(layer(x)))

    def call(self, z, labels=None, training=None, alpha=None):
        alpha = self.alpha if alpha is None else alpha
        x = self.project(self.pixel_norm(z))  # the latent vector on the unit hypersphere (times sqrt(dim))
        x = self.pixel_norm(_act(ops.reshape(x, (-1, BASE, BASE, self.fmaps(1)))))
        x = self._conv(self.blocks[0][0], x)
        previous = x
        for level in range(1, self.level + 1):
            previous = x
            x = upscale(x, 2)
            for layer in self.blocks[level]:
                x = self._conv(layer, x)
        images = self.to_rgb[self.level](x)
        if self.level and _fading(alpha):
            images = _lerp(upscale(self.to_rgb[self.level - 1](previous), 2), images, alpha)
        return images

    def get_config(self):
        return {
            **super().get_config(),
            "sample_shape": self.target_shape, "latent_dim": self.latent_dim, "fmap_base": self.fmap_base,
            "fmap_max": self.fmap_max, "level": self.level, "alpha": self.alpha,
        }


@keras.saving.register_keras_serializable(package="tfgan")
class PGGANDiscriminator(_Growing, Discriminator):
    """images [B, r, r, C] at the current resolution r -> scores [B, 1] (float32)."""

    def __init__(self, sample_shape, fmap_base=8192, fmap_max=512, mbstd_group=4, level=None, **kwargs):
        super().__init__(**kwargs)
        self._setup(sample_shape, level, fmap_base, fmap_max)
        self.num_classes, self.mbstd_group = 0, int(mbstd_group)
        self.from_rgb = [equalized.EqualizedConv2D(self.fmaps(level + 1), 1, name=f"from_rgb_{BASE * 2**level}") for level in range(self.top + 1)]
        self.blocks = [None]
        for level in range(1, self.top + 1):
            size = BASE * 2**level
            self.blocks.append([
                equalized.EqualizedConv2D(self.fmaps(level + 1), 3, name=f"b{size}_conv0"),
                equalized.EqualizedConv2D(self.fmaps(level), 3, name=f"b{size}_conv1"),
            ])
        self.stddev = equalized.MinibatchStddev(self.mbstd_group, name="minibatch_stddev") if self.mbstd_group != 1 else None
        self.last_conv = equalized.EqualizedConv2D(self.fmaps(1), 3, name="b4_conv")
        self.dense = equalized.EqualizedDense(self.fmaps(0), name="b4_dense")
        self.score = equalized.EqualizedDense(1, gain=1.0, dtype="float32", name="score")  # float32 scores

    def build(self, input_shape):
        channels = self.target_shape[2]
        for level, layer in enumerate(self.from_rgb):
            layer.build((None, BASE * 2**level, BASE * 2**level, channels))
        for level in range(1, self.top + 1):
            size = BASE * 2**level
            self.blocks[level][0].build((None, size, size, self.fmaps(level + 1)))
            self.blocks[level][1].build((None, size, size, self.fmaps(level + 1)))
        self.last_conv.build((None, BASE, BASE, self.fmaps(1) + (self.stddev is not None)))
        self.dense.build((None, BASE * BASE * self.fmaps(1)))
        self.score.build((None, self.fmaps(0)))
        self.built = True

    def _block(self, level, x):
        for layer in self.blocks[level]:
            x = _act(layer(x))
        return downscale(x)

    def call(self, images, labels=None, training=None, alpha=1.0):
        x = _act(self.from_rgb[self.level](images))
        if self.level:
            x = self._block(self.level, x)
            if _fading(alpha):
                x = _lerp(_act(self.from_rgb[self.level - 1](downscale(images))), x, alpha)
        for level in range(self.level - 1, 0, -1):
            x = self._block(level, x)
        if self.stddev is not None:
            x = self.stddev(x)
        x = _act(self.last_conv(x))
        x = _act(self.dense(ops.reshape(x, (-1, BASE * BASE * self.fmaps(1)))))
        return self.score(x)

    def get_config(self):
        return {
            **super().get_config(),
            "sample_shape": self.target_shape, "fmap_base": self.fmap_base, "fmap_max": self.fmap_max,
            "mbstd_group": self.mbstd_group, "level": self.level,
        }


@keras.saving.register_keras_serializable(package="tfgan")
class FadeRealImages(Hook):
    """During a fade-in, D sees real images blended like G's output: the images
    averaged down 2x and upsampled back, mixed with themselves by alpha (the
    reference's `process_reals`). At alpha = 1 the reals pass unchanged."""

    def real_images(self, gan, images):
        if gan.phase is None or not gan.phase.fades:
            return images
        coarse = upscale(downscale(images), 2)
        return _lerp(coarse, images, gan.fade_alpha())


def build(config, examples, d_shape):
    """(G, D) for `model.network: pggan` (tfgan.architectures), at the last phase's resolution."""
    options, target = config.model.pggan, config.train.phases[-1].resolution
    height, width, _ = examples.sample_shape
    if height != width or height != target:
        relation = "smaller than" if min(height, width) < target else "not"
        raise ValueError(
            f"the data's images are {height}x{width}, {relation} the {target}x{target} of the last phase "
            f"(train.phases); set data.resolution (and data.pad) to make them {target}x{target}"
        )
    generator = PGGANGenerator(examples.sample_shape, config.model.latent_dim, options.fmap_base, options.fmap_max, name="generator")
    discriminator = PGGANDiscriminator(d_shape, options.fmap_base, options.fmap_max, options.mbstd_group, name="discriminator")
    return generator, discriminator


def hooks(config):
    return [FadeRealImages()]
