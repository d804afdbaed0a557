"""Generator and discriminator networks (`tfgan.architectures` names them for configs).

A generator takes `(z, labels=None, training=None)` and has `latent_dim`,
`num_classes` and `sample_shape`; a discriminator takes
`(samples, labels=None, training=None)` and returns logits. Any pair of
`keras.Model`s with that contract trains in `tfgan.GAN`.
"""

from tfgan.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from tfgan.networks.mlp import MLPDiscriminator, MLPGenerator
from tfgan.networks.packing import PackedDiscriminator
from tfgan.networks.pggan import PGGANDiscriminator, PGGANGenerator
from tfgan.networks.stylegan2 import StyleGAN2Discriminator, StyleGAN2Generator
from tfgan.networks.vqgan import PatchDiscriminator, VQAutoencoder
from tfgan.networks.vqgan_prior import VQGANSampler

__all__ = [
    "DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "PackedDiscriminator",
    "PGGANDiscriminator", "PGGANGenerator", "StyleGAN2Discriminator", "StyleGAN2Generator", "PatchDiscriminator", "VQAutoencoder",
    "VQGANSampler",
]
