"""Differentiable scorers for guided generation: `score(images [B, H, W, C] in [-1, 1]) -> [B]`, higher better.

- `classifier:PATH` with a target class: the classifier's log-probability of the
  class. tfgan's classifier (`python -m tfgan.evaluate train-classifier`) reads
  the data's own size; images of a generator that pads them (MNIST at 32x32) are
  centre-cropped to it.
- `clip:PRESET_DIR` with a prompt: the cosine similarity of CLIP's image and text
  embeddings (Radford et al. 2021), as VQGAN+CLIP steers. The CLIP is KerasHub's
  (`CLIPBackbone` and `CLIPPreprocessor` from a preset directory saved on this
  machine: nothing is downloaded); images are made RGB, resized to its input and
  normalized with its image converter's scale and offset (CLIP's means and
  deviations where the preset has no converter).
"""

import tensorflow as tf

from tfgan.errors import UserError
from tfgan.evaluate import parse_network

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP's image normalization
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def fit_to(images, size):
    """images [B, H, W, C] centre-cropped (where larger: a padded generator's) or resized to `size` (h, w)."""
    height, width = images.shape[1], images.shape[2]
    if height >= size[0] and width >= size[1] and (height - size[0]) % 2 == 0 and (width - size[1]) % 2 == 0:
        top, left = (height - size[0]) // 2, (width - size[1]) // 2
        return images[:, top : top + size[0], left : left + size[1]]
    return tf.image.resize(images, size, method="bilinear")


class ClassifierScorer:
    def __init__(self, path, target):
        from tfgan.evaluate import features

        self.extractor = features.classifier(path)
        self.input_shape = self.extractor.input_shape
        classes = self.extractor.model.outputs[1].shape[-1]
        if target is None or not 0 <= target < classes:
            raise UserError(f"--target: expected a class in 0..{classes - 1} of the classifier {path}, got {target}")
        self.target = int(target)

    def logits(self, images):
        images = fit_to(tf.cast(images, tf.float32), self.input_shape[:2])
        if images.shape[-1] != self.input_shape[-1]:
            raise UserError(f"the classifier reads {self.input_shape[-1]}-channel images; these have {images.shape[-1]}")
        return self.extractor(images)[1]

    def __call__(self, images):
        return tf.nn.log_softmax(self.logits(images), axis=-1)[:, self.target]

    def probabilities(self, images):
        return tf.nn.softmax(self.logits(images), axis=-1)


class ClipScorer:
    def __init__(self, preset, prompt):
        try:
            import keras_hub
        except ImportError:
            raise UserError('the clip scorer needs KerasHub: pip install -e ".[clip]" and the --no-deps line of README\'s '
                            "Guided generation") from None
        if not prompt:
            raise UserError("--scorer clip:... needs --prompt, the text to steer toward")
        try:
            self.backbone = keras_hub.models.CLIPBackbone.from_preset(preset)
            preprocessor = keras_hub.models.CLIPPreprocessor.from_preset(preset)
        except Exception as e:  # a missing or foreign directory: FileNotFoundError, ValueError, ...
            raise UserError(f"{preset} is not a KerasHub CLIP preset directory: {' '.join(str(e).split())[:200]}") from None
        self.backbone.trainable = False
        token_ids = preprocessor.generate_preprocess([prompt])["token_ids"]
        self.text = tf.math.l2_normalize(tf.cast(self.backbone.get_text_embeddings(token_ids), tf.float32), axis=-1)
        converter = preprocessor.image_converter
        scale = getattr(converter, "scale", None) if converter is not None else None
        if scale is None:
            self.scale = tf.constant([1.0 / (255.0 * s) for s in CLIP_STD])
            self.offset = tf.constant([-m / s for m, s in zip(CLIP_MEAN, CLIP_STD)])
        else:
            self.scale, self.offset = tf.constant(scale, tf.float32), tf.constant(converter.offset, tf.float32)
        self.size = tuple(self.backbone.vision_encoder.image_shape[:2])

    def __call__(self, images):
        images = tf.cast(images, tf.float32)
        if images.shape[-1] == 1:
            images = tf.image.grayscale_to_rgb(images)
        pixels = tf.image.resize((images + 1.0) * 127.5, self.size, method="bicubic", antialias=True)
        embedded = self.backbone.get_vision_embeddings(pixels * self.scale + self.offset)
        return tf.reduce_sum(tf.math.l2_normalize(tf.cast(embedded, tf.float32), axis=-1) * self.text, axis=-1)


def from_flag(flag, target=None, prompt=None):
    """The scorer `classifier:PATH` (with a target class) or `clip:PRESET_DIR` (with a prompt) names."""
    kind, _, path = flag.partition(":")
    if kind == "clip" and path:
        return ClipScorer(path, prompt)
    if parse_network(flag, ()) is None:
        raise UserError(f"--scorer: expected classifier:PATH or clip:PRESET_DIR, got {flag!r}")
    return ClassifierScorer(path, target)
