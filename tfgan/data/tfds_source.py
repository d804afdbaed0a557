"""Any tensorflow-datasets image dataset, by name (mnist, fashion_mnist, cifar10, celeb_a, ...).

tfds downloads on first use. Where the network is closed its downloader retries
for minutes before failing, so tfgan first checks whether the data is already
prepared and whether the download host answers, and fails at once with a message
that says how to train from local files instead.
"""

import socket

import numpy as np

from tfgan.errors import UserError

_DOWNLOAD_HOST = ("storage.googleapis.com", 443)  # where tfds keeps most datasets


def network_available(timeout=3.0):
    try:
        with socket.create_connection(_DOWNLOAD_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def _offline_message(name):
    return (
        f"cannot download tensorflow-datasets dataset {name!r}: the network is unreachable "
        f"and it is not prepared in data.tfds_data_dir. Point the config at local files "
        f"instead, e.g. --set data.source=idx data.path=train-images-idx3-ubyte.gz "
        f"data.labels_path=train-labels-idx1-ubyte.gz (or data.source=npz / folder with data.path=...)"
    )


def load_tfds(name, split, data_dir, with_labels, preprocess, limit=None):
    """Returns (images uint8 [N, H, W, C], labels [N] or None, num_classes or 0)."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # tfds raises DatasetNotFoundError and friends
        raise UserError(f"unknown tensorflow-datasets dataset {name!r}: {str(e).splitlines()[0]}") from None
    if not builder.is_prepared():
        if not network_available():
            raise UserError(_offline_message(name))
        try:
            builder.download_and_prepare()
        except Exception as e:  # a download that fails halfway
            raise UserError(f"{_offline_message(name)}. tfds said: {str(e).splitlines()[0]}") from None
    features = builder.info.features
    if "image" not in features:
        raise UserError(f"tensorflow-datasets dataset {name!r} has no 'image' feature; tfgan trains on images")
    num_classes = 0
    if with_labels:
        if "label" not in features:
            raise UserError(f"tensorflow-datasets dataset {name!r} has no 'label' feature for a conditional model")
        num_classes = int(features["label"].num_classes)
    try:
        dataset = builder.as_dataset(split=split, shuffle_files=False)
    except (ValueError, KeyError) as e:
        raise UserError(f"tensorflow-datasets dataset {name!r} has no split {split!r}: {e}") from None
    if limit:
        dataset = dataset.take(limit)

    def convert(example):
        label = tf.cast(example["label"], tf.int32) if with_labels else tf.zeros([], tf.int32)
        return preprocess(example["image"]), label

    images, labels = [], []
    for x, y in dataset.map(convert, num_parallel_calls=tf.data.AUTOTUNE).batch(1024):
        images.append(x.numpy())
        labels.append(y.numpy())
    if not images:
        raise UserError(f"tensorflow-datasets dataset {name!r} split {split!r} is empty")
    return np.concatenate(images), (np.concatenate(labels) if with_labels else None), num_classes
