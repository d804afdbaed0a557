"""Each loss against values computed by hand from fixed logits."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfgan import losses

REAL = np.array([2.0, -1.0], np.float32)
FAKE = np.array([-3.0, 0.5], np.float32)


def log_sigmoid(x):
    return -math.log1p(math.exp(-x))


def log_one_minus_sigmoid(x):
    return -math.log1p(math.exp(x))


def test_minimax_discriminator_loss_is_negative_value_function():
    expected = [-(log_sigmoid(r) + log_one_minus_sigmoid(f)) for r, f in zip(REAL, FAKE)]
    np.testing.assert_allclose(losses.minimax_discriminator_loss(REAL, FAKE), expected, rtol=1e-6)


def test_one_sided_label_smoothing_changes_only_the_real_target():
    s = 0.1
    expected = [
        -((1 - s) * log_sigmoid(r) + s * log_one_minus_sigmoid(r)) - log_one_minus_sigmoid(f)
        for r, f in zip(REAL, FAKE)
    ]
    np.testing.assert_allclose(losses.minimax_discriminator_loss(REAL, FAKE, label_smoothing=s), expected, rtol=1e-6)


def test_minimax_generator_loss_is_log_one_minus_d():
    np.testing.assert_allclose(losses.minimax_generator_loss(FAKE), [log_one_minus_sigmoid(f) for f in FAKE], rtol=1e-6)


def test_non_saturating_generator_loss_is_minus_log_d():
    np.testing.assert_allclose(
        losses.non_saturating_generator_loss(FAKE), [-log_sigmoid(f) for f in FAKE], rtol=1e-6
    )


def test_least_squares_losses():
    np.testing.assert_allclose(
        losses.least_squares_discriminator_loss(REAL, FAKE),
        [0.5 * (2 - 1) ** 2 + 0.5 * 9, 0.5 * 4 + 0.5 * 0.25],
    )
    np.testing.assert_allclose(losses.least_squares_generator_loss(FAKE), [0.5 * 16, 0.5 * 0.25])
    np.testing.assert_allclose(
        losses.least_squares_discriminator_loss(REAL, FAKE, label_smoothing=0.5),
        [0.5 * 1.5**2 + 4.5, 0.5 * 1.5**2 + 0.125],
    )


def test_wasserstein_losses():
    np.testing.assert_allclose(losses.wasserstein_discriminator_loss(REAL, FAKE), [-5.0, 1.5])
    np.testing.assert_allclose(losses.wasserstein_generator_loss(FAKE), [3.0, -0.5])


def test_hinge_losses():
    # max(0, 1 - r) + max(0, 1 + f): r=2 -> 0, f=-3 -> 0; r=-1 -> 2, f=0.5 -> 1.5
    np.testing.assert_allclose(losses.hinge_discriminator_loss(REAL, FAKE), [0.0, 3.5])
    np.testing.assert_allclose(losses.hinge_generator_loss(FAKE), [3.0, -0.5])


@pytest.mark.parametrize("name", losses.NAMES)
def test_losses_stay_finite_for_extreme_logits(name):
    loss = losses.get(name)
    big = tf.constant([-1e4, 1e4], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(big)
        value = tf.reduce_sum(loss.discriminator_loss(big, big)) + tf.reduce_sum(loss.generator_loss(big))
    assert np.isfinite(value.numpy())
    assert np.all(np.isfinite(tape.gradient(value, big).numpy()))


def test_patch_logits_are_averaged_per_example():
    patch_real = np.stack([np.full((3, 3, 1), r) for r in REAL])  # [2, 3, 3, 1]
    patch_fake = np.stack([np.full((3, 3, 1), f) for f in FAKE])
    np.testing.assert_allclose(
        losses.minimax_discriminator_loss(patch_real, patch_fake),
        losses.minimax_discriminator_loss(REAL, FAKE),
        rtol=1e-6,
    )


def test_unknown_loss_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown GAN loss 'wgan'.*minimax, non_saturating, least_squares, wasserstein, hinge"):
        losses.get("wgan")


def test_label_smoothing_is_refused_where_it_has_no_meaning():
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.hinge_discriminator_loss(REAL, FAKE, label_smoothing=0.1)


@pytest.mark.parametrize("name", losses.NAMES)
def test_losses_follow_the_dtype_of_the_logits(name):
    loss = losses.get(name)
    real, fake = REAL.astype(np.float64), FAKE.astype(np.float64)
    assert loss.discriminator_loss(real, fake).dtype == tf.float64
    assert loss.generator_loss(fake).dtype == tf.float64
