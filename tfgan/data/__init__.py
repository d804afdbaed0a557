"""Data: sources that load examples into memory, and the tf.data pipeline over them.

`load(data_config, conditional, seed)` returns an `Examples` of uint8 images
(or float32 2D points) and labels; `Examples.dataset(...)` makes the endless,
seeded, resumable batches that `GAN.fit` consumes, scaled to [-1, 1].
"""

import dataclasses
from typing import Optional

import numpy as np

from tfgan.data import files, mixtures
from tfgan.errors import UserError


@dataclasses.dataclass
class Examples:
    samples: np.ndarray  # uint8 images [N, H, W, C], or float32 points [N, 2]
    labels: Optional[np.ndarray]  # int32 [N], where the model is conditional
    num_classes: int  # 0 for unconditional data

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

    if data.source == "tfds":
        from tfgan.data.tfds_source import load_tfds

        images, labels, num_classes = load_tfds(
            data.name, data.split, data.tfds_data_dir, conditional,
            lambda x: pipeline.preprocess_image(x, data.resolution, data.channels, data.pad), data.limit,
        )
        return Examples(images, labels, num_classes)
    if data.source == "folder":
        images, labels = files.load_folder(data.path, data.resolution, data.channels, conditional)
    elif data.source == "npz":
        images, labels = files.load_npz(data.path, data.image_key, data.label_key, data.range and tuple(data.range))
    else:  # idx
        images, labels = files.load_idx(data.path, data.labels_path)
    if data.limit:
        images, labels = images[: data.limit], (None if labels is None else labels[: data.limit])
    images = pipeline.preprocess_images(images, data.resolution, data.channels, data.pad)
    num_classes = 0
    if conditional:
        if labels is None:
            where = {"npz": f"an array {data.label_key!r} in the .npz", "idx": "data.labels_path",
                     "folder": "one sub-folder per class"}[data.source]
            raise UserError(f"model.conditional needs labels: give {where}")
        if labels.min() < 0:
            raise UserError(f"labels must be class indices >= 0, got {labels.min()}")
        num_classes = int(labels.max()) + 1
    return Examples(images, labels if conditional else None, num_classes)
