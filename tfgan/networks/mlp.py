"""Fully connected G and D: the original GAN's MLPs and the 2D toy networks.

The same two classes serve both: the MNIST MLP GAN is
`MLPGenerator((28, 28, 1), hidden_units=(256, 512, 1024))` with a tanh output, the
ring and grid toys are `MLPGenerator((2,), output_activation="linear")`.
"""

import math

import keras
import tensorflow as tf
from keras import ops

from tfgan.networks import conditioning
from tfgan.networks.base import Discriminator, Generator, spectral, stateless_dropout


@keras.saving.register_keras_serializable(package="tfgan")
class MLPGenerator(Generator):
    """z [B, latent_dim] (+ labels [B]) -> samples [B, *sample_shape]."""

    def __init__(
        self,
        sample_shape,
        latent_dim=100,
        hidden_units=(256, 512, 1024),
        activation="relu",
        output_activation="tanh",
        num_classes=0,
        label_encoding="embedding",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sample_shape = tuple(int(s) for s in sample_shape)
        self.latent_dim = int(latent_dim)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.activation = activation
        self.output_activation = output_activation
        self.num_classes = int(num_classes)
        self.label_encoding = label_encoding
        if self.num_classes:
            self.label_code = conditioning.label_encoder(
                self.num_classes, label_encoding, self.latent_dim, "label_code"
            )
        self.hidden = [
            keras.layers.Dense(u, activation=activation, name=f"dense_{i}")
            for i, u in enumerate(self.hidden_units)
        ]
        self.out = keras.layers.Dense(
            math.prod(self.sample_shape), activation=output_activation, name="out"
        )

    def call(self, z, labels=None, training=None):
        conditioning.require_labels(self, labels)
        h = z
        if self.num_classes:
            h = ops.concatenate([z, conditioning.encode(self.label_code, labels)], axis=-1)
        for layer in self.hidden:
            h = layer(h)
        return ops.reshape(self.out(h), (-1, *self.sample_shape))

    def get_config(self):
        return {
            **super().get_config(),
            "sample_shape": self.sample_shape,
            "latent_dim": self.latent_dim,
            "hidden_units": self.hidden_units,
            "activation": self.activation,
            "output_activation": self.output_activation,
            "num_classes": self.num_classes,
            "label_encoding": self.label_encoding,
        }


@keras.saving.register_keras_serializable(package="tfgan")
class MLPDiscriminator(Discriminator):
    """samples [B, *sample_shape] (+ labels [B]) -> logits [B, 1]."""

    def __init__(
        self,
        sample_shape,
        hidden_units=(1024, 512, 256),
        activation="relu",
        num_classes=0,
        label_encoding="one_hot",
        conditioning_mode="concat",
        label_dim=50,
        spectral_norm=False,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        conditioning.check_choice("conditioning_mode", conditioning_mode, conditioning.D_CONDITIONINGS)
        self.sample_shape = tuple(int(s) for s in sample_shape)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.spectral_norm = bool(spectral_norm)
        self.dropout = float(dropout)
        self.activation = activation
        self.num_classes = int(num_classes)
        self.label_encoding = label_encoding
        self.conditioning_mode = conditioning_mode
        self.label_dim = int(label_dim)
        if self.num_classes and conditioning_mode == "concat":
            self.label_code = conditioning.label_encoder(
                self.num_classes, label_encoding, self.label_dim, "label_code"
            )
        if self.num_classes and conditioning_mode == "projection":
            # One vector per class, dotted with the last hidden features.
            self.label_code = keras.layers.Embedding(
                self.num_classes, self.hidden_units[-1], name="label_projection"
            )
        self.hidden = [
            spectral(keras.layers.Dense(u, activation=activation, name=f"dense_{i}"), self.spectral_norm)
            for i, u in enumerate(self.hidden_units)
        ]
        # float32 logits under mixed precision
        self.logit = spectral(keras.layers.Dense(1, dtype="float32", name="logit"), self.spectral_norm)

    @property
    def stochastic(self):
        """With dropout (the original GAN's D had it), D draws masks in training from the
        seed `tfgan.GAN` hands it."""
        return self.dropout > 0

    def call(self, x, labels=None, training=None, seed=None):
        conditioning.require_labels(self, labels)
        h = ops.reshape(x, (-1, math.prod(self.sample_shape)))
        if self.num_classes and self.conditioning_mode == "concat":
            h = ops.concatenate([h, conditioning.encode(self.label_code, labels)], axis=-1)
        for i, layer in enumerate(self.hidden):
            h = layer(h)
            if self.dropout and training and seed is not None:
                h = stateless_dropout(h, self.dropout, tf.random.experimental.stateless_fold_in(seed, i))
        logits = self.logit(h)  # [B, 1]
        if self.num_classes and self.conditioning_mode == "projection":
            code = conditioning.encode(self.label_code, labels)
            logits = logits + ops.cast(ops.sum(code * h, axis=-1, keepdims=True), logits.dtype)
        return logits

    def get_config(self):
        return {
            **super().get_config(),
            "sample_shape": self.sample_shape,
            "hidden_units": self.hidden_units,
            "activation": self.activation,
            "dropout": self.dropout,
            "num_classes": self.num_classes,
            "label_encoding": self.label_encoding,
            "conditioning_mode": self.conditioning_mode,
            "label_dim": self.label_dim,
            "spectral_norm": self.spectral_norm,
        }


def build(config, examples, d_shape):
    """(G, D) for `model.network: mlp` (tfgan.architectures): images get a tanh output, 2D points a linear one."""
    model, options = config.model, config.model.mlp
    generator = MLPGenerator(
        examples.sample_shape, model.latent_dim, options.g_hidden, options.activation,
        output_activation="tanh" if examples.is_images else "linear",
        num_classes=examples.num_classes, label_encoding=model.label_encoding, name="generator",
    )
    discriminator = MLPDiscriminator(
        d_shape, options.d_hidden, options.activation, examples.num_classes,
        conditioning_mode=model.d_conditioning, spectral_norm=model.spectral_norm, dropout=options.d_dropout,
        name="discriminator",
    )
    return generator, discriminator
