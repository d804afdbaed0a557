"""DiffAugment (Zhao et al. 2020): differentiable augmentation of every sample D sees.

With little data D memorises the real images. Augmenting only the real images
would teach G to draw augmented ones; DiffAugment applies the same random
transforms to real and generated samples, in D's update and in G's, and keeps
them differentiable so that G's gradient passes through them. The policies of
the paper:

- `color`: per sample, brightness + U[-0.5, 0.5], saturation x U[0, 2] (about
  the channel mean), contrast x U[0.5, 1.5] (about the image mean);
- `translation`: per sample, an integer shift of up to 1/8 of the height and
  width in each direction, filled with zeros;
- `cutout`: per sample, a square of half the height and width set to zero,
  centred anywhere in the image.

Randomness is stateless, from the seed the training step hands each hook call,
and is drawn for the global batch and sliced per replica, like z.
"""

import keras
import tensorflow as tf

from tfgan.config import DIFF_AUGMENT_POLICIES as POLICIES
from tfgan.replicas import replica_share
from tfgan.hooks import Hook


def _uniform(seed, batch, shape, minval=0.0, maxval=1.0, dtype=tf.float32):
    """[batch, *shape] stateless uniforms: this replica's rows of a global draw."""
    draw = lambda n: tf.random.stateless_uniform(  # noqa: E731
        tf.concat([[n], shape], 0), seed=seed, minval=minval, maxval=maxval, dtype=dtype
    )
    return replica_share(draw, batch)


def color(images, seed):
    batch = tf.shape(images)[0]
    keys = [tf.random.experimental.stateless_fold_in(seed, k) for k in range(3)]
    factor = lambda key, low, high: tf.cast(_uniform(key, batch, [1, 1, 1], low, high), images.dtype)  # noqa: E731
    images = images + factor(keys[0], -0.5, 0.5)
    mean = tf.reduce_mean(images, axis=3, keepdims=True)
    images = (images - mean) * factor(keys[1], 0.0, 2.0) + mean
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return (images - mean) * factor(keys[2], 0.5, 1.5) + mean


def _shift(images, offsets, axis):
    """out[b, i] = images[b, i - offsets[b]] along `axis` (1 or 2), zero where that is outside."""
    size = tf.shape(images)[axis]
    source = tf.range(size)[None, :] - offsets  # [B, size]
    inside = (source >= 0) & (source < size)
    moved = tf.gather(images, tf.clip_by_value(source, 0, size - 1), axis=axis, batch_dims=1)
    mask = tf.cast(inside, images.dtype)
    mask = mask[:, :, None, None] if axis == 1 else mask[:, None, :, None]
    return moved * mask


def _axes(images, seed, ratio):
    """(seed, size, round(ratio * size)) for the height and the width axis."""
    shape = tf.shape(images)
    for k, size in enumerate((shape[1], shape[2])):
        yield tf.random.experimental.stateless_fold_in(seed, k), size, tf.cast(tf.cast(size, tf.float32) * ratio + 0.5, tf.int32)


def translation(images, seed, ratio=0.125):
    batch = tf.shape(images)[0]
    shifts = [_uniform(key, batch, [1], -most, most + 1, tf.int32) for key, _, most in _axes(images, seed, ratio)]
    return _shift(_shift(images, shifts[0], axis=1), shifts[1], axis=2)


def cutout(images, seed, ratio=0.5):
    batch = tf.shape(images)[0]
    inside = []
    for key, size, side in _axes(images, seed, ratio):
        start = _uniform(key, batch, [1], 0, size, tf.int32) - side // 2  # a centre anywhere: [B, 1]
        index = tf.range(size)[None, :]
        inside.append((index >= start) & (index < start + side))  # [B, size]
    hole = inside[0][:, :, None] & inside[1][:, None, :]  # [B, H, W]
    return images * tf.cast(~hole, images.dtype)[..., None]


# Keyed in the order of config.DIFF_AUGMENT_POLICIES, the names a config may use; a test holds the two equal.
_TRANSFORMS = {"color": color, "translation": translation, "cutout": cutout}


@keras.saving.register_keras_serializable(package="tfgan")
class DiffAugment(Hook):
    def __init__(self, policy=POLICIES):
        policy = tuple(policy)
        unknown = [p for p in policy if p not in _TRANSFORMS]
        if unknown or not policy:
            raise ValueError(f"Expected a DiffAugment policy from {POLICIES}. Received: policy={policy}")
        self.policy = policy

    def augment(self, gan, images, seed):
        for k, name in enumerate(self.policy):
            images = _TRANSFORMS[name](images, tf.random.experimental.stateless_fold_in(seed, k))
        return images

    def get_config(self):
        return {"policy": list(self.policy)}
