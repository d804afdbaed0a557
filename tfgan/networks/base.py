"""The contract every generator and discriminator keeps.

A generator is called `G(z, labels=None, training=None)` and has `latent_dim`,
`num_classes` and `sample_shape`; a discriminator is called
`D(samples, labels=None, training=None)` and returns logits. The base classes
also rebuild a deserialized network's weights (`build_from_config`).
"""

import keras
from keras import ops


def _labels(num_classes):
    return ops.zeros((1,), "int32") if num_classes else None


class Generator(keras.Model):
    def build_from_config(self, config):
        self(ops.zeros((1, self.latent_dim)), _labels(self.num_classes), training=False)


class Discriminator(keras.Model):
    def build_from_config(self, config):
        self(ops.zeros((1, *self.sample_shape)), _labels(self.num_classes), training=False)
