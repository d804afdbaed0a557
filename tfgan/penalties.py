"""Gradient penalties on the discriminator, as hooks of the one training step.

Both return a per-example `[B]` term that `GAN.train_step` adds to D's loss
and averages over the global batch like the loss itself. Both differentiate D
with respect to its input inside D's own gradient tape (a second-order
gradient), in float32 whatever the mixed-precision policy.

- `GradientPenalty` (WGAN-GP, Gulrajani et al. 2017): weight * (|grad D(x_hat)| - 1)²
  at x_hat = alpha * real + (1 - alpha) * fake, alpha ~ U[0, 1] per sample. The
  norm is sqrt(sum g² + eps): the epsilon inside the square root keeps the
  gradient of the norm finite where g = 0.
- `R1Penalty` (Mescheder et al. 2018): gamma / 2 * |grad D(x)|² on real data.
  Lazy (StyleGAN2, Karras et al. 2020): with `every` = k it is computed on every
  k-th D update only, multiplied by k so that its average strength is unchanged.
"""

import keras
import tensorflow as tf

from tfgan.gan import replica_share
from tfgan.hooks import Hook

_GP_STREAM = 0x6770  # seeds alpha apart from the latent noise


def input_gradients(gan, samples, labels):
    """d sum(D(x)) / dx per sample, flattened to [B, features], in float32."""
    samples = tf.cast(samples, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(samples)
        logits = tf.cast(gan.run_discriminator(samples, labels), tf.float32)
    # The gradient of the logits' sum (what `gradient` takes of a non-scalar target).
    # D judges each sample on its own (no batch norm in a penalised D), so it holds
    # each sample's own gradient.
    grads = tape.gradient(logits, samples)
    return tf.reshape(grads, [tf.shape(grads)[0], -1])


@keras.saving.register_keras_serializable(package="tfgan")
class GradientPenalty(Hook):
    def __init__(self, weight=10.0, epsilon=1e-12):
        if weight <= 0:
            raise ValueError(f"Received an invalid value for `weight`, expected > 0. Received: weight={weight}")
        self.weight, self.epsilon = float(weight), float(epsilon)

    def discriminator_penalty(self, gan, real, fake, labels):
        real, fake = tf.cast(real, tf.float32), tf.cast(fake, tf.float32)
        batch = tf.shape(real)[0]
        # Stateless, keyed by the step and D's update count (both checkpointed): a resumed
        # run draws the same alphas. (The count alone restarts where a phase resets the optimizer.)
        seed = tf.stack([tf.constant(gan.seed + _GP_STREAM, tf.int64), tf.cast(gan.d_optimizer.iterations, tf.int64)])
        seed = tf.random.experimental.stateless_fold_in(seed, tf.cast(gan.step, tf.int64))
        alpha_shape = lambda n: tf.concat([[n], tf.ones([tf.rank(real) - 1], tf.int32)], 0)  # noqa: E731
        alpha = replica_share(lambda n: tf.random.stateless_uniform(alpha_shape(n), seed=seed), batch)
        mixed = alpha * real + (1.0 - alpha) * fake
        grads = input_gradients(gan, mixed, labels)
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=1) + self.epsilon)
        return self.weight * tf.square(norm - 1.0)

    def get_config(self):
        return {"weight": self.weight, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="tfgan")
class R1Penalty(Hook):
    def __init__(self, gamma=10.0, every=1):
        if gamma <= 0 or int(every) < 1:
            raise ValueError(f"Expected gamma > 0 and every >= 1. Received: gamma={gamma}, every={every}")
        self.gamma, self.every = float(gamma), int(every)

    def discriminator_penalty(self, gan, real, fake, labels):
        def penalty():
            grads = input_gradients(gan, real, labels)
            return 0.5 * self.gamma * self.every * tf.reduce_sum(tf.square(grads), axis=1)

        if self.every == 1:
            return penalty()
        due = tf.equal(tf.math.floormod(tf.cast(gan.d_optimizer.iterations, tf.int64), self.every), 0)
        return tf.cond(due, penalty, lambda: tf.zeros([tf.shape(real)[0]], tf.float32))

    def get_config(self):
        return {"gamma": self.gamma, "every": self.every}
