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
- `generator_penalty(gan, real, fake, labels)`: the same for G (path length;
  an autoencoder's reconstruction loss, which compares `fake` with the step's
  `real` minibatch that G took as its input: `GAN.generator_input`).
- `adversarial_weight(gan, terms, gradient)`: a factor on G's adversarial term
  this step, or None (the default) to leave it. `terms` holds the step's G loss
  terms as global-batch means, "adversarial" and each penalty under its logged
  name; `gradient(names, variable)` is the gradient of that term (a name) or of the
  sum of those terms (a tuple of names) with respect to one of G's variables (all
  replicas' share summed). VQGAN's adaptive weight is |grad (rec + perceptual)| /
  (|grad adversarial| + 1e-4) at the decoder's last layer. The product
  of the factors is a constant of the step (no gradient flows through it), logged
  as `adversarial_weight`; where no hook gives one, G's step records no gradients
  of its terms.
- `after_generator_step(gan)`: after both updates (EMA of G's weights). A hook
  that names values in `logged` returns them from it, {name: scalar}, and each is
  logged under its name (a codebook's usage and perplexity).

Each penalty is also logged on its own, under the hook's `name` (TensorBoard's
`r1_penalty`, `path_length_penalty`, ...), beside `d_loss` and `g_loss`.

A hook that needs randomness asks `gan.hook_seed(self)` for a stateless seed,
keyed by the run's seed, the step and the call site, so that a resumed run, or
one on N replicas, draws what the uninterrupted one-replica run draws.

A hook that keeps state builds it in `attach(gan)` (once, when the GAN is built)
and declares it, so that every part of tfgan handles it without knowing the hook:

- `state()`: `{name: [variables]}` kept in checkpoints under `name` (the EMA's
  weights, path length's running mean) and so restored on resume;
- `networks()`: the `keras.Model`s it keeps, which grow with the phases of
  progressive growing like G and D;
- `sampler()`: a generator to sample, evaluate and export instead of G (the EMA).

A lazy regularizer evaluated only every k-th D (or G) update says so in
`d_every` (`g_every`); the run then applies StyleGAN2's correction to that
network's optimizer (`tfgan.training.lazy_corrected`).
"""

import re

import keras


@keras.saving.register_keras_serializable(package="tfgan")
class Hook:
    d_every = 1  # D updates between two evaluations of its discriminator_penalty
    g_every = 1  # G updates between two evaluations of its generator_penalty
    logged = ()  # names of the values after_generator_step returns, logged each step

    @property
    def name(self):
        """What its penalties are logged as: the class name in snake_case (R1Penalty -> r1_penalty)."""
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type(self).__name__).lower()

    def attach(self, gan):
        pass

    def state(self):
        return {}

    def networks(self):
        return []

    def sampler(self):
        return None

    def real_images(self, gan, images):
        return images

    def augment(self, gan, images, seed):
        return images

    def discriminator_penalty(self, gan, real, fake, labels):
        return 0.0

    def generator_penalty(self, gan, real, fake, labels):
        return 0.0

    def adversarial_weight(self, gan, terms, gradient):
        return None

    def after_generator_step(self, gan):
        pass

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def overrides(hook, method):
    """Whether `hook`'s class implements `method` of `Hook` itself (adversarial_weight, ...)."""
    return getattr(type(hook), method) is not getattr(Hook, method)


def adds_penalty(hook, network):
    """Whether `hook` adds a penalty to `network`'s ("discriminator" or "generator") loss."""
    return overrides(hook, f"{network}_penalty")


@keras.saving.register_keras_serializable(package="tfgan")
class GeneratorEMA(Hook):
    """An exponential moving average of G's weights: the hook's `sampler()`.

    The average of the last iterates draws better samples than the last one
    alone (Karras et al. 2018; Yazici et al. 2019), so where it is kept it is the
    generator that `GAN.generate`, TensorBoard and exports use. After every step,
    ema = decay * ema + (1 - decay) * G for trainable weights; the others (batch-norm
    statistics, StyleGAN's w_avg) are copied, as in StyleGAN.

    Checkpoints keep it under `CHECKPOINT_KEY`, which `tfgan.export` loads instead
    of G's weights where a checkpoint has it.
    """

    CHECKPOINT_KEY = "ema_generator"

    def __init__(self, decay=0.999):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"Received an invalid value for `decay`, expected 0 < decay < 1. Received: decay={decay}")
        self.decay = float(decay)
        self.average = None

    def attach(self, gan):
        generator = gan.generator
        average = generator.__class__.from_config({**generator.get_config(), "name": self.CHECKPOINT_KEY})
        average.build_from_config(None)
        for target, source in zip(average.weights, generator.weights):
            target.assign(source)
        average.trainable = False
        self.average, self.generator = average, generator

    def state(self):
        return {self.CHECKPOINT_KEY: list(self.average.weights)}

    def networks(self):
        return [self.average]

    def sampler(self):
        return self.average

    def after_generator_step(self, gan):
        for target, source in zip(self.average.weights, self.generator.weights):
            if source.trainable:
                target.assign(self.decay * target + (1.0 - self.decay) * source)
            else:
                target.assign(source)

    def get_config(self):
        return {"decay": self.decay}
