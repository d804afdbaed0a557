"""DiffAugment: what each transform does to images a user can picture, and in training."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tfgan import augment
from tfgan import config as config_lib

SEED = tf.constant([3, 7], tf.int64)


def dot_images(batch=64, size=16):
    images = np.zeros((batch, size, size, 1), np.float32)
    images[:, size // 2, size // 2, 0] = 1.0
    return tf.constant(images)


def test_translation_moves_each_image_by_an_integer_shift_of_at_most_an_eighth():
    moved = augment.translation(dot_images(), SEED).numpy()
    shifts = np.array([np.argwhere(image[..., 0] == 1.0)[0] - 8 for image in moved])
    assert np.abs(shifts).max() <= 2 and len({tuple(s) for s in shifts}) > 10  # 16 / 8 = 2; many different shifts
    assert np.all(moved.sum(axis=(1, 2, 3)) == 1.0)  # moved, not blurred
    # Zeros come in from the border: a full image loses the rows and columns it was shifted by.
    full = augment.translation(tf.ones([64, 16, 16, 1]), SEED).numpy()
    rows, cols = np.abs(shifts[:, 0]), np.abs(shifts[:, 1])
    np.testing.assert_array_equal(full.sum(axis=(1, 2, 3)), (16 - rows) * (16 - cols))


def test_cutout_zeroes_one_square_of_half_the_side_per_image():
    holes = augment.cutout(tf.ones([64, 16, 16, 1]), SEED).numpy()[..., 0] == 0.0
    for hole in holes:
        rows, cols = np.flatnonzero(hole.any(axis=1)), np.flatnonzero(hole.any(axis=0))
        assert hole.sum() == len(rows) * len(cols)  # one rectangle: the 8x8 square, clipped at the border
        assert len(rows) <= 8 and len(cols) <= 8 and np.all(np.diff(rows) == 1) and np.all(np.diff(cols) == 1)
    # The centre is uniform over the 16 rows and columns; the square lies wholly inside when
    # it is in [4, 12] on both axes: (9/16)² of the time.
    many = augment.cutout(tf.ones([2048, 16, 16, 1]), SEED).numpy()[..., 0] == 0.0
    assert (many.sum(axis=(1, 2)) == 64).mean() == pytest.approx((9 / 16) ** 2, abs=0.04)


def test_color_shifts_brightness_per_image_within_half_a_unit():
    grey = tf.fill([256, 4, 4, 3], 0.1)  # saturation and contrast leave a flat grey image alone
    shifted = augment.color(grey, SEED).numpy()
    offsets = shifted[:, 0, 0, 0] - 0.1
    assert np.allclose(shifted, shifted[:, :1, :1, :1], atol=1e-6)
    assert -0.5 <= offsets.min() < -0.4 and 0.4 < offsets.max() <= 0.5


def test_augmentation_is_differentiable_seeded_and_fresh_per_seed():
    hook = augment.DiffAugment()
    images = tf.random.stateless_uniform([8, 16, 16, 3], seed=[0, 1], minval=-1, maxval=1)
    with tf.GradientTape() as tape:
        tape.watch(images)
        out = hook.augment(None, images, SEED)
    gradient = tape.gradient(out, images)
    assert gradient is not None and float(tf.reduce_sum(tf.abs(gradient))) > 0  # G learns through it
    np.testing.assert_array_equal(hook.augment(None, images, SEED), out)
    assert not np.allclose(hook.augment(None, images, SEED + 1), out)


def test_config_policies_are_the_hook_policies_and_unknown_ones_are_refused(tmp_path):
    # Every name a config accepts has a transform, and no transform lacks a config name.
    assert tuple(augment._TRANSFORMS) == config_lib.DIFF_AUGMENT_POLICIES == augment.POLICIES
    with pytest.raises(ValueError, match="Expected a DiffAugment policy"):
        augment.DiffAugment(["rotate"])
    with pytest.raises(config_lib.ConfigError, match=r"train.diff_augment\[0\]: expected one of color, translation, cutout, got 'rotate'"):
        config_lib.from_overrides(["train.diff_augment=[rotate]"])


def test_dcgan_trains_with_diff_augment_and_d_dropout_and_resumes_on_the_same_curve(tmp_path):
    from helpers import make_config, random_images_npz, read_events, scalar

    from tfgan import training

    path = random_images_npz(tmp_path / "tiny.npz")
    changes = dict(
        data={"source": "npz", "path": path},
        model={"network": "dcgan", "filters": 8, "latent_dim": 8, "d_norm": "none", "d_dropout": 0.3},
        train__diff_augment=["color", "translation", "cutout"], train__batch_size=16,
    )
    straight = make_config(tmp_path, "straight", **changes)
    gan = training.train(straight)
    assert [type(h).__name__ for h in gan.hooks] == ["DiffAugment"]
    resumed = make_config(tmp_path, "resumed", train__steps=20, **changes)
    training.train(resumed)
    training.train(make_config(tmp_path, "resumed", **changes), resume=True)
    a, b = (read_events(os.path.join(c.run_dir, "tensorboard")) for c in (straight, resumed))
    for tag in ("d_loss", "g_loss"):
        assert np.isfinite(scalar(a, tag, 40))
        assert scalar(b, tag, 40) == pytest.approx(scalar(a, tag, 40), rel=1e-5, abs=1e-6)
