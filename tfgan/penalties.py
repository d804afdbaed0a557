"""Gradient penalties, as hooks of the one training step.

Each returns a per-example `[B]` term that `GAN.train_step` adds to D's (or G's)
loss and averages over the global batch like the loss itself. Each
differentiates a network inside that network's own gradient tape (a
second-order gradient), in float32 whatever the mixed-precision policy.

- `GradientPenalty` (WGAN-GP, Gulrajani et al. 2017): weight * (|grad D(x_hat)| - 1)²
  at x_hat = alpha * real + (1 - alpha) * fake, alpha ~ U[0, 1] per sample. The
  norm is sqrt(sum g² + eps): the epsilon inside the square root keeps the
  gradient of the norm finite where g = 0. Lazy with `every` = k, as R1 below
  (not in the WGAN-GP paper: a CPU saving, measured in docs/stylegan2_tuning.md).
- `R1Penalty` (Mescheder et al. 2018): gamma / 2 * |grad D(x)|² on real data.
  Lazy (StyleGAN2, Karras et al. 2020): with `every` = k it is computed on every
  k-th D update only, multiplied by k so that its average strength is unchanged.
- `PathLengthPenalty` (StyleGAN2, Karras et al. 2020, section 3.2): on G, for a
  generator with mapping and synthesis halves. For ws of fresh z and images
  y = synthesis(ws), the length a = |J_w^T n| of the Jacobian-vector product with
  pixel noise n ~ N(0, I) / sqrt(H W), averaged over the num_ws entries as the
  reference does; penalty weight * (a - m)^2, m the running mean of a (decay
  0.01), kept in checkpoints. Lazy (every 4th G update, times 4) and on half
  the batch, as StyleGAN2-ADA.
"""

import math

import keras
import tensorflow as tf

from tfgan.replicas import replica_share, replicas_mean
from tfgan.hooks import Hook
from tfgan.networks.base import has_halves

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


def lazily(counter, every, compute, size):
    """(compute() where `counter` is a multiple of `every`, else [size] zeros; whether it was):
    a lazy regularizer's term, traced once and skipped at run time in between."""
    if every == 1:
        return compute(), True
    due = tf.equal(tf.math.floormod(tf.cast(counter, tf.int64), every), 0)
    return tf.cond(due, compute, lambda: tf.zeros([size], tf.float32)), due


@keras.saving.register_keras_serializable(package="tfgan")
class GradientPenalty(Hook):
    def __init__(self, weight=10.0, epsilon=1e-12, every=1):
        if weight <= 0 or int(every) < 1:
            raise ValueError(f"Expected weight > 0 and every >= 1. Received: weight={weight}, every={every}")
        self.weight, self.epsilon, self.every = float(weight), float(epsilon), int(every)
        self.d_every = self.every

    def discriminator_penalty(self, gan, real, fake, labels):
        real, fake = tf.cast(real, tf.float32), tf.cast(fake, tf.float32)

        def penalty():  # the interpolates drawn only where the penalty is due
            # Stateless, keyed by the step and D's update count (both checkpointed): a resumed
            # run draws the same alphas. (The count alone restarts where a phase resets the optimizer.)
            seed = tf.stack([tf.constant(gan.seed + _GP_STREAM, tf.int64), tf.cast(gan.d_optimizer.iterations, tf.int64)])
            seed = tf.random.experimental.stateless_fold_in(seed, tf.cast(gan.step, tf.int64))
            alpha_shape = lambda n: tf.concat([[n], tf.ones([tf.rank(real) - 1], tf.int32)], 0)  # noqa: E731
            alpha = replica_share(lambda n: tf.random.stateless_uniform(alpha_shape(n), seed=seed), tf.shape(real)[0])
            mixed = alpha * real + (1.0 - alpha) * fake
            grads = input_gradients(gan, mixed, labels)
            norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=1) + self.epsilon)
            return self.weight * self.every * tf.square(norm - 1.0)

        return lazily(gan.d_optimizer.iterations, self.every, penalty, keras.ops.shape(real)[0])[0]

    def get_config(self):
        return {"weight": self.weight, "epsilon": self.epsilon, "every": self.every}


@keras.saving.register_keras_serializable(package="tfgan")
class R1Penalty(Hook):
    def __init__(self, gamma=10.0, every=1):
        if gamma <= 0 or int(every) < 1:
            raise ValueError(f"Expected gamma > 0 and every >= 1. Received: gamma={gamma}, every={every}")
        self.gamma, self.every = float(gamma), int(every)
        self.d_every = self.every

    def discriminator_penalty(self, gan, real, fake, labels):
        def penalty():
            grads = input_gradients(gan, real, labels)
            return 0.5 * self.gamma * self.every * tf.reduce_sum(tf.square(grads), axis=1)

        # keras.ops.shape: static where the trace knows it, which XLA needs inside the tf.cond.
        return lazily(gan.d_optimizer.iterations, self.every, penalty, keras.ops.shape(real)[0])[0]

    def get_config(self):
        return {"gamma": self.gamma, "every": self.every}


def path_lengths(synthesis, ws, noise):
    """|grad_ws sum(synthesis(ws) * noise)| per sample: sqrt of the mean over ws's
    num_ws entries of the squared norm over w_dim (StyleGAN2-ADA's pl_lengths)."""
    with tf.GradientTape() as tape:
        tape.watch(ws)
        images = tf.cast(synthesis(ws), tf.float32)
        total = tf.reduce_sum(images * noise)
    grads = tape.gradient(total, ws)
    return tf.sqrt(tf.reduce_mean(tf.reduce_sum(tf.square(tf.cast(grads, tf.float32)), axis=2), axis=1))


@keras.saving.register_keras_serializable(package="tfgan")
class PathLengthPenalty(Hook):
    def __init__(self, weight=2.0, decay=0.01, every=4, batch_shrink=2):
        if weight <= 0 or not 0.0 < decay <= 1.0 or int(every) < 1 or int(batch_shrink) < 1:
            raise ValueError(
                f"Expected weight > 0, 0 < decay <= 1, every >= 1 and batch_shrink >= 1. Received: weight={weight}, "
                f"decay={decay}, every={every}, batch_shrink={batch_shrink}"
            )
        self.weight, self.decay, self.every, self.batch_shrink = float(weight), float(decay), int(every), int(batch_shrink)
        self.g_every = self.every

    def attach(self, gan):
        if not has_halves(gan.generator):
            raise ValueError(f"The path-length penalty needs a generator with mapping and synthesis halves (StyleGAN2); {gan.generator.name} has none.")
        # Mean aggregation: every replica assigns the same all-reduced value.
        self.mean = keras.Variable(0.0, trainable=False, aggregation="mean", name="path_length_mean")

    def state(self):
        return {"path_length_mean": [self.mean]}

    def generator_penalty(self, gan, real, fake, labels):
        generator, batch = gan.generator, keras.ops.shape(fake)[0]  # static where known, for XLA
        # Every batch_shrink-th example: the same examples whatever the number of replicas.
        size = batch // self.batch_shrink
        seed = gan.hook_seed(self)
        draw_seeds = [tf.random.experimental.stateless_fold_in(seed, i) for i in range(3)]

        def lengths():  # (inside a tf.cond: no replica synchronisation here, so w_avg stays put)
            z = replica_share(lambda n: tf.random.stateless_normal([n, generator.latent_dim], seed=draw_seeds[0]), size)
            ws = generator.broadcast(generator.mapping(z, None if labels is None else labels[:: self.batch_shrink], training=True, update_w_avg=False))
            height, width, channels = fake.shape[1:]
            noise = replica_share(lambda n: tf.random.stateless_normal([n, height, width, channels], seed=draw_seeds[1]), size)
            noise /= math.sqrt(height * width)
            return path_lengths(lambda v: generator.synthesis(v, training=True, seed=draw_seeds[2]), ws, noise)

        measured, due = lazily(gan.step, self.every, lengths, size)
        mean = self.mean + self.decay * (replicas_mean(tf.stop_gradient(tf.reduce_mean(measured))) - self.mean)
        self.mean.assign(tf.where(due, mean, self.mean))
        penalty = tf.where(due, self.weight * self.every * tf.square(measured - mean), 0.0)
        return tf.repeat(penalty, self.batch_shrink)  # [B]: its mean over the batch is the mean over the half batch

    def get_config(self):
        return {"weight": self.weight, "decay": self.decay, "every": self.every, "batch_shrink": self.batch_shrink}
