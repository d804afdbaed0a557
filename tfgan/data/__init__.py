"""Data: sources that load examples into memory or stream them, and the tf.data pipeline.

`load(data_config, conditional, seed)` returns an `Examples` of uint8 images
(or float32 2D points) and labels in memory, or, for a folder or tfds dataset
larger than `data.cache_mb`, a `StreamedImages` that decodes its files as it
goes. Both make, with `.dataset(...)`, the endless, seeded, resumable batches
that `GAN.fit` consumes, scaled to [-1, 1], and give their first examples in
memory with `.take(n)`.
"""

import dataclasses
from typing import Optional

import numpy as np

from tfgan.data import files, mixtures, shapes
from tfgan.errors import UserError


@dataclasses.dataclass
class Examples:
    samples: np.ndarray  # uint8 images [N, H, W, C], or float32 points [N, 2]
    labels: Optional[np.ndarray]  # int32 [N], where the model is conditional
    num_classes: int  # 0 for unconditional data

    def __len__(self):
        return len(self.samples)

    def take(self, num=None):
        """The first `num` examples (all by default)."""
        return Examples(self.samples[:num], None if self.labels is None else self.labels[:num], self.num_classes)

    def chunks(self, num, size=1000):
        """The first `num` samples, `size` at a time."""
        for start in range(0, num, size):
            yield self.samples[start : min(start + size, num)]

    @property
    def sample_shape(self):
        return tuple(self.samples.shape[1:])

    @property
    def is_images(self):
        return self.samples.ndim == 4

    def check_step(self, examples_per_step):
        """Raises `UserError` unless one training step's examples fit in the data."""
        from tfgan.data.pipeline import check_step

        check_step(len(self.samples), examples_per_step)

    def dataset(self, examples_per_step, seed, start_example=0, deterministic=True, resolution=None):
        """Endless seeded batches after the first `start_example` examples (at `resolution`, averaged down)."""
        from tfgan.data.pipeline import make_dataset

        return make_dataset(self.samples, self.labels, examples_per_step, seed, start_example, deterministic, resolution)


def load(data, conditional, seed):
    """Loads the examples a `DataConfig` names."""
    if data.source in mixtures.NAMES:
        return Examples(mixtures.sample(data.source, data.limit or data.num_examples, seed), None, 0)

    from tfgan.data import pipeline

    if data.source == shapes.NAME:
        images, _ = shapes.draw(data.limit or data.num_examples, data.resolution or shapes.DEFAULT_SIZE, seed)
        return Examples(pipeline.preprocess_images(images, None, data.channels, data.pad), None, 0)
    if data.source in ("tfds", "folder"):
        return _images_from_files(data, conditional)
    if data.source == "npz":
        images, labels = files.load_npz(data.path, data.image_key, data.label_key, data.range and tuple(data.range))
    else:  # idx
        images, labels = files.load_idx(data.path, data.labels_path)
    if data.limit:
        images, labels = images[: data.limit], (None if labels is None else labels[: data.limit])
    images = pipeline.preprocess_images(images, data.resolution, data.channels, data.pad)
    num_classes = 0
    if conditional:
        if labels is None:
            where = {"npz": f"an array {data.label_key!r} in the .npz", "idx": "data.labels_path"}[data.source]
            raise UserError(f"model.conditional needs labels: give {where}")
        if labels.min() < 0:
            raise UserError(f"labels must be class indices >= 0, got {labels.min()}")
        num_classes = int(labels.max()) + 1
    return Examples(images, labels if conditional else None, num_classes)


def _images_from_files(data, conditional):
    """Folder and tfds images: read whole into memory where they fit in `data.cache_mb`, else streamed."""
    from tfgan.data import streaming

    if data.source == "tfds":
        from tfgan.data.tfds_source import tfds_records

        source = tfds_records(data.name, data.split, data.tfds_data_dir, conditional, data.resolution, data.channels, data.pad, data.limit)
    else:
        source = files.folder_files(data.path, data.resolution, data.channels, data.pad, conditional, data.limit)
    cache_bytes = data.cache_mb * 2**20
    if source.num * int(np.prod(source.sample_shape)) > cache_bytes:
        return streaming.StreamedImages(source, cache_bytes)
    images, labels = source.read()
    return Examples(images, labels, source.num_classes)
