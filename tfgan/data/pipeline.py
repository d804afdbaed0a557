"""The tf.data pipeline: in-memory examples -> shuffled, scaled, batched, prefetched.

The order of examples is a pure function of the seed: epoch `e` visits the
examples in the permutation drawn from seed (seed, e), and every step takes the
next `examples_per_step` indices of that endless stream. A run resumed after
`n` examples (`tfgan.schedule` counts them, whatever batch sizes its phases
used) therefore sees exactly the batches the uninterrupted run would have seen,
without checkpointing a shuffle buffer. Only int64 indices are skipped, so
resuming costs at most one epoch of index arithmetic.
"""

import numpy as np
import tensorflow as tf

from tfgan.errors import UserError


def preprocess_image(image, resolution=None, channels=None, pad=0):
    """uint8 [H, W, C] -> uint8 [resolution + 2 pad, resolution + 2 pad, channels], centre-cropped."""
    if channels == 3 and image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    elif channels == 1 and image.shape[-1] == 3:
        image = tf.cast(tf.round(tf.image.rgb_to_grayscale(tf.cast(image, tf.float32))), tf.uint8)
    if resolution:
        side = tf.minimum(tf.shape(image)[0], tf.shape(image)[1])
        image = tf.image.resize_with_crop_or_pad(image, side, side)
        image = tf.image.resize(image, [resolution, resolution], method="area", antialias=True)
        image = tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
    if pad:
        image = tf.pad(image, [[pad, pad], [pad, pad], [0, 0]])
    return image


def preprocess_images(images, resolution=None, channels=None, pad=0):
    """The same on a NumPy batch [N, H, W, C]; a no-op where nothing changes."""
    same_size = not resolution or images.shape[1:3] == (resolution, resolution)
    same_channels = not channels or images.shape[-1] == channels
    if same_size and same_channels and not pad:
        return images
    dataset = tf.data.Dataset.from_tensor_slices(images).map(
        lambda x: preprocess_image(x, resolution, channels, pad), num_parallel_calls=tf.data.AUTOTUNE
    )
    return np.concatenate([batch.numpy() for batch in dataset.batch(1024)])


def scale(samples):
    """uint8 pixels -> float32 in [-1, 1]; other integers (a prior's code grids) pass as they are;
    other samples (2D points) pass as float32."""
    if samples.dtype == tf.uint8:
        return tf.cast(samples, tf.float32) / 127.5 - 1.0
    if samples.dtype.is_integer:
        return samples
    return tf.cast(samples, tf.float32)


def check_step(num, examples_per_step):
    if num < examples_per_step:
        raise UserError(
            f"the data has {num} examples but one step needs {examples_per_step} "
            f"(train.batch_size x train.d_steps); lower the batch size or add data"
        )


def downscale(images, resolution):
    """[N, H, W, C] -> [N, resolution, resolution, C] by averaging blocks of pixels
    (the reference PGGAN's reals at a lower level of detail); H must be a multiple."""
    factor = images.shape[1] // resolution
    if factor == 1:
        return images
    return tf.nn.avg_pool2d(images, factor, factor, "VALID")


def index_stream(num, seed, start_example=0):
    """The endless stream of example indices after the first `start_example`: epoch `e`
    visits 0..num-1 in the permutation drawn from seed (seed, e)."""

    def epoch_order(epoch):
        keys = tf.random.stateless_uniform([num], seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(tf.argsort(keys))

    return tf.data.Dataset.range(start_example // num, np.iinfo(np.int64).max).flat_map(epoch_order).skip(start_example % num)


def finish(dataset, deterministic):
    """Prefetched, with the options every tfgan dataset has."""
    options = tf.data.Options()
    options.deterministic = deterministic
    # In a cluster, workers shard the batches, not input files (in-memory examples have none).
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.prefetch(tf.data.AUTOTUNE).with_options(options)


def batch_of(x, labels, resolution):
    """A training batch: scaled to [-1, 1] (uint8), averaged down to `resolution`, with its labels."""
    x = scale(x)
    if resolution:
        x = downscale(x, resolution)
    return x if labels is None else (x, labels)


def make_dataset(samples, labels, examples_per_step, seed, start_example=0, deterministic=True, resolution=None):
    """An endless dataset of `(samples, labels)` or `samples` batches, after the first `start_example`.

    The examples stay in memory as stored (uint8 images: a quarter of float32's
    size) and each batch is gathered and scaled in parallel map calls, so the
    pipeline keeps ahead of training (benchmarks/pipeline.py). `deterministic=False`
    lets tf.data hand over whichever batch is ready first. `resolution`: images
    are averaged down to it (a phase of progressive growing).
    """
    num = len(samples)
    check_step(num, examples_per_step)
    samples_t = tf.constant(samples)
    labels_t = None if labels is None else tf.constant(labels, tf.int32)

    def gather(indices):
        return batch_of(tf.gather(samples_t, indices), None if labels_t is None else tf.gather(labels_t, indices), resolution)

    batches = index_stream(num, seed, start_example).batch(examples_per_step, drop_remainder=True)
    return finish(batches.map(gather, num_parallel_calls=tf.data.AUTOTUNE), deterministic)
