"""Any tensorflow-datasets image dataset, by name (mnist, fashion_mnist, cifar10, celeb_a, ...).

tfds downloads on first use. Where the network is closed its downloader retries
for minutes before failing, so tfgan first checks whether the data is already
prepared and whether the download host answers, and fails at once with a message
that says how to train from local files instead.
"""

import socket

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


def tfds_records(name, split, data_dir, with_labels, resolution=None, channels=None, pad=0, limit=None):
    """A `streaming.TfdsRecords` of a tensorflow-datasets split (prepared first where it is not).

    The records keep their images encoded; each is decoded, converted to
    `channels`, centre-cropped and resized to `resolution` and padded by `pad`
    when it is read."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from tfgan.data.pipeline import preprocess_image
    from tfgan.data.streaming import TfdsRecords

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
        records = builder.as_dataset(split=split, shuffle_files=False, decoders={"image": tfds.decode.SkipDecoding()})
        num = int(records.cardinality())  # tfds asserts it; the split's info where it does not
        num = num if num >= 0 else builder.info.splits[split].num_examples
    except (ValueError, KeyError) as e:
        raise UserError(f"tensorflow-datasets dataset {name!r} has no split {split!r}: {e}") from None
    if limit:
        records, num = records.take(limit), min(num, limit)
    if not num:
        raise UserError(f"tensorflow-datasets dataset {name!r} split {split!r} is empty")
    stored = features["image"].shape  # (H, W, C), None where the images differ
    if not resolution and None in stored[:2]:
        raise UserError(f"tensorflow-datasets dataset {name!r} has images of different sizes; set data.resolution")
    side = (resolution or stored[0]) + 2 * pad  # resized images are square
    shape = (side, side if resolution else stored[1] + 2 * pad, channels or stored[2])

    def decode(encoded):
        image = tf.io.decode_image(encoded, channels=stored[2], expand_animations=False)
        return tf.ensure_shape(preprocess_image(image, resolution, channels, pad), shape)

    records = records.map(lambda example: (example["image"], tf.cast(example["label"], tf.int32) if with_labels else 0))
    return TfdsRecords(records, num, num_classes, decode, shape)
