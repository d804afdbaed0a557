"""The analysis of Goodfellow et al. (2014), checked numerically.

p_data = N(0, 1). The generator is held fixed at a known density p_g, so the
optimal discriminator and the value of the game have closed forms:

    D*(x) = p_data(x) / (p_data(x) + p_g(x))                      (Prop. 1)
    V(D*, G) = -log 4 + 2 JSD(p_data || p_g),  = -log 4 iff p_g = p_data  (Thm. 1)
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan import GAN, losses
from tfgan.networks import MLPDiscriminator
from tfgan.networks.base import Generator


class FixedGaussian(Generator):
    """G(z) = mean + std * z: a generator with a known density, held fixed by a zero learning rate."""

    def __init__(self, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.num_classes, self.sample_shape = 1, 0, (1,)
        self.mean_value, self.std = mean, std
        self.mean = self.add_weight(shape=(), initializer=keras.initializers.Constant(mean), name="mean")

    def call(self, z, labels=None, training=None):
        return self.mean + self.std * z


def normal_log_pdf(x, mean, std):
    return -0.5 * ((x - mean) / std) ** 2 - np.log(std * np.sqrt(2 * np.pi))


def train_discriminator(mean, std, steps=1500):
    """Runs GAN.fit with G fixed; returns the trained GAN."""
    keras.utils.set_random_seed(0)
    gan = GAN(FixedGaussian(mean, std), MLPDiscriminator((1,), hidden_units=(32, 32), activation="tanh"))
    gan.compile(keras.optimizers.Adam(3e-3), keras.optimizers.SGD(0.0), loss="minimax")
    real = np.random.default_rng(0).standard_normal((steps * 256, 1)).astype("float32")
    gan.fit(real, batch_size=256, epochs=1, verbose=0, shuffle=False)
    assert float(gan.generator.mean.numpy()) == mean  # G really was held fixed
    return gan


def test_trained_discriminator_approaches_the_optimal_discriminator():
    mean, std = 1.0, 0.5
    gan = train_discriminator(mean, std)
    x = np.linspace(-1.0, 2.0, 61, dtype="float32")[:, None]  # where both densities have mass
    d = tf.sigmoid(gan.discriminator(x)).numpy().ravel()
    p_data, p_g = np.exp(normal_log_pdf(x.ravel(), 0, 1)), np.exp(normal_log_pdf(x.ravel(), mean, std))
    d_star = p_data / (p_data + p_g)
    assert np.max(np.abs(d - d_star)) < 0.05
    # D* is not trivial here: it crosses 1/2 and spans most of (0, 1).
    assert d_star.min() < 0.3 and d_star.max() > 0.9


def value(real_logits, fake_logits):
    """V(D, G) = E log D(x) + E log(1 - D(G(z))) = minus the mean minimax D loss."""
    return -float(np.mean(losses.minimax_discriminator_loss(real_logits, fake_logits)))


def test_value_of_the_game_at_the_optimal_discriminator_is_minus_log_4_plus_2_jsd():
    rng = np.random.default_rng(1)
    log_odds = lambda x, m, s: normal_log_pdf(x, 0, 1) - normal_log_pdf(x, m, s)  # logit of D*
    real = rng.standard_normal(400_000)
    # p_g = p_data: D* = 1/2 everywhere and V = -log 4 exactly.
    fake = rng.standard_normal(400_000)
    assert value(log_odds(real, 0, 1), log_odds(fake, 0, 1)) == pytest.approx(-np.log(4), abs=1e-9)
    # p_g != p_data: V = -log 4 + 2 JSD, with the JSD integrated on a grid.
    mean, std = 1.0, 0.5
    fake = mean + std * rng.standard_normal(400_000)
    grid = np.linspace(-12, 12, 200_001)
    p, q = np.exp(normal_log_pdf(grid, 0, 1)), np.exp(normal_log_pdf(grid, mean, std))
    m = (p + q) / 2
    kl = lambda a: np.sum(np.where(a > 0, a * np.log(np.maximum(a, 1e-300) / m), 0.0)) * (grid[1] - grid[0])
    jsd = 0.5 * kl(p) + 0.5 * kl(q)
    assert value(log_odds(real, mean, std), log_odds(fake, mean, std)) == pytest.approx(-np.log(4) + 2 * jsd, abs=5e-3)


def test_a_discriminator_trained_at_equilibrium_gives_minus_log_4():
    gan = train_discriminator(0.0, 1.0, steps=600)  # p_g = p_data
    rng = np.random.default_rng(2)
    real = rng.standard_normal((20_000, 1)).astype("float32")
    fake = gan.generator(rng.standard_normal((20_000, 1)).astype("float32")).numpy()
    v = value(gan.discriminator(real).numpy(), gan.discriminator(fake).numpy())
    assert v == pytest.approx(-np.log(4), abs=0.01)


def test_minimax_generator_gradient_vanishes_where_d_rejects_fakes_but_non_saturating_does_not():
    keras.utils.set_random_seed(0)
    generator = keras.layers.Dense(1)  # G(z) = w z + b
    z = tf.random.normal([256, 1])
    generator(z)

    def discriminator(x):  # confidently rejects everything near the generator: D(G(z)) ~ 1e-6
        return 0.1 * x - 14.0

    grads = {}
    for name in ("minimax", "non_saturating"):
        with tf.GradientTape() as tape:
            fake_logits = discriminator(generator(z))
            loss = tf.reduce_mean(losses.get(name).generator_loss(fake_logits))
        grads[name] = np.concatenate([g.numpy().ravel() for g in tape.gradient(loss, generator.trainable_variables)])
    assert float(tf.reduce_max(tf.sigmoid(discriminator(generator(z))))) < 1e-5
    assert np.linalg.norm(grads["minimax"]) < 1e-5 * np.linalg.norm(grads["non_saturating"])
    assert np.linalg.norm(grads["non_saturating"]) > 0.05  # ~ |dD/dx| = 0.1, undiminished
