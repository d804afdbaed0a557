"""A perceptual distance between images, and the hook that puts it on a reconstructing G's loss.

`PerceptualDistance` has LPIPS's form (Zhang et al. 2018) without its learned
per-channel weights (the paper's "baseline" variant, all weights 1): each chosen
layer's feature map is unit-normalized along its channels, and the distance is the
sum over layers of the spatial mean of the squared difference, per example. The
layers come from a frozen network named by a flag, as `tfgan.evaluate`'s
features are:

- `classifier:PATH`: the convolutions of a classifier tfgan trained (`python -m
  tfgan.evaluate train-classifier`), or any Keras classifier; every convolution
  before the first Flatten or global pooling, applied fully convolutionally so
  that images of another size than it was trained on (MNIST padded to 32x32)
  pass. No download: the one offline choice.
- `vgg16`: VGG16's ImageNet convolutions at LPIPS's five layers (conv1_2,
  conv2_2, conv3_3, conv4_3, conv5_3), from `keras.applications` (weights
  downloaded once into ~/.keras/models, or cached there). Without LPIPS's
  learned weights on top, it is VGG's plain feature distance.

VQGAN (Esser et al. 2021) adds it to the autoencoder's loss (`PerceptualLoss`);
taming-transformers uses LPIPS proper.
"""

import keras
import tensorflow as tf

from tfgan.errors import UserError
from tfgan.evaluate import parse_network
from tfgan.hooks import Hook

VGG16_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")


class PerceptualDistance:
    """`distance(x, y)` -> [B]: images [B, H, W, C] in [-1, 1] compared in `model`'s feature
    maps (a Keras model from images to a list of [B, h, w, c] maps). `prepare` maps
    [-1, 1] images to what the model reads."""

    def __init__(self, model, name, prepare=None):
        self.model, self.name = model, name
        self.model.trainable = False
        self.prepare = prepare or (lambda images: images)

    def features(self, images):
        maps = self.model(self.prepare(tf.cast(images, tf.float32)), training=False)
        return [tf.math.l2_normalize(tf.cast(m, tf.float32), axis=-1, epsilon=1e-10) for m in (maps if isinstance(maps, (list, tuple)) else [maps])]

    def __call__(self, x, y):
        both = self.features(tf.concat([x, y], axis=0))  # one pass for the two batches
        batch = tf.shape(x)[0]
        return tf.add_n([tf.reduce_mean(tf.reduce_sum(tf.square(m[:batch] - m[batch:]), axis=-1), axis=[1, 2]) for m in both])


def convolutions(model):
    """A fully convolutional model, images of any size -> the outputs of `model`'s Conv2D
    layers up to its first Flatten or global pooling (a Sequential classifier's feature part)."""
    layers = model.layers
    x = inputs = keras.Input((None, None, model.inputs[0].shape[-1]))
    maps = []
    for layer in layers:
        if isinstance(layer, (keras.layers.Flatten, keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)):
            break
        if isinstance(layer, keras.layers.InputLayer):
            continue
        x = layer(x)
        if isinstance(layer, keras.layers.Conv2D):
            maps.append(x)
    if not maps:
        raise UserError(f"the classifier {model.name!r} has no convolution before its first Flatten or pooling to compare images in")
    return keras.Model(inputs, maps, name=f"{model.name}_convolutions")


def classifier(path):
    from tfgan.evaluate import features  # the same loading and checks as the evaluation features

    return PerceptualDistance(convolutions(features.classifier(path).model), f"classifier:{path}")


def vgg16(weights="imagenet"):
    try:
        model = keras.applications.VGG16(weights=weights, include_top=False, input_shape=(None, None, 3))
    except Exception as e:  # offline and not cached: a download error of some kind
        raise UserError(
            f"VGG16 weights could not be loaded ({' '.join(str(e).split())[:160]}); put them in ~/.keras/models "
            f"or use a classifier's features (classifier:PATH)"
        ) from None
    model = keras.Model(model.inputs, [model.get_layer(name).output for name in VGG16_LAYERS], name="vgg16_lpips_layers")

    def prepare(images):  # [-1, 1] grey or colour -> VGG's caffe-style BGR with the ImageNet means taken off
        if images.shape[-1] == 1:
            images = tf.image.grayscale_to_rgb(images)
        return keras.applications.vgg16.preprocess_input((images + 1.0) * 127.5)

    return PerceptualDistance(model, "vgg16", prepare)


def from_flag(flag):
    """The distance `classifier:PATH` or `vgg16` names."""
    parsed = parse_network(flag, ("vgg16",))
    if parsed is None:
        raise UserError(f"perceptual: expected classifier:PATH or vgg16, got {flag!r}")
    return vgg16() if parsed[0] == "vgg16" else classifier(parsed[1])


@keras.saving.register_keras_serializable(package="tfgan")
class PerceptualLoss(Hook):
    """`weight` * the perceptual distance between the real batch and G's output, on G's loss,
    logged as `perceptual`: for a generator that reconstructs its input (VQGAN's autoencoder)."""

    def __init__(self, source, weight=1.0):
        self.source, self.weight = source, float(weight)
        self.distance = from_flag(source) if isinstance(source, str) else source

    @property
    def name(self):
        return "perceptual"

    def generator_penalty(self, gan, real, fake, labels):
        return self.weight * self.distance(real, fake)

    def get_config(self):
        return {"source": self.source if isinstance(self.source, str) else self.source.name, "weight": self.weight}
