"""Feature extractors: a Keras model that maps samples to feature vectors and,
where it classifies, to class probabilities.

- `classifier(path)`: a classifier tfgan trained (`python -m tfgan.evaluate
  train-classifier`), or any Keras classifier with a layer named "features"
  and logits as its output. No download.
- `inception_v3()`: InceptionV3 from `keras.applications` with its ImageNet
  weights (downloaded once into ~/.keras/models, or already cached there):
  2,048-wide pool features (FID) and 1,000-way probabilities (Inception Score).

Samples come in as generators draw them, float32 in [-1, 1].
"""

import hashlib
import os
import zipfile

import keras
import numpy as np
import tensorflow as tf

from tfgan.errors import UserError
from tfgan.evaluate import parse_network
from tfgan.evaluate.classifier import FEATURES


class Extractor:
    """`extract(samples) -> (features [N, D], probabilities [N, K] or None)`, in batches."""

    def __init__(self, model, name, input_shape, resize_to=None, probabilities=True):
        self.model, self.name, self.input_shape = model, name, tuple(input_shape)
        self.resize_to, self.probabilities = resize_to, probabilities

    def check(self, sample_shape, what):
        """A clear error where `what` (data or generator) does not fit the extractor's input."""
        expected = self.input_shape
        if self.resize_to:  # images of any size, grey or colour
            ok = len(sample_shape) == 3 and sample_shape[-1] in (1, 3)
            expected = ("H", "W", "1 or 3")
        else:
            ok = tuple(sample_shape) == expected
        if not ok:
            raise UserError(f"{what} has samples of shape {tuple(sample_shape)}, but the {self.name} features expect {expected}")

    def __call__(self, images):
        """(features, logits) of a batch [B, H, W, C] in [-1, 1], as tensors: differentiable,
        so that a loss can be taken in feature space (GAN inversion does)."""
        images = tf.convert_to_tensor(images, tf.float32)
        if self.resize_to:
            if images.shape[-1] == 1:
                images = tf.image.grayscale_to_rgb(images)
            images = tf.image.resize(images, self.resize_to, method="bilinear")
        return self.model(images, training=False)

    def extract(self, samples, batch_size=256):
        features, probabilities = [], []
        for start in range(0, len(samples), batch_size):
            f, logits = self(samples[start : start + batch_size])
            features.append(keras.ops.convert_to_numpy(f))
            if self.probabilities:
                probabilities.append(keras.ops.convert_to_numpy(keras.ops.softmax(logits)))
        return np.concatenate(features), (np.concatenate(probabilities) if self.probabilities else None)


def _two_headed(model, feature_layer):
    return keras.Model(model.inputs, [model.get_layer(feature_layer).output, model.outputs[0]])


def classifier(path):
    if not os.path.exists(path):
        raise UserError(f"classifier not found: {path}; train one with python -m tfgan.evaluate train-classifier")
    # Keras reports any unreadable archive as "File not found"; say what is wrong.
    if not os.path.isfile(path) or not zipfile.is_zipfile(path):
        raise UserError(f"{path} is not a readable .keras file (a Keras zip archive); expected a classifier saved by train-classifier")
    try:
        model = keras.saving.load_model(path, compile=False)
        two_headed = _two_headed(model, FEATURES)
    except ValueError as e:
        raise UserError(f"{path} is not a classifier with a layer named {FEATURES!r}: {str(e).splitlines()[0]}") from None
    with open(path, "rb") as f:
        digest = hashlib.sha1(f.read()).hexdigest()[:12]  # names the cached real statistics
    return Extractor(two_headed, f"classifier-{digest}", model.inputs[0].shape[1:])


def inception_v3(weights="imagenet"):
    try:
        model = keras.applications.InceptionV3(weights=weights, include_top=True, classifier_activation=None)
    except Exception as e:  # offline and not cached: a download error of some kind
        raise UserError(
            f"InceptionV3 weights could not be loaded ({' '.join(str(e).split())[:160]}); put them in "
            f"~/.keras/models or use features from a classifier (--features classifier:PATH)"
        ) from None
    # The pool features and the pre-softmax logits; InceptionV3 reads [-1, 1] images, as G draws them.
    return Extractor(_two_headed(model, "avg_pool"), "inception_v3", (299, 299, 3), resize_to=(299, 299))


def from_flag(flag):
    """The extractor a `--features` flag or `eval.features` names: classifier:PATH or inception."""
    if flag is None:
        return None
    parsed = parse_network(flag, ("inception",))
    if parsed is None:
        raise UserError(f"features: expected classifier:PATH or inception, got {flag!r}")
    return inception_v3() if parsed[0] == "inception" else classifier(parsed[1])
