"""VQGAN's stage 2: the GPT prior, its key/value cache, the sampling filters and the sampler as a generator."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan.networks.transformer import GPT
from tfgan.networks.vqgan import VQAutoencoder
from tfgan.networks.vqgan_prior import VQGANSampler, filtered_probabilities, inverse_cdf, uniform


@pytest.fixture(scope="module")
def stage1_run(tmp_path_factory):
    """A tiny VQGAN run (2 steps) whose codes the prior runs of this file model, trained once."""
    from test_vqgan import vqgan_config

    from tfgan import training

    tmp = tmp_path_factory.mktemp("stage1")
    training.train(vqgan_config(tmp, "stage1", train={"steps": 2}, log={"every": 2, "images_every": 2}))
    return str(tmp / "stage1")


def tiny_gpt(num_classes=3, length=16, vocab=16):
    keras.utils.set_random_seed(0)
    gpt = GPT(vocab, length, num_classes, num_layers=2, heads=2, dim=16)
    gpt.build_from_config(None)
    return gpt


def tiny_sampler(**kwargs):
    keras.utils.set_random_seed(0)
    autoencoder = VQAutoencoder((16, 16, 1), channels=8, channel_mult=(1, 2, 2), num_codes=16, code_dim=4)  # a 4x4 grid
    autoencoder.build_from_config(None)
    return VQGANSampler(tiny_gpt(), autoencoder, **kwargs)


def test_each_position_sees_only_the_start_token_and_the_tokens_before_it():
    gpt = tiny_gpt()
    tokens = tf.random.stateless_uniform([2, 16], seed=[1, 2], maxval=16, dtype=tf.int32)
    labels = tf.constant([0, 2])
    logits = gpt(tokens, labels).numpy()
    changed = tf.concat([tokens[:, :9], (tokens[:, 9:] + 5) % 16], axis=1)  # tokens 9.. differ
    after = gpt(changed, labels).numpy()
    np.testing.assert_allclose(after[:, :10], logits[:, :10], atol=1e-5)  # position 9 predicts token 9 from tokens[:9]
    assert np.abs(after[:, 10:] - logits[:, 10:]).max() > 1e-3
    assert np.abs(gpt(tokens, tf.constant([1, 1])).numpy()[:, 0] - logits[:, 0]).max() > 1e-3  # the class token conditions


def test_the_cached_one_position_passes_give_the_full_pass_logits():
    gpt = tiny_gpt()
    tokens = tf.random.stateless_uniform([3, 16], seed=[3, 4], maxval=16, dtype=tf.int32)
    labels = tf.constant([0, 1, 2])
    full = gpt(tokens, labels).numpy()
    cache = gpt.empty_cache(3)
    for i in range(16):
        logits, cache = gpt.next_logits(tokens[:, max(i - 1, 0)], labels, tf.constant(i), cache)
        np.testing.assert_allclose(logits.numpy(), full[:, i], atol=1e-5, err_msg=f"position {i}")


def test_temperature_top_k_and_top_p_by_hand():
    logits = tf.constant([[2.0, 1.0, 0.0, -1.0]])
    softmax = lambda x: np.exp(x) / np.exp(x).sum()  # noqa: E731
    np.testing.assert_allclose(filtered_probabilities(logits, temperature=2.0).numpy()[0], softmax(np.array([1.0, 0.5, 0.0, -0.5])), rtol=1e-6)
    np.testing.assert_allclose(filtered_probabilities(logits, top_k=2).numpy()[0], [*softmax(np.array([2.0, 1.0])), 0, 0], rtol=1e-6)
    p = softmax(np.array([2.0, 1.0, 0.0, -1.0]))  # 0.644, 0.237, 0.087, 0.032
    # top_p 0.85: 0.644 < 0.85, so the second token joins; 0.881 >= 0.85, so the third does not.
    np.testing.assert_allclose(filtered_probabilities(logits, top_p=0.85).numpy()[0], [p[0] / p[:2].sum(), p[1] / p[:2].sum(), 0, 0], rtol=1e-6)
    np.testing.assert_allclose(filtered_probabilities(tf.constant([[0.0, 3.0, 1.0]]), top_p=0.5).numpy()[0], [0, 1, 0], atol=1e-7)  # unsorted input
    # As scalar tensors (an export's sample signature's inputs): the same; top_k 0 and top_p 1 keep everything.
    tensors = lambda t, k, p: filtered_probabilities(logits, tf.constant(t), tf.constant(k), tf.constant(p)).numpy()[0]  # noqa: E731
    np.testing.assert_allclose(tensors(2.0, 2, 0.85), filtered_probabilities(logits, 2.0, 2, 0.85).numpy()[0], rtol=1e-6)
    np.testing.assert_allclose(tensors(1.0, 0, 1.0), p, rtol=1e-6)


def test_inverse_cdf_sampling_by_hand():
    probabilities = tf.constant([[0.0, 0.5, 0.0, 0.5]] * 4)
    tokens = inverse_cdf(probabilities, tf.constant([0.0, 0.2, 0.5, 0.9999999]))
    assert tokens.numpy().tolist() == [1, 1, 3, 3]  # tokens without probability are never picked
    assert float(uniform(tf.constant(0.0))) == 0.5 and float(uniform(tf.constant(1.0))) == pytest.approx(0.5 * (1 + math.erf(1 / math.sqrt(2))))


def test_cached_sampling_gives_the_tokens_uncached_sampling_gives_and_the_sampler_is_a_generator():
    sampler = tiny_sampler(temperature=0.9, top_k=8, top_p=0.95)
    z = tf.random.stateless_normal([4, 16], seed=[5, 6])
    labels = tf.constant([0, 1, 2, 0])
    cached = sampler.sample_tokens(z, labels).numpy()
    np.testing.assert_array_equal(sampler.sample_tokens(z, labels, cached=False).numpy(), cached)
    assert cached.shape == (4, 4, 4) and len(np.unique(cached)) > 3
    images = sampler(z, labels).numpy()
    np.testing.assert_allclose(images, sampler.autoencoder.decode(cached).numpy(), atol=1e-6)
    assert images.shape == (4, 16, 16, 1) and sampler.latent_dim == 16 and sampler.num_classes == 3
    assert sampler.trainable_weights == sampler.prior.trainable_weights  # the autoencoder is frozen
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(sampler))
    again.build_from_config(None)
    again.set_weights(sampler.get_weights())
    np.testing.assert_array_equal(again.sample_tokens(z, labels).numpy(), cached)


def test_a_prior_that_does_not_fit_the_autoencoder_is_refused():
    autoencoder = VQAutoencoder((16, 16, 1), channels=8, channel_mult=(1, 2), num_codes=16, code_dim=4)  # an 8x8 grid
    with pytest.raises(ValueError, match="models 16 tokens of 16 codes, but the autoencoder's grid is 8x8 of 16 codes"):
        VQGANSampler(tiny_gpt(), autoencoder)


def test_a_prior_run_trains_on_a_vqgan_runs_codes_resumes_exactly_exports_its_sampling_loop_in_the_graph_and_is_guided(tmp_path, capsys, stage1_run):
    import os

    from helpers import make_config, read_events, scalar

    from tfgan import export, training
    from tfgan import generate as generate_cli
    from tfgan.evaluate.classifier import build_classifier
    from tfgan.export.signatures import to_uint8

    classifier = str(tmp_path / "classifier.keras")
    build_classifier((16, 16, 3), 3, seed=0).save(classifier)  # a (random) classifier of shapes

    def prior_config(name, eval=None, **train):
        return make_config(
            tmp_path, name, data={"source": "shapes", "resolution": 16, "num_examples": 64},
            model={"network": "vqgan_prior", "vqgan_prior": {"autoencoder": stage1_run, "layers": 1, "heads": 2, "dim": 16, "top_k": 12}},
            train={"steps": 4, "batch_size": 8, **train}, log={"every": 2, "images_every": 4, "num_images": 4}, checkpoint={"every": 2},
            **({"eval": eval} if eval else {}),
        )

    # The eval: block scores a prior's samples as it does any generator's.
    training.train(prior_config("whole", eval={"every": 4, "metrics": ["frechet_distance"], "features": f"classifier:{classifier}",
                                               "samples": 16, "cache": str(tmp_path / "cache")}))
    training.train(prior_config("split", steps=2))
    trainee = training.train(prior_config("split"), resume=True)
    reader = lambda name: tf.train.load_checkpoint(os.path.join(tmp_path, name, "checkpoints"))  # noqa: E731
    names = [n for n, _ in tf.train.list_variables(os.path.join(tmp_path, "whole", "checkpoints")) if "save_counter" not in n and "CHECKPOINTABLE" not in n]
    assert len(names) > 30  # the sampler's weights (prior and frozen autoencoder) and the optimizer's slots
    for name in names:
        np.testing.assert_allclose(reader("whole").get_tensor(name), reader("split").get_tensor(name), rtol=1e-5, atol=1e-6, err_msg=name)
    events = read_events(os.path.join(tmp_path, "whole", "tensorboard"))
    assert 0 < scalar(events, "loss", 4) < 2 * math.log(16) and 0 <= scalar(events, "accuracy", 4) <= 1
    assert "learning_rate/prior" in events and events["samples"]["plugin"] == "images"
    assert events["eval/frechet_distance"]["steps"] == [4] and scalar(events, "eval/frechet_distance", 4) > 0

    path = export.export_run(os.path.join(tmp_path, "split"), base_dir=str(tmp_path / "exports"))
    assert {"encoder.onnx", "decoder.onnx"} <= set(os.listdir(path)) and "model.onnx" not in os.listdir(path)  # no ONNX loop
    functions = tf.saved_model.load(path).signatures
    assert {"serving_default", "generate", "encode", "decode"} <= set(functions.keys())
    generated = functions["generate"](num=tf.constant(3), seed=tf.constant(7, tf.int64))["images_uint8"].numpy()
    expected = to_uint8(trainee.generate(3, seed=7)).numpy()  # the same z, sampled by the Python loop
    assert np.abs(generated.astype(int) - expected.astype(int)).max() <= 1  # (a rounding at .5 apart)
    z = tf.random.stateless_normal([2, 64], seed=[1, 1])
    own = functions["serving_default"](z=z)["images"].numpy()
    np.testing.assert_allclose(own, trainee.generator(z).numpy(), atol=1e-5)
    assert generate_cli.main(["--model", path, "--num", "4", "--out", str(tmp_path / "grid.png")]) == 0  # like any other export
    # Sampling settings per request: the run's own (top_k 12) give serving_default's images; top_k 1 always takes
    # the most likely code, so every z gives the same grid (and so does tfgan.generate --top-k 1).
    sample = lambda **settings: functions["sample"](z=z, **{"temperature": 1.0, "top_k": 12, "top_p": 1.0, **settings})["images"].numpy()  # noqa: E731
    np.testing.assert_allclose(sample(), own, atol=1e-5)
    greedy = sample(top_k=1)
    assert np.abs(own[0] - own[1]).max() > 1e-3 and np.abs(greedy[0] - greedy[1]).max() < 1e-6
    with pytest.raises(tf.errors.InvalidArgumentError, match="top_p must be in"):
        sample(top_p=0.0)
    assert generate_cli.main(["--model", path, "--num", "3", "--top-k", "1", "--out", str(tmp_path / "greedy.npz")]) == 0
    drawn = np.load(tmp_path / "greedy.npz")["samples"]
    np.testing.assert_allclose(drawn, np.broadcast_to(greedy[:1], drawn.shape), atol=1e-5)

    # python -m tfgan.guide from the prior's sample for a seed, scored by the classifier.
    from PIL import Image

    from tfgan.guide import __main__ as guide_cli

    flags = ["--scorer", f"classifier:{classifier}", "--target", "1", "--steps", "5", "--out", str(tmp_path / "guided.png")]
    capsys.readouterr()
    assert guide_cli.main(["--run", str(tmp_path / "split"), "--init-seed", "1", *flags, "--sequence", str(tmp_path / "steps.png"), "--frames", "3"]) == 0
    printed = capsys.readouterr().out
    assert "tfgan.guide: score" in printed and "target 1 p" in printed and printed.strip().endswith("guided.png")
    assert Image.open(tmp_path / "guided.png").size == (16, 16) and Image.open(tmp_path / "steps.png").size[0] > 3 * 16
    assert guide_cli.main(["--run", stage1_run, "--init-seed", "1", *flags]) == 2
    assert "is a vqgan run (stage 1); give --init-image" in capsys.readouterr().err


def test_two_replicas_train_the_prior_of_one(tmp_path, stage1_run):
    import os

    from helpers import make_config, read_events, scalar
    from test_distribute import ONE, TWO, checkpoint_values

    from tfgan import training

    def prior_config(name, distribute):
        return make_config(
            tmp_path, name, data={"source": "shapes", "resolution": 16, "num_examples": 64}, distribute=distribute,
            model={"network": "vqgan_prior", "vqgan_prior": {"autoencoder": stage1_run, "layers": 1, "heads": 2, "dim": 16}},
            train={"steps": 2, "batch_size": 8}, log={"every": 2, "images_every": 2, "num_images": 4}, checkpoint={"every": 2},
        )

    one, two = prior_config("one", ONE), prior_config("two", TWO)
    training.train(one)
    assert training.train(two).distribute_strategy.num_replicas_in_sync == 2
    va, vb = checkpoint_values(one.run_dir), checkpoint_values(two.run_dir)
    assert va.keys() == vb.keys() and len(va) > 30
    for name in va:
        np.testing.assert_allclose(va[name], vb[name], atol=1e-5, rtol=1e-5, err_msg=name)
    ea, eb = (read_events(os.path.join(c.run_dir, "tensorboard")) for c in (one, two))
    assert scalar(eb, "loss", 2) == pytest.approx(scalar(ea, "loss", 2), rel=1e-5)  # the global batch's mean, not a replica's
