"""Generator and discriminator networks, looked up by name.

A generator takes `(z, labels=None, training=None)` and has `latent_dim`,
`num_classes` and `sample_shape`; a discriminator takes
`(samples, labels=None, training=None)` and returns logits. Any pair of
`keras.Model`s with that contract trains in `tfgan.GAN`.
"""

from tfgan.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from tfgan.networks.mlp import MLPDiscriminator, MLPGenerator
from tfgan.networks.packing import PackedDiscriminator

_NETWORKS = {
    "mlp": (MLPGenerator, MLPDiscriminator),
    "dcgan": (DCGANGenerator, DCGANDiscriminator),
}

NAMES = tuple(_NETWORKS)


def get(name):
    """Returns the (generator class, discriminator class) pair for a name."""
    if name not in _NETWORKS:
        raise ValueError(f"Unknown network {name!r}. Expected one of: {', '.join(NAMES)}.")
    return _NETWORKS[name]


__all__ = [
    "DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "PackedDiscriminator", "get", "NAMES",
]
