"""tfgan.perceptual: LPIPS's form over a frozen network's feature maps, and its hook on a reconstructing G."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan import GAN, perceptual
from tfgan.errors import UserError
from tfgan.evaluate.classifier import build_classifier
from tfgan.networks.vqgan import CodebookUpkeep, PatchDiscriminator, VQAutoencoder, VQGANLoss


@pytest.fixture(scope="module")
def classifier_path(tmp_path_factory):
    # Randomly initialized: the plumbing is what is tested; trained on 16x16, used on 24x24 images.
    path = str(tmp_path_factory.mktemp("classifier") / "tiny.keras")
    build_classifier((16, 16, 1), 3, seed=0).save(path)
    return path


def unit(maps):
    return maps / np.maximum(np.linalg.norm(maps, axis=-1, keepdims=True), 1e-10)


def test_the_classifier_distance_by_hand_on_images_of_another_size(classifier_path):
    distance = perceptual.from_flag(f"classifier:{classifier_path}")
    x = tf.random.stateless_uniform([2, 24, 24, 1], seed=[1, 2], minval=-1, maxval=1)
    y = tf.random.stateless_uniform([2, 24, 24, 1], seed=[3, 4], minval=-1, maxval=1)
    # The classifier's two ReLU convolutions (a 2x2 max pool between), each unit-normalized along its
    # channels; the squared difference summed over channels, averaged over positions, summed over layers.
    model = keras.saving.load_model(classifier_path)
    conv1, pool, conv2 = model.layers[0], model.layers[1], model.layers[2]
    expected = 0.0
    for maps in ([conv1(x), conv1(y)], [conv2(pool(conv1(x))), conv2(pool(conv1(y)))]):
        a, b = unit(maps[0].numpy()), unit(maps[1].numpy())
        expected = expected + ((a - b) ** 2).sum(axis=-1).mean(axis=(1, 2))
    np.testing.assert_allclose(distance(x, y).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(distance(x, x).numpy(), [0.0, 0.0], atol=1e-7)
    assert distance.model.trainable_weights == []  # frozen: the loss moves G only


def test_vgg16_takes_grey_images_at_lpips_five_layers():
    distance = perceptual.vgg16(weights=None)  # the real network, randomly initialized (no download here)
    assert [m.shape[-1] for m in distance.model.outputs] == [64, 128, 256, 512, 512]
    x = tf.random.stateless_uniform([2, 32, 32, 1], seed=[1, 2], minval=-1, maxval=1)
    d = distance(x, -x).numpy()
    assert d.shape == (2,) and np.all(d > 0) and np.all(np.isfinite(d))
    np.testing.assert_allclose(distance(x, x).numpy(), [0.0, 0.0], atol=1e-6)


def test_unavailable_features_are_clear_errors(tmp_path, monkeypatch):
    def offline(**kwargs):
        raise OSError("URL fetch failure on https://storage.googleapis.com/...")

    monkeypatch.setattr(keras.applications, "VGG16", offline)
    with pytest.raises(UserError, match=r"VGG16 weights could not be loaded .*\(classifier:PATH\)"):
        perceptual.from_flag("vgg16")
    with pytest.raises(UserError, match="classifier not found"):
        perceptual.from_flag(f"classifier:{tmp_path}/none.keras")
    with pytest.raises(UserError, match="expected classifier:PATH or vgg16"):
        perceptual.from_flag("lpips")
    dense_only = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3, name="features")])
    with pytest.raises(UserError, match="no convolution"):
        perceptual.convolutions(dense_only)


def test_the_hook_adds_the_distance_of_the_real_batch_to_its_reconstruction_and_the_adaptive_weight_counts_it(classifier_path):
    keras.utils.set_random_seed(0)
    model = VQAutoencoder((16, 16, 1), channels=8, channel_mult=(1, 2), num_codes=16, code_dim=4)
    hook = perceptual.PerceptualLoss(f"classifier:{classifier_path}", weight=0.5)
    gan = GAN(model, PatchDiscriminator((16, 16, 1), filters=8, num_layers=2), hooks=[VQGANLoss(), hook, CodebookUpkeep()])
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), loss="hinge")
    images = tf.random.stateless_uniform([4, 16, 16, 1], seed=[3, 4], minval=-1, maxval=1)
    expected = 0.5 * float(tf.reduce_mean(hook.distance(images, model(images))))  # D's update leaves G as it is
    logs = gan.train_on_batch(images, return_dict=True)
    assert logs["perceptual"] == pytest.approx(expected, rel=1e-4) and expected > 0
    asked = []
    VQGANLoss().adversarial_weight(gan, {"adversarial": 1.0, "reconstruction": 1.0, "perceptual": 1.0},
                                   lambda names, variable: asked.append(names) or tf.ones_like(variable))
    assert asked == [("reconstruction", "perceptual"), "adversarial"]  # taming's nll: rec + perceptual
    assert hook.get_config() == {"source": f"classifier:{classifier_path}", "weight": 0.5}
