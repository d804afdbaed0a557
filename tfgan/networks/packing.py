"""PacGAN packing (Lin et al. 2018): the discriminator judges m samples at once.

m samples of a generator that has dropped modes look more alike than m samples
of the data, so a discriminator that sees them jointly can tell, and the
generator is pushed to cover every mode. Packing wraps any discriminator: the
m samples are joined along their last axis (the channels of an image, the
coordinates of a point), so the wrapped network is the usual one built for
`pack` times as many channels.
"""

import keras
from keras import ops

from tfgan.networks.base import Discriminator


def packed_shape(sample_shape, pack):
    """The shape the wrapped discriminator sees: `pack` samples joined on the last axis."""
    return (*sample_shape[:-1], sample_shape[-1] * pack)


@keras.saving.register_keras_serializable(package="tfgan")
class PackedDiscriminator(Discriminator):
    """samples [B, *sample_shape] -> logits [B / pack, ...] from `discriminator`.

    Args:
        discriminator: a discriminator built for `packed_shape(sample_shape, pack)`.
        pack: how many samples are judged together; batches must be a multiple of it.
    """

    def __init__(self, discriminator, pack, **kwargs):
        super().__init__(**kwargs)
        self.discriminator = discriminator
        self.pack = int(pack)
        if self.pack < 1:
            raise ValueError(f"Received an invalid value for `pack`, expected an integer >= 1. Received: pack={pack}")
        if discriminator.num_classes:
            # Packed samples of different classes have no single label to condition on.
            raise ValueError("Packing is for unconditional discriminators; this one is conditional on "
                             f"{discriminator.num_classes} classes.")
        inner = tuple(discriminator.sample_shape)
        if inner[-1] % self.pack:
            raise ValueError(f"The wrapped discriminator's last axis ({inner[-1]}) is not a multiple of pack={self.pack}.")
        self.sample_shape = (*inner[:-1], inner[-1] // self.pack)
        self.num_classes = 0

    @property
    def stochastic(self):
        return getattr(self.discriminator, "stochastic", False)  # its seed passes through

    def call(self, x, labels=None, training=None, **kwargs):
        batch = x.shape[0]
        if batch is not None and batch % self.pack:
            raise ValueError(f"A packed discriminator judges groups of {self.pack} samples, so the batch must "
                             f"be a multiple of {self.pack}. Received a batch of {batch}.")
        rank = len(self.sample_shape)
        groups = ops.reshape(x, (-1, self.pack, *self.sample_shape))
        # [G, pack, ..., C] -> [G, ..., pack, C] -> [G, ..., pack * C]
        groups = ops.transpose(groups, (0, *range(2, rank + 1), 1, rank + 1))
        return self.discriminator(ops.reshape(groups, (-1, *packed_shape(self.sample_shape, self.pack))), training=training, **kwargs)

    def build_from_config(self, config):
        self(ops.zeros((self.pack, *self.sample_shape)), training=False)

    def get_config(self):
        return {
            **super().get_config(),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "pack": self.pack,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)
