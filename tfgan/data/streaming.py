"""Images too large for memory: decoded from their files at every step, through tf.data.

`data.load` reads a folder or a tfds dataset whole into memory where its decoded
images take at most `data.cache_mb`, as before. A larger one becomes a
`StreamedImages`: only the file names (folder) or the prepared records (tfds)
are held, and every batch is read, decoded, cropped and resized in parallel
tf.data map calls. Where a phase of progressive growing trains at a resolution
small enough for the images to fit in `data.cache_mb` (float32, averaged down),
they are decoded once for that phase and kept in memory: a 4x4 phase does not
decode 1024x1024 files at every step.

The order stays a pure function of the seed and the examples seen, so a resumed
run sees the batches the uninterrupted one saw:
- a folder is indexed: epoch `e` visits its files in the permutation of
  `pipeline.index_stream`, the same order as in memory;
- tfds records cannot be indexed, so each epoch reads them in their stored
  order (which tfds shuffled when it prepared them) and shuffles within blocks
  of `SHUFFLE_BLOCK` records, each block by a seed drawn from (seed, epoch,
  block). A resumed run skips the epoch's first records before decoding them.
"""

import re

import numpy as np
import tensorflow as tf

from tfgan.data import files, pipeline
from tfgan.errors import UserError

SHUFFLE_BLOCK = 1024  # tfds records shuffled together (encoded, so a block holds its files' bytes)
_DECODE_BATCH = 256  # images decoded per tf.data batch when a phase's cache is filled


class StreamedImages:
    """`Examples`' interface (`dataset`, `take`, `check_step`, ...) over a `FolderFiles`
    or `TfdsRecords` source."""

    is_images = True

    def __init__(self, source, cache_bytes):
        self.source, self.cache_bytes = source, cache_bytes
        self.sample_shape, self.num_classes = source.sample_shape, source.num_classes
        self._cache = None  # (resolution, images, labels) of the current phase

    def __len__(self):
        return self.source.num

    def check_step(self, examples_per_step):
        pipeline.check_step(len(self), examples_per_step)

    def take(self, num=None):
        """The first `num` examples (all by default) decoded into memory, as `Examples`."""
        from tfgan.data import Examples

        images, labels = self.source.read(num)
        return Examples(images, labels, self.num_classes)

    def chunks(self, num, size=1000):
        """The first `num` images, decoded `size` at a time."""
        for images, _ in self.source.in_order(num).batch(size):
            yield images.numpy()

    def undecodable(self, seed, start_example, window=4096):
        """The file behind a decode error of `dataset(..., seed, start_example)`, as
        'cannot decode image PATH (why)', among the next `window` it reads; None if not
        found or not a folder (tfds records are checked by tfds when prepared)."""
        return self.source.undecodable(seed, start_example, window)

    def cache_fits(self, resolution):
        """Whether the images averaged down to `resolution` fit in the cache as float32."""
        full, _, channels = self.sample_shape
        return bool(resolution) and resolution < full and len(self) * resolution**2 * channels * 4 <= self.cache_bytes

    def dataset(self, examples_per_step, seed, start_example=0, deterministic=True, resolution=None):
        """Endless seeded batches, as `Examples.dataset` makes them."""
        self.check_step(examples_per_step)
        if self.cache_fits(resolution):
            images, labels = self._cached(resolution)
            return pipeline.make_dataset(images, labels, examples_per_step, seed, start_example, deterministic)
        self._cache = None  # the phase streams: free the last phase's images
        examples = self.source.stream(seed, start_example)
        batches = examples.batch(examples_per_step, drop_remainder=True)
        with_labels = self.num_classes > 0
        batches = batches.map(
            lambda x, y: pipeline.batch_of(x, y if with_labels else None, resolution), num_parallel_calls=tf.data.AUTOTUNE
        )
        return pipeline.finish(batches, deterministic)

    def _cached(self, resolution):
        if self._cache is None or self._cache[0] != resolution:
            self._cache = None  # free the last phase's images before decoding the next
            parts, labels = [], []
            for x, y in self.source.in_order().batch(_DECODE_BATCH).map(
                lambda x, y: (pipeline.downscale(pipeline.scale(x), resolution), y), num_parallel_calls=tf.data.AUTOTUNE
            ):
                parts.append(x.numpy())
                labels.append(y.numpy())
            self._cache = (resolution, np.concatenate(parts), np.concatenate(labels) if self.num_classes else None)
        return self._cache[1:]


class FolderFiles:
    """Image files, indexed; `decode(path) -> uint8 [H, W, C]` at the data's size."""

    def __init__(self, paths, labels, num_classes, decode, sample_shape):
        self.paths, self.num = tf.constant(paths), len(paths)
        self.labels = tf.constant(np.zeros(len(paths), np.int32) if labels is None else labels, tf.int32)
        self.num_classes, self.decode, self.sample_shape = num_classes, decode, tuple(sample_shape)

    def _example(self, index):
        return self.decode(tf.gather(self.paths, index)), tf.gather(self.labels, index)

    def stream(self, seed, start_example):
        indices = pipeline.index_stream(self.num, seed, start_example)
        return indices.map(self._example, num_parallel_calls=tf.data.AUTOTUNE)

    def in_order(self, num=None):
        return tf.data.Dataset.range(min(num or self.num, self.num)).map(self._example, num_parallel_calls=tf.data.AUTOTUNE)

    def read(self, num=None):
        """The first `num` (all) images in memory; a file that does not decode is named in the error."""
        try:
            return read(self.in_order(num), self.num_classes)
        except tf.errors.OpError:
            bad_file = self.first_undecodable(range(min(num or self.num, self.num)))  # only on failure: find the file
            if bad_file:
                raise UserError(bad_file) from None
            raise

    def first_undecodable(self, indices):
        """'cannot decode image PATH (why)' for the first of `indices` whose file does not
        decode, else None. Eager, one file at a time: only for naming the file in an error."""
        for index in indices:
            try:
                self.decode(self.paths[index])
            except tf.errors.OpError as e:
                return f"{files.UNREADABLE} {self.paths[index].numpy().decode()} ({_reason(e.message)})"
        return None

    def undecodable(self, seed, start_example, window):
        """`first_undecodable` among the `window` files that `stream` reads after `start_example`."""
        return self.first_undecodable(pipeline.index_stream(self.num, seed, start_example).take(window).as_numpy_iterator())


def _reason(message):
    """An op error's first line without TensorFlow's node and op tags."""
    if "assertion failed" in message:  # the decoder's own check of the leading bytes
        return files.NOT_AN_IMAGE
    line = re.sub(r"\{\{[^}]*\}\}|\[\[[^\]]*\]\]", "", message.splitlines()[0].split("[Op:")[0])
    return " ".join(line.split()).strip(" .") or "decode failed"


class TfdsRecords:
    """A prepared tfds split's records, read in order: `records` yields (encoded image, label)
    and `decode(encoded) -> uint8 [H, W, C]` at the data's size."""

    def __init__(self, records, num, num_classes, decode, sample_shape):
        self.records, self.num = records, num
        self.num_classes, self.decode, self.sample_shape = num_classes, decode, tuple(sample_shape)

    def _decoded(self, dataset):
        return dataset.map(lambda encoded, label: (self.decode(encoded), label), num_parallel_calls=tf.data.AUTOTUNE)

    def stream(self, seed, start_example):
        seed = tf.constant(seed, tf.int64)

        def epoch(e):
            def shuffled(block, examples):
                key = tf.random.experimental.stateless_fold_in(tf.stack([seed, e]), block)
                order = tf.argsort(tf.random.stateless_uniform([tf.shape(examples[1])[0]], seed=key))
                return tf.data.Dataset.from_tensor_slices(tuple(tf.gather(t, order) for t in examples))

            return self.records.batch(SHUFFLE_BLOCK).enumerate().flat_map(lambda block, examples: shuffled(block, examples))

        first = tf.data.Dataset.range(start_example // self.num, np.iinfo(np.int64).max)
        return self._decoded(first.flat_map(epoch).skip(start_example % self.num))  # skipped before decoding

    def in_order(self, num=None):
        return self._decoded(self.records.take(num) if num else self.records)

    def undecodable(self, seed, start_example, window):
        """None: records have no file names to give (and tfds checked them when it prepared the split)."""
        return None

    def read(self, num=None):
        return read(self.in_order(num), self.num_classes)


def read(examples, num_classes):
    """(images uint8 [N, H, W, C], labels [N] or None) of a dataset of (image, label), in order."""
    images, labels = [], []
    for x, y in examples.batch(_DECODE_BATCH):
        images.append(x.numpy())
        labels.append(y.numpy())
    return np.concatenate(images), (np.concatenate(labels) if num_classes else None)
