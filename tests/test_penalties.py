"""Gradient penalties against closed forms: linear and quadratic critics."""

import types

import numpy as np
import pytest
import tensorflow as tf

from tfgan.penalties import GradientPenalty, R1Penalty


class Critic:
    """D(x) = f(x) per sample, for critics whose input gradient is known."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x, labels=None, training=None):
        return self.fn(x)[:, None]


def linear(w):
    return Critic(lambda x: tf.reduce_sum(x * w, axis=-1) + 0.5)


def stub_gan(critic, iterations=0, step=0):
    return types.SimpleNamespace(
        seed=0, discriminator=critic, d_optimizer=types.SimpleNamespace(iterations=tf.Variable(iterations, dtype=tf.int64)),
        step=tf.Variable(step, dtype=tf.int64),
        run_discriminator=lambda samples, labels, training=True: critic(samples, labels, training=training),
    )


def test_gradient_penalty_of_a_linear_critic_is_weight_times_norm_of_w_minus_one_squared():
    # grad D = w everywhere, so every interpolate gets 10 * (|w| - 1)² = 10 * (3 - 1)² = 40.
    gan = stub_gan(linear(tf.constant([1.0, 2.0, 2.0])))
    real, fake = tf.random.normal([8, 3], seed=1), tf.random.normal([8, 3], seed=2)
    np.testing.assert_allclose(GradientPenalty(10.0).discriminator_penalty(gan, real, fake, None), np.full(8, 40.0), rtol=1e-5)


def test_alpha_is_uniform_per_sample_and_seeded_by_the_step_and_discriminator_update():
    # D(x) = |x|² / 2 has grad D(x) = x; with real e_1 and fake 0, |x_hat| = alpha, so the
    # penalty (alpha - 1)² reveals each sample's alpha.
    gan = stub_gan(Critic(lambda x: 0.5 * tf.reduce_sum(x * x, axis=-1)))
    real, fake = tf.tile([[1.0, 0.0]], [4000, 1]), tf.zeros([4000, 2])
    hook = GradientPenalty(1.0, epsilon=0.0)
    alpha = 1.0 - np.sqrt(hook.discriminator_penalty(gan, real, fake, None).numpy())
    assert 0.0 <= alpha.min() and alpha.max() <= 1.0 and len(np.unique(alpha)) > 3900
    assert abs(alpha.mean() - 0.5) < 0.02 and abs(alpha.var() - 1 / 12) < 0.005  # U[0, 1]
    np.testing.assert_array_equal(1.0 - np.sqrt(hook.discriminator_penalty(gan, real, fake, None).numpy()), alpha)
    gan.d_optimizer.iterations.assign(1)
    assert not np.allclose(1.0 - np.sqrt(hook.discriminator_penalty(gan, real, fake, None).numpy()), alpha)
    # A phase that resets the optimizer restarts its count: the step keeps the alphas apart.
    gan.d_optimizer.iterations.assign(0)
    gan.step.assign(7)
    assert not np.allclose(1.0 - np.sqrt(hook.discriminator_penalty(gan, real, fake, None).numpy()), alpha)


def test_epsilon_inside_the_sqrt_keeps_the_penalty_gradient_finite_at_zero_gradient():
    w = tf.Variable([0.0, 0.0, 0.0])
    gan = stub_gan(linear(w))
    gradients = {}
    for epsilon in (1e-12, 0.0):
        with tf.GradientTape() as tape:
            penalty = GradientPenalty(10.0, epsilon).discriminator_penalty(gan, tf.ones([4, 3]), tf.zeros([4, 3]), None)
        np.testing.assert_allclose(penalty, np.full(4, 10.0), rtol=1e-5)  # 10 * (sqrt(eps) - 1)²
        gradients[epsilon] = tape.gradient(penalty, w).numpy()
    assert np.all(np.isfinite(gradients[1e-12]))
    assert np.all(np.isnan(gradients[0.0]))  # d sqrt(u) / du at u = 0: what the epsilon prevents


def test_r1_is_half_gamma_squared_gradient_norm_on_real_data_and_lazy_every_k_updates():
    gan = stub_gan(linear(tf.constant([1.0, 2.0, 2.0])))
    real = tf.random.normal([5, 3], seed=3)
    np.testing.assert_allclose(R1Penalty(gamma=2.0).discriminator_penalty(gan, real, None, None), np.full(5, 9.0), rtol=1e-5)
    lazy = R1Penalty(gamma=2.0, every=4)
    for iterations, expected in ((0, 36.0), (1, 0.0), (3, 0.0), (4, 36.0)):  # 4x the strength, 1 update in 4
        gan.d_optimizer.iterations.assign(iterations)
        np.testing.assert_allclose(lazy.discriminator_penalty(gan, real, None, None), np.full(5, expected), rtol=1e-5)


def test_lazy_gradient_penalty_is_k_times_the_penalty_every_k_d_updates_and_zero_between():
    gan = stub_gan(linear(tf.constant([1.0, 2.0, 2.0])))  # |grad D| = 3 everywhere: 10 * (3 - 1)² = 40
    real, fake = tf.random.normal([5, 3], seed=3), tf.zeros([5, 3])
    np.testing.assert_allclose(GradientPenalty(10.0).discriminator_penalty(gan, real, fake, None), np.full(5, 40.0), rtol=1e-5)
    lazy = GradientPenalty(10.0, every=4)
    assert lazy.d_every == 4  # so the run corrects D's optimizer, as for lazy R1
    for iterations, expected in ((0, 160.0), (1, 0.0), (3, 0.0), (8, 160.0)):
        gan.d_optimizer.iterations.assign(iterations)
        np.testing.assert_allclose(lazy.discriminator_penalty(gan, real, fake, None), np.full(5, expected), rtol=1e-5)


@pytest.mark.parametrize("hook", [GradientPenalty(10.0), GradientPenalty(10.0, every=4), R1Penalty(5.0, every=4)])
def test_penalty_hooks_round_trip_through_their_config(hook):
    clone = type(hook).from_config(hook.get_config())
    assert clone.get_config() == hook.get_config()


def test_runs_with_penalties_and_spectral_norm_resume_on_the_same_curve(tmp_path):
    import os

    from helpers import make_config, read_events, scalar

    from tfgan import training

    changes = dict(
        loss={"name": "wasserstein", "gradient_penalty": 10.0, "r1_gamma": 1.0, "r1_every": 4},
        model__spectral_norm=True,
    )
    straight = make_config(tmp_path, "straight", **changes)
    gan = training.train(straight)
    assert {type(h).__name__ for h in gan.hooks} == {"GradientPenalty", "R1Penalty"}
    first_half = make_config(tmp_path, "resumed", train__steps=20, **changes)
    training.train(first_half)
    training.train(make_config(tmp_path, "resumed", **changes), resume=True)
    a = read_events(os.path.join(straight.run_dir, "tensorboard"))
    b = read_events(os.path.join(first_half.run_dir, "tensorboard"))
    for step in (30, 40):
        for tag in ("d_loss", "g_loss"):
            assert np.isfinite(scalar(a, tag, step))
            assert scalar(b, tag, step) == pytest.approx(scalar(a, tag, step), rel=1e-5, abs=1e-6)
    # The penalties are part of D's loss: without them the same run logs another d_loss.
    plain = make_config(tmp_path, "plain", loss={"name": "wasserstein"}, model__spectral_norm=True)
    training.train(plain)
    c = read_events(os.path.join(plain.run_dir, "tensorboard"))
    assert scalar(c, "d_loss", 10) != pytest.approx(scalar(a, "d_loss", 10), rel=1e-3)
