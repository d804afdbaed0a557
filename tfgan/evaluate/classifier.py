"""A small classifier that tfgan trains on the data itself, for evaluating offline.

InceptionV3's ImageNet weights need a download, and its features describe
photographs, not 28x28 digits. A small CNN trained on the dataset's labels gives
features (its penultimate layer, "features") for the Fréchet distance, KID and
precision/recall, and class probabilities for the classifier score and for the
requested-class accuracy of conditional models. Its accuracy on held-out real
examples is the ceiling for that accuracy.

It reads images scaled to [-1, 1], as generators draw them.
"""

import os

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from tfgan import atomic
from tfgan.errors import UserError

FEATURES = "features"  # the layer whose output is the feature vector


def build_classifier(sample_shape, num_classes, seed=0):
    init = keras.initializers.GlorotUniform(seed)
    return keras.Sequential([
        keras.Input(sample_shape),
        layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer=init),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(0.3, seed=seed),
        layers.Dense(128, activation="relu", kernel_initializer=init, name=FEATURES),
        layers.Dense(num_classes, kernel_initializer=init, name="logits"),
    ], name="tfgan_classifier")


def scale(images):
    """uint8 [0, 255] -> float32 [-1, 1], the generators' range."""
    return np.asarray(images, np.float32) / 127.5 - 1.0


def train_classifier(examples, epochs=5, held_out=0.1, batch_size=128, seed=0, verbose=0):
    """(model, held-out accuracy): trained on all but the last `held_out` share of `examples`."""
    if not examples.is_images:
        raise UserError("the classifier needs images; 2D mixtures are scored by their modes")
    if examples.labels is None or examples.num_classes < 2:
        raise UserError("training a classifier needs labelled data with 2 or more classes")
    examples = examples.take()  # in memory (a streamed dataset is decoded whole)
    order = np.random.default_rng(seed).permutation(len(examples.samples))
    cut = int(len(order) * (1.0 - held_out))
    x, y = scale(examples.samples[order]), examples.labels[order]
    model = build_classifier(examples.sample_shape, examples.num_classes, seed)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    # Shuffled by a seeded tf.data op, not `shuffle=True`, which would need the global seed.
    train = tf.data.Dataset.from_tensor_slices((x[:cut], y[:cut]))
    train = train.shuffle(cut, seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    model.fit(train, epochs=epochs, verbose=verbose)
    accuracy = model.evaluate(x[cut:], y[cut:], batch_size=512, verbose=0, return_dict=True)["accuracy"]
    return model, float(accuracy)


def save_classifier(model, path, overwrite=False):
    """Saved whole or not at all: written under a temporary name, then renamed."""
    if not path.endswith(".keras"):
        raise UserError(f"--out: expected a path ending in .keras, got {path}")
    if os.path.exists(path) and not overwrite:
        raise UserError(f"{path} exists; pass --overwrite to replace it")
    with atomic.replacing(path, make_dirs=True) as tmp:
        model.save(tmp)
