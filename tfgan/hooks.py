"""Hooks: the extension points of the one training algorithm in `tfgan.GAN`.

A variant of the GAN that needs more than other networks and another loss
brings a `Hook`. Each method is called from inside `train_step` (traced into the
same `tf.function`) and does nothing by default:

- `augment(gan, images)`: applied to real and fake samples before D sees them
  (DiffAugment, ADA).
- `discriminator_penalty(gan, real, fake, labels)`: a per-example `[B]` term
  added to D's loss, reduced over the global batch like the loss itself
  (gradient penalty, R1).
- `generator_penalty(gan, fake, labels)`: the same for G (path-length penalty).
- `after_generator_step(gan)`: after both updates (EMA of G's weights, fade-in
  schedules of progressive growing).
"""

import keras


@keras.saving.register_keras_serializable(package="tfgan")
class Hook:
    def augment(self, gan, images):
        return images

    def discriminator_penalty(self, gan, real, fake, labels):
        return 0.0

    def generator_penalty(self, gan, fake, labels):
        return 0.0

    def after_generator_step(self, gan):
        pass

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
