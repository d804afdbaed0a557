"""Local sources: MNIST-format idx(.gz) files, .npz files and image folders.

Each returns `(images, labels)` as NumPy arrays: uint8 [N, H, W, C] and int [N]
(or None). Bad files raise `UserError` naming the file and what was expected.
"""

import gzip
import os

import numpy as np

from tfgan.errors import UserError

# idx magic: two zero bytes, a type code (0x08 = unsigned byte), the number of dims.
_IDX_UBYTE = 0x08


def read_idx(path):
    """Reads an idx(.gz) file (the MNIST format) into a uint8 array."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise UserError(f"idx file not found: {path}") from None
    except (OSError, EOFError) as e:
        raise UserError(f"cannot read idx file {path}: {e}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != _IDX_UBYTE:
        raise UserError(f"{path} is not an idx file of unsigned bytes (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(data) - header != int(np.prod(shape)):
        raise UserError(
            f"{path}: header says shape {shape} ({int(np.prod(shape))} bytes), "
            f"but the file holds {len(data) - header}"
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def load_idx(images_path, labels_path):
    images = read_idx(images_path)
    if images.ndim == 3:
        images = images[..., None]  # [N, H, W] -> [N, H, W, 1]
    labels = read_idx(labels_path).astype(np.int32) if labels_path else None
    _check_lengths(images, labels, images_path)
    return images, labels


def load_npz(path, image_key, label_key):
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UserError(f".npz file not found: {path}") from None
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {path} as .npz: {e}") from None
    with archive:
        if image_key not in archive:
            raise UserError(
                f"{path} has no array {image_key!r} (data.image_key); it holds: {', '.join(archive.files)}"
            )
        images = archive[image_key]
        labels = archive[label_key].astype(np.int32) if label_key in archive else None
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise UserError(f"{path}: {image_key!r} must be [N, H, W] or [N, H, W, C], got shape {images.shape}")
    if images.dtype != np.uint8:
        # Floats are taken to be in [0, 1] or [0, 255]; scaling back to bytes keeps one pipeline.
        scale = 255.0 if images.max() <= 1.0 else 1.0
        images = np.clip(np.round(images * scale), 0, 255).astype(np.uint8)
    _check_lengths(images, labels, path)
    return images, labels


def load_folder(path, resolution, channels, with_labels):
    """Images under `path`; with labels, one sub-folder per class."""
    import keras  # the folder reader is Keras'; deferred so config checks stay fast

    if not os.path.isdir(path):
        raise UserError(f"image folder not found: {path}")
    try:
        dataset = keras.utils.image_dataset_from_directory(
            path,
            labels="inferred" if with_labels else None,
            color_mode="grayscale" if channels == 1 else "rgb",
            image_size=(resolution, resolution),
            crop_to_aspect_ratio=True,
            batch_size=256,
            shuffle=False,
            verbose=False,
        )
    except ValueError as e:
        raise UserError(f"cannot read images from {path}: {e}") from None
    images, labels = [], []
    for batch in dataset:
        x, y = batch if with_labels else (batch, None)
        images.append(np.clip(np.round(x.numpy()), 0, 255).astype(np.uint8))
        if y is not None:
            labels.append(y.numpy().astype(np.int32))
    if not images:
        raise UserError(f"no images found in {path}")
    return np.concatenate(images), (np.concatenate(labels) if with_labels else None)


def _check_lengths(images, labels, path):
    if labels is not None and len(labels) != len(images):
        raise UserError(f"{path}: {len(images)} images but {len(labels)} labels")
