"""Guided generation: scorers (a classifier, a KerasHub CLIP from a local preset) steer a VQGAN's latent grid."""

import string

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan.errors import UserError
from tfgan.evaluate.classifier import build_classifier
from tfgan.guide import optimize, scorers
from tfgan.networks.vqgan import VQAutoencoder


def tiny_autoencoder():
    keras.utils.set_random_seed(0)
    autoencoder = VQAutoencoder((16, 16, 1), channels=8, channel_mult=(1, 2), num_codes=16, code_dim=4)
    autoencoder.build_from_config(None)
    return autoencoder


def start_codes(autoencoder, num=2):
    images = tf.random.stateless_uniform([num, 16, 16, 1], seed=[1, 2], minval=-1, maxval=1)
    return autoencoder.encode(images).numpy()


def test_guidance_raises_the_target_class_probability_and_keeps_the_image_a_decoded_grid(tmp_path):
    # A classifier of the 12x12 centre (a padded generator's), randomly initialized: the plumbing is real.
    path = str(tmp_path / "classifier.keras")
    build_classifier((12, 12, 1), 3, seed=0).save(path)
    autoencoder = tiny_autoencoder()
    scorer = scorers.from_flag(f"classifier:{path}", target=2)
    codes = start_codes(autoencoder)
    before = scorer.probabilities(autoencoder.decode(codes)).numpy()[:, 2]
    final_codes, images, scores, frames = optimize.guide(autoencoder, scorer, codes, steps=40, learning_rate=0.2, frames=3)
    after = scorer.probabilities(images).numpy()[:, 2]
    assert np.all(after > before + 0.05), (before, after)
    np.testing.assert_allclose(scores[-1], np.log(after), rtol=1e-4)  # the score is log p(target)
    np.testing.assert_allclose(images, autoencoder.decode(final_codes).numpy(), atol=1e-5)  # codebook entries, decoded
    assert len(scores) == 41 and len(frames) == 3
    np.testing.assert_allclose(frames[0], autoencoder.decode(codes).numpy(), atol=1e-5)


def test_scorer_flags_are_checked(tmp_path):
    path = str(tmp_path / "classifier.keras")
    build_classifier((12, 12, 1), 3, seed=0).save(path)
    with pytest.raises(UserError, match=r"--target: expected a class in 0..2 of the classifier .*, got 3"):
        scorers.from_flag(f"classifier:{path}", target=3)
    with pytest.raises(UserError, match="expected classifier:PATH or clip:PRESET_DIR"):
        scorers.from_flag("lpips:x")
    with pytest.raises(UserError, match="not a KerasHub CLIP preset directory"):
        scorers.from_flag(f"clip:{tmp_path}/none", prompt="a digit")


@pytest.fixture(scope="module")
def clip_preset(tmp_path_factory):
    """A tiny, randomly initialized CLIP built from KerasHub's classes and saved as a preset (no download)."""
    from keras_hub.models import CLIPBackbone, CLIPPreprocessor, CLIPTextEncoder, CLIPTokenizer, CLIPVisionEncoder

    vocabulary = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for letter in string.ascii_lowercase:
        vocabulary[letter], vocabulary[letter + "</w>"] = len(vocabulary), len(vocabulary) + 1
    merges = ["e i", "ei g", "eig h", "eigh t</w>"]
    for token in ("ei", "eig", "eigh", "eight</w>"):
        vocabulary[token] = len(vocabulary)
    keras.utils.set_random_seed(0)
    vision = CLIPVisionEncoder(patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, intermediate_dim=32, image_shape=(32, 32, 3))
    text = CLIPTextEncoder(vocabulary_size=len(vocabulary), embedding_dim=16, hidden_dim=16, num_layers=1, num_heads=2,
                           intermediate_dim=32, max_sequence_length=16)
    path = str(tmp_path_factory.mktemp("clip"))
    CLIPBackbone(vision, text, projection_dim=8).save_to_preset(path)
    CLIPPreprocessor(CLIPTokenizer(vocabulary=vocabulary, merges=merges), sequence_length=16).save_to_preset(path)
    return path


def test_a_kerashub_clip_from_a_local_preset_scores_the_prompt_and_guidance_raises_it(clip_preset):
    scorer = scorers.from_flag(f"clip:{clip_preset}", prompt="an eight")
    autoencoder = tiny_autoencoder()
    codes = start_codes(autoencoder)
    images = autoencoder.decode(codes)
    score = scorer(images).numpy()
    assert score.shape == (2,) and np.all(np.abs(score) <= 1.0 + 1e-6)  # a cosine similarity
    other = scorers.from_flag(f"clip:{clip_preset}", prompt="a zero")
    assert np.abs(other(images).numpy() - score).max() > 1e-4  # the prompt matters
    _, _, scores, _ = optimize.guide(autoencoder, scorer, codes, steps=30, learning_rate=0.2)
    assert np.all(scores[-1] > scores[0] + 0.01), (scores[0], scores[-1])
    with pytest.raises(UserError, match="needs --prompt"):
        scorers.from_flag(f"clip:{clip_preset}")
