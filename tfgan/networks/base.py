"""The contract every generator and discriminator keeps.

A generator is called `G(z, labels=None, training=None)` and has `latent_dim`,
`num_classes` and `sample_shape`; a discriminator is called
`D(samples, labels=None, training=None)` and returns logits. The base classes
also rebuild a deserialized network's weights (`build_from_config`).

Mixed precision: networks are built under a Keras dtype policy
(`dtype_policy("mixed_bfloat16")`), which their layers pick up; a
discriminator's last layer computes in float32 so that logits, and the losses
on them, keep float32 precision.
"""

import contextlib
import random

import keras
from keras import ops


@contextlib.contextmanager
def dtype_policy(name):
    """Layers created inside use the Keras dtype policy `name`; the previous one returns after."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@contextlib.contextmanager
def seeded_weights(seed):
    """Networks built inside get initial weights that depend on `seed` alone.

    Keras gives each unseeded initializer a seed drawn from Python's `random`
    when the layer is made. Seeding `random` for the block, and handing the
    caller's state back after, fixes the weights without the process-wide side
    effects of `keras.utils.set_random_seed` (NumPy's, TensorFlow's and Python's
    generators all reseeded for the rest of the program).
    """
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def spectral(layer, enabled):
    """`layer` wrapped in Keras' SpectralNormalization where `enabled` (SN-GAN, Miyato et al. 2018).

    The wrapper computes in the layer's own dtype, so a float32 logit layer keeps
    float32 logits under mixed precision.
    """
    if not enabled:
        return layer
    return keras.layers.SpectralNormalization(layer, dtype=layer.dtype_policy, name=f"{layer.name}_sn")


def _labels(num_classes):
    return ops.zeros((1,), "int32") if num_classes else None


class Generator(keras.Model):
    def build_from_config(self, config):
        self(ops.zeros((1, self.latent_dim)), _labels(self.num_classes), training=False)


class Discriminator(keras.Model):
    def build_from_config(self, config):
        self(ops.zeros((1, *self.sample_shape)), _labels(self.num_classes), training=False)
