"""Hooks: the extension points of the one training algorithm in `tfgan.GAN`.

A variant of the GAN that needs more than other networks and another loss
brings a `Hook`. Each method is called from inside `train_step` (traced into the
same `tf.function`) and does nothing by default:

- `real_images(gan, images)`: the real minibatch as D should see it at this
  step, before augmentation (progressive growing fades the real images in as G's
  output fades in). Only real images pass here.
- `augment(gan, images, seed)`: applied to real and fake samples before D sees
  them (DiffAugment, ADA). `seed` is a stateless seed, fresh for every call and
  step, for `tf.random.stateless_*`.
- `discriminator_penalty(gan, real, fake, labels)`: a per-example `[B]` term
  added to D's loss, reduced over the global batch like the loss itself
  (gradient penalty, R1).
- `generator_penalty(gan, fake, labels)`: the same for G (path-length penalty).
- `after_generator_step(gan)`: after both updates (EMA of G's weights, fade-in
  schedules of progressive growing).

`attach(gan)` runs once, when the GAN is built, for hooks that keep state of
their own (`GeneratorEMA` builds its averaged copy of G there).
"""

import keras


@keras.saving.register_keras_serializable(package="tfgan")
class Hook:
    def attach(self, gan):
        pass

    def real_images(self, gan, images):
        return images

    def augment(self, gan, images, seed):
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


@keras.saving.register_keras_serializable(package="tfgan")
class GeneratorEMA(Hook):
    """An exponential moving average of G's weights, `gan.ema_generator`.

    The average of the last iterates draws better samples than the last one
    alone (Karras et al. 2018; Yazici et al. 2019), so where it is kept it is the
    generator that `GAN.generate`, TensorBoard and exports use. After every step,
    ema = decay * ema + (1 - decay) * G for trainable weights; batch-norm
    statistics are copied, as in StyleGAN.
    """

    def __init__(self, decay=0.999):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"Received an invalid value for `decay`, expected 0 < decay < 1. Received: decay={decay}")
        self.decay = float(decay)

    def attach(self, gan):
        generator = gan.generator
        ema = generator.__class__.from_config({**generator.get_config(), "name": "ema_generator"})
        ema.build_from_config(None)
        for target, source in zip(ema.weights, generator.weights):
            target.assign(source)
        ema.trainable = False
        gan.ema_generator = ema

    def after_generator_step(self, gan):
        for target, source in zip(gan.ema_generator.weights, gan.generator.weights):
            if source.trainable:
                target.assign(self.decay * target + (1.0 - self.decay) * source)
            else:
                target.assign(source)

    def get_config(self):
        return {"decay": self.decay}
