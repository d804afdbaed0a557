"""Class-label conditioning shared by every conditional network.

Generators join a label code to z (Mirza & Osindero 2014). Discriminators join it
to their input ("concat") or project it onto their features ("projection",
Miyato & Koyama 2018, https://arxiv.org/abs/1802.05637).
"""

import keras
from keras import ops

LABEL_ENCODINGS = ("embedding", "one_hot")
D_CONDITIONINGS = ("concat", "projection")


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected one of {list(choices)}. "
            f"Received: {name}={value!r}"
        )


def label_encoder(num_classes, encoding, dim, name):
    """A layer mapping int labels [B] to float codes [B, dim or num_classes]."""
    check_choice("label_encoding", encoding, LABEL_ENCODINGS)
    if encoding == "one_hot":
        return keras.layers.CategoryEncoding(num_classes, output_mode="one_hot", name=name)
    return keras.layers.Embedding(num_classes, dim, name=name)


def require_labels(network, labels):
    """Conditional networks need labels, unconditional ones must not get them."""
    if network.num_classes and labels is None:
        raise ValueError(
            f"{network.name} is conditional on {network.num_classes} classes: "
            f"call it with labels, e.g. {network.name}(z, labels)."
        )
    if not network.num_classes and labels is not None:
        raise ValueError(f"{network.name} is unconditional (num_classes=0) but got labels.")


def encode(layer, labels):
    return ops.cast(layer(ops.cast(labels, "int32")), "float32")
