"""DragGAN's two steps on a feature map (Pan et al. 2023, "Drag Your GAN"): motion
supervision, the loss whose gradient moves the content under each handle one
step toward its target, and point tracking, which finds where the handle went.

Points are (x, y) pixels of the image (x the column, y the row), pixel centres
at integers; features are [H, W, C] at the image's size (`resized`). Handles are
whole pixels (tracking returns pixels); targets may be anywhere.
"""

import numpy as np
import tensorflow as tf


def resized(feature_map, size):
    """A synthesis block's map [1, h, w, C] -> [size, size, C], bilinear with half-pixel
    centres (PyTorch's `F.interpolate(..., mode="bilinear")`, which the reference uses)."""
    return tf.image.resize(tf.cast(feature_map, tf.float32), [size, size], method="bilinear")[0]


def disc(radius):
    """Integer offsets [M, 2] (dx, dy) with dx² + dy² <= radius²: the pixels q around a handle."""
    r = int(np.floor(radius))
    dx, dy = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    inside = dx**2 + dy**2 <= radius**2
    return np.stack([dx[inside], dy[inside]], axis=-1).astype(np.float32)


def square(radius):
    """Integer offsets [(2r + 1)², 2] of the square of half-side `radius`, where tracking
    searches; nearest first, so that of equally good pixels the handle keeps the nearest."""
    r = int(radius)
    dx, dy = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    offsets = np.stack([dx.ravel(), dy.ravel()], axis=-1)
    return offsets[np.argsort((offsets**2).sum(axis=1), kind="stable")].astype(np.float32)


def sample(features, points):
    """features [H, W, C] bilinearly at points [..., 2] (x, y) -> [..., C]; points off the
    map take the nearest edge's values."""
    height, width = tf.shape(features)[0], tf.shape(features)[1]
    x = tf.clip_by_value(points[..., 0], 0.0, tf.cast(width - 1, tf.float32))
    y = tf.clip_by_value(points[..., 1], 0.0, tf.cast(height - 1, tf.float32))
    x0, y0 = tf.floor(x), tf.floor(y)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    x0, y0 = tf.cast(x0, tf.int32), tf.cast(y0, tf.int32)
    x1, y1 = tf.minimum(x0 + 1, width - 1), tf.minimum(y0 + 1, height - 1)

    def at(ys, xs):
        return tf.gather_nd(features, tf.stack([ys, xs], axis=-1))

    top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx
    bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx
    return top * (1 - fy) + bottom * fy


def motion_loss(features, handles, targets, offsets, arrived=1.0):
    """Motion supervision: for each handle p with target t, d = (t - p) / |t - p|, the mean
    over the disc `offsets` of |F(q + d) - stop_gradient(F(q))|, summed over handles.

    Its gradient pulls the features one step along d toward what they are at q, so
    the content under the handle moves toward the target. Handles within `arrived`
    px of their target are left out (the reference leaves out those within 1 px).
    F(q) itself is held fixed, so the loss moves content rather than blurring it.
    """
    handles, targets = tf.cast(handles, tf.float32), tf.cast(targets, tf.float32)
    to_target = targets - handles
    distance = tf.norm(to_target, axis=-1, keepdims=True)
    direction = to_target / tf.maximum(distance, 1e-7)
    q = handles[:, None, :] + offsets[None]  # [N, M, 2]
    here = tf.stop_gradient(sample(features, q))
    ahead = sample(features, q + direction[:, None, :])
    per_handle = tf.reduce_mean(tf.abs(ahead - here), axis=[1, 2])
    return tf.reduce_sum(per_handle * tf.cast(distance[:, 0] > arrived, tf.float32))


def mask_loss(features, initial, movable):
    """mean |F - F0| * (1 - M): the features outside the region M [H, W] (1: free to move) kept as they were."""
    return tf.reduce_mean(tf.abs(features - initial) * (1.0 - tf.cast(movable, tf.float32))[..., None])


def track(features, references, handles, offsets):
    """Point tracking: each handle [N, 2] moved to the pixel of the square `offsets` around it
    (inside the image) whose feature is nearest (L2) to its reference feature [N, C], the
    feature under it at the start. Returns whole pixels [N, 2]."""
    height, width = tf.shape(features)[0], tf.shape(features)[1]
    limits = tf.cast(tf.stack([width - 1, height - 1]), tf.float32)
    candidates = tf.clip_by_value(tf.cast(handles, tf.float32)[:, None, :] + offsets[None], 0.0, limits)  # [N, S, 2]
    pixels = tf.cast(candidates, tf.int32)
    found = tf.gather_nd(features, tf.stack([pixels[..., 1], pixels[..., 0]], axis=-1))  # [N, S, C]
    nearest = tf.argmin(tf.norm(found - references[:, None, :], axis=-1), axis=1)
    return tf.gather(candidates, nearest, batch_dims=1)
