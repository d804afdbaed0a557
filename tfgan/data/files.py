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
    labels = check_labels(read_idx(labels_path), labels_path) if labels_path else None
    _check_lengths(images, labels, images_path)
    return images, labels


def load_npz(path, image_key, label_key, value_range=None):
    """Images (and labels) from an .npz archive. Floats must lie in [0, 1] or [-1, 1]
    (`value_range`, or inferred from the values); they become 256 levels, as bytes do."""
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UserError(f".npz file not found: {path}") from None
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {path} as .npz: {e}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):  # np.load reads a .npy as one bare array
        raise UserError(
            f"{path} is a .npy array, not an .npz archive of named arrays; save it with "
            f"np.savez(path, {image_key}=images, {label_key}=labels)"
        )
    with archive:
        if image_key not in archive:
            raise UserError(
                f"{path} has no array {image_key!r} (data.image_key); it holds: {', '.join(archive.files)}"
            )
        images = archive[image_key]
        labels = check_labels(archive[label_key], f"{path} ({label_key!r})") if label_key in archive else None
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise UserError(f"{path}: {image_key!r} must be [N, H, W] or [N, H, W, C], got shape {images.shape}")
    images = to_bytes(images, f"{path} ({image_key!r})", value_range)
    _check_lengths(images, labels, path)
    return images, labels


FLOAT_RANGES = ((0.0, 1.0), (-1.0, 1.0))


def to_bytes(images, where, value_range=None):
    """uint8 images from integer or float arrays, refusing what would be clipped or truncated."""
    if images.dtype == np.uint8:
        return images
    if np.issubdtype(images.dtype, np.integer):
        low, high = int(images.min()), int(images.max())
        if low < 0 or high > 255:
            raise UserError(f"{where}: integer images must lie in [0, 255], found values in [{low}, {high}]")
        return images.astype(np.uint8)
    if not np.issubdtype(images.dtype, np.floating):
        raise UserError(f"{where}: expected uint8 or float images, got dtype {images.dtype}")
    bad = int(np.size(images) - np.count_nonzero(np.isfinite(images)))
    if bad:
        raise UserError(f"{where}: {bad} values are NaN or infinite; expected finite pixel values")
    low, high = float(images.min()), float(images.max())
    if value_range is None:
        value_range = next(((a, b) for a, b in FLOAT_RANGES if a <= low and high <= b), None)
        if value_range is None:
            raise UserError(
                f"{where}: float images must lie in [0, 1] or [-1, 1], found values in [{low:g}, {high:g}]; "
                "rescale them, or store uint8 in [0, 255]"
            )
    elif low < value_range[0] or high > value_range[1]:
        raise UserError(f"{where}: data.range is {list(value_range)} but the values lie in [{low:g}, {high:g}]")
    scaled = (images.astype(np.float64) - value_range[0]) * (255.0 / (value_range[1] - value_range[0]))
    return np.round(scaled).astype(np.uint8)


def check_labels(labels, where):
    """Class indices [N] as int32; refuses other shapes, and floats that are not whole numbers."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise UserError(f"{where}: expected labels of shape [N] (one class index per example), got shape {labels.shape}")
    if np.issubdtype(labels.dtype, np.floating):
        fractional = ~np.isfinite(labels) | (labels != np.round(labels))
        if fractional.any():
            raise UserError(f"{where}: labels must be whole class indices, found {labels[fractional][0]:g}")
    elif not np.issubdtype(labels.dtype, np.integer):
        raise UserError(f"{where}: expected integer class indices, got dtype {labels.dtype}")
    return labels.astype(np.int32)


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def folder_files(path, resolution, channels, pad, with_labels, limit=None):
    """A `streaming.FolderFiles` of the (first `limit`) images under `path`: each centre-cropped
    to square, resized to `resolution` and padded by `pad`; with labels, one sub-folder per class."""
    if not os.path.isdir(path):
        raise UserError(f"image folder not found: {path}")
    paths, labels = _list_images(path, with_labels)
    if not paths:
        raise UserError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) found in {path}")
    from tfgan.data.streaming import FolderFiles  # deferred (TensorFlow) so that config checks stay fast

    if limit:
        paths, labels = paths[:limit], labels and labels[:limit]
    channels = 1 if channels == 1 else 3
    side = resolution + 2 * pad
    labels = np.asarray(labels, np.int32) if with_labels else None
    num_classes = int(labels.max()) + 1 if with_labels else 0
    shape = (side, side, channels)
    return FolderFiles(paths, labels, num_classes, _decoder(resolution, channels, pad, shape), shape)


def _list_images(path, with_labels):
    """(paths, labels): sorted; with labels, class k is the k-th sub-folder in sorted order."""
    def images_under(folder):
        found = []
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            found += [os.path.join(root, n) for n in sorted(names) if n.lower().endswith(IMAGE_EXTENSIONS)]
        return found

    if not with_labels:
        return images_under(path), None
    classes = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))
    if not classes:
        raise UserError(f"{path} has no sub-folders; a conditional model needs one sub-folder of images per class")
    paths, labels = [], []
    for index, name in enumerate(classes):
        found = images_under(os.path.join(path, name))
        paths += found
        labels += [index] * len(found)
    return paths, labels


# What decode_image reads, by the bytes a file starts with: a streamed file is checked
# before it is decoded, so that a bad one is named in the error that stops training.
_MAGIC = (b"\x89PNG", b"\xff\xd8", b"GIF8", b"BM")
UNREADABLE = "cannot decode image"
NOT_AN_IMAGE = "not a PNG, JPEG, GIF or BMP file"


def _decoder(resolution, channels, pad, shape):
    import keras
    import tensorflow as tf

    from tfgan.data.pipeline import preprocess_image

    def decode(path):
        data = tf.io.read_file(path)
        known = tf.reduce_any([tf.strings.substr(data, 0, len(m)) == m for m in _MAGIC])
        with tf.control_dependencies([tf.debugging.Assert(known, [UNREADABLE, path, f"({NOT_AN_IMAGE})"])]):
            image = tf.io.decode_image(data, channels=channels, expand_animations=False)
        image = tf.cast(image, tf.float32)
        # Centre crop to square, then bilinear resize: what Keras' folder reader does with crop_to_aspect_ratio.
        image = keras.ops.image.resize(image, (resolution, resolution), crop_to_aspect_ratio=True)
        return tf.ensure_shape(preprocess_image(tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8), pad=pad), shape)

    return decode


def _check_lengths(images, labels, path):
    if labels is not None and len(labels) != len(images):
        raise UserError(f"{path}: {len(images)} images but {len(labels)} labels")
