"""StyleGAN2: the layers against closed forms, truncation and style mixing, the
path-length penalty by hand, lazy regularization, and training runs resumed and
split over two replicas with every source of randomness on."""

import math
import os

import numpy as np
import pytest
import tensorflow as tf

from helpers import make_config, read_events, scalar
from test_distribute import ONE, TWO, assert_same_run
from tfgan import training
from tfgan.networks import base, resample, style_layers, stylegan2
from tfgan.metrics import perceptual_path_length
from tfgan.penalties import path_lengths

TINY = dict(latent_dim=8, w_dim=8, mapping_layers=2, channel_base=128, channel_max=16)


def tiny_generator(**changes):
    return stylegan2.StyleGAN2Generator((16, 16, 3), **{**TINY, **changes}, name="generator")


# --- The layers ---


def test_upsampling_is_upfirdn2d_with_the_1331_filter():
    # StyleGAN2's upfirdn2d(up=2): zeros between the pixels, padding (2, 1), the filter
    # [1, 3, 3, 1] / 8 with gain 2 per axis; written out in NumPy.
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 3))
    zeros = np.zeros((2, 8, 10, 3))
    zeros[:, ::2, ::2] = x
    padded = np.pad(zeros, ((0, 0), (2, 1), (2, 1), (0, 0)))
    taps = np.array([1, 3, 3, 1]) / 4.0
    kernel = np.outer(taps, taps)
    expected = np.zeros((2, 8, 10, 3))
    for i in range(8):
        for j in range(10):
            expected[:, i, j] = np.einsum("bhwc,hw->bc", padded[:, i : i + 4, j : j + 4], kernel)
    np.testing.assert_allclose(resample.upsample(x.astype(np.float32)), expected, atol=1e-5)


def test_downsampling_averages_with_the_1331_filter():
    x = np.random.default_rng(1).standard_normal((1, 8, 8, 2)).astype(np.float32)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    taps = np.array([1, 3, 3, 1]) / 8.0
    expected = np.einsum("bhwc,h,w->bc", padded[:, 2:6, 4:8], taps, taps)  # output pixel (1, 2)
    np.testing.assert_allclose(resample.downsample(x)[:, 1, 2], expected, atol=1e-6)
    ones = resample.downsample(np.ones((1, 8, 8, 1), np.float32)).numpy()
    assert ones[0, 1:-1, 1:-1, 0] == pytest.approx(1.0)  # the filter sums to 1: a flat image stays flat inside


@pytest.mark.parametrize("demodulate", [True, False])
def test_demodulation_gives_unit_variance_outputs_whatever_the_styles(demodulate):
    # Input i.i.d. N(0, 1), 8 samples of 32 x 32; styles far from 1 (w ~ N(0, 3^2)), each
    # sample its own. Each interior output pixel is sum_ik w'_ik x_ik / |w'|, of variance
    # exactly 1 when demodulated. A map's sample std over its 900 interior pixels has a
    # standard error of about 1 / sqrt(2 x 900) = 0.024 (more, as neighbouring pixels
    # share inputs): every one of the 256 maps is within 0.12 of 1 and their mean within 0.02.
    layer = style_layers.ModulatedConv2D(64, 32, 3, w_dim=16, demodulate=demodulate)
    layer.build()
    x = tf.random.stateless_normal([8, 32, 32, 64], seed=[0, 1])
    w = 3.0 * tf.random.stateless_normal([8, 16], seed=[0, 2])
    y = layer(x, w).numpy()[:, 1:-1, 1:-1]  # the borders see zero padding
    stds = y.std(axis=(1, 2))  # [sample, map]
    if demodulate:
        assert np.abs(stds - 1.0).max() < 0.12 and abs(stds.mean() - 1.0) < 0.02
    else:
        assert abs(stds.mean() - 1.0) > 0.5


def test_minibatch_stddev_groups_consecutive_samples_so_replica_shares_group_alike():
    x = np.random.default_rng(2).standard_normal((8, 2, 2, 3)).astype(np.float32)
    from tfgan.networks.equalized import MinibatchStddev

    whole = MinibatchStddev(4, contiguous=True)(x).numpy()[..., -1]
    for g in range(2):  # samples 0-3 and 4-7; each share of 4 on its own gives the same
        expected = np.sqrt(x[4 * g : 4 * g + 4].var(axis=0) + 1e-8).mean()
        np.testing.assert_allclose(whole[4 * g : 4 * g + 4], expected, rtol=1e-5)
        np.testing.assert_allclose(MinibatchStddev(4, contiguous=True)(x[4 * g : 4 * g + 4]).numpy()[..., -1], expected, rtol=1e-5)


@pytest.mark.parametrize("contiguous", [True, False])
def test_minibatch_stddev_with_several_channels_gives_one_statistic_per_slice_of_the_maps(contiguous):
    x = np.random.default_rng(3).standard_normal((8, 2, 2, 6)).astype(np.float32)
    from tfgan.networks.equalized import MinibatchStddev

    y = MinibatchStddev(4, contiguous=contiguous, num_channels=3)(x).numpy()
    np.testing.assert_array_equal(y[..., :6], x)
    for b in range(8):
        group = x[4 * (b // 4) : 4 * (b // 4) + 4] if contiguous else x[b % 2 :: 2]
        std = np.sqrt(group.var(axis=0) + 1e-8)  # [2, 2, 6]
        for f in range(3):  # channels 2f and 2f + 1
            np.testing.assert_allclose(y[b, :, :, 6 + f], std[..., 2 * f : 2 * f + 2].mean(), rtol=1e-5)


def test_mapping_normalizes_z_and_moves_w_avg_toward_the_batch_mean_in_training_only():
    mapping = style_layers.MappingNetwork(8, 8, 2, w_avg_beta=0.9)
    mapping.build()
    z = tf.random.stateless_normal([16, 8], seed=[1, 1])
    np.testing.assert_allclose(mapping(3.0 * z), mapping(z), atol=1e-5)  # z's scale is normalized away
    mapping(z, training=False)
    assert not np.any(mapping.w_avg.numpy())
    w = mapping(z, training=True).numpy()
    np.testing.assert_allclose(mapping.w_avg.numpy(), 0.1 * w.mean(axis=0), atol=1e-6)  # lerp(mean, 0, 0.9)


def test_the_generator_has_two_halves_and_features_per_block():
    generator = tiny_generator()
    z = tf.random.stateless_normal([2, 8], seed=[2, 2])
    assert generator.num_ws == 2 * round(math.log2(16)) - 2 == 6
    ws = generator.broadcast(generator.mapping(z))
    assert ws.shape == (2, 6, 8)
    images, features = generator.synthesis(ws, features=True)
    np.testing.assert_allclose(images, generator(z), atol=1e-6)
    assert [f.shape[1] for f in features] == [4, 8, 16]


def test_noise_modes_const_is_fixed_random_follows_the_seed_none_adds_nothing():
    generator = tiny_generator()
    for layer in generator.synthesis_network.convs[-1]:
        layer.noise_strength.assign(1.0)  # noise starts at strength 0
    ws = generator.broadcast(generator.mapping(tf.random.stateless_normal([2, 8], seed=[3, 3])))
    synthesis = lambda **kw: generator.synthesis(ws, **kw).numpy()  # noqa: E731
    np.testing.assert_array_equal(synthesis(), synthesis(noise="const"))
    seed = tf.constant([5, 6], tf.int64)
    np.testing.assert_array_equal(synthesis(seed=seed), synthesis(seed=seed, noise="random"))
    assert not np.allclose(synthesis(seed=seed), synthesis(seed=tf.constant([5, 7], tf.int64)))
    assert not np.allclose(synthesis(seed=seed), synthesis())
    assert not np.allclose(synthesis(noise="none"), synthesis())
    with pytest.raises(ValueError, match="pass `seed`"):
        synthesis(noise="random")
    # Maps handed in (what GAN inversion optimizes): the const ones are const, zeros are none.
    const = generator.noise_maps()
    assert [tuple(m.shape) for m in const] == [(1, 4, 4, 1), (1, 8, 8, 1), (1, 8, 8, 1), (1, 16, 16, 1), (1, 16, 16, 1)]
    np.testing.assert_array_equal(synthesis(noise=const), synthesis())
    np.testing.assert_allclose(synthesis(noise=[tf.zeros_like(m) for m in const]), synthesis(noise="none"), atol=1e-6)
    assert not np.allclose(synthesis(noise=[2 * m for m in const]), synthesis())
    with pytest.raises(ValueError, match="Received 4 noise maps; expected one per noise layer, 5"):
        synthesis(noise=const[:4])


# --- Truncation and style mixing ---


def test_truncation_psi_0_gives_w_avg_and_psi_1_changes_nothing():
    generator = tiny_generator()
    generator.w_avg.assign(tf.random.stateless_normal([8], seed=[4, 4]))
    z = tf.random.stateless_normal([3, 8], seed=[4, 5])
    at_average = generator.synthesis(tf.tile(tf.reshape(generator.w_avg, [1, 1, 8]), [3, 6, 1])).numpy()
    np.testing.assert_allclose(generator(z, psi=0.0), at_average, atol=1e-5)
    np.testing.assert_array_equal(generator(z, psi=1.0), generator(z))
    half = generator(z, psi=0.5).numpy()
    assert not np.allclose(half, at_average, atol=1e-3) and not np.allclose(half, generator(z), atol=1e-3)
    # A cutoff truncates the first layers only.
    ws = generator.broadcast(generator.mapping(z))
    cut = base.truncate(ws, generator.w_avg, 0.0, cutoff=2).numpy()
    np.testing.assert_allclose(cut[:, :2], np.broadcast_to(generator.w_avg.numpy(), (3, 2, 8)), atol=1e-6)
    np.testing.assert_array_equal(cut[:, 2:], ws[:, 2:])


def test_a_labelled_sample_truncates_toward_its_class_centre_the_mean_w_of_its_class():
    generator = tiny_generator(num_classes=3)
    generator.w_avg.assign(tf.random.stateless_normal([8], seed=[4, 6]))  # away from every centre
    # By hand: each class's mean w over the fixed z that class_centres draws.
    z_fixed = tf.random.stateless_normal([base.CENTRE_SAMPLES, 8], seed=base.CENTRE_SEED)
    by_hand = np.stack([generator.mapping(z_fixed, np.full(base.CENTRE_SAMPLES, c, np.int32)).numpy().mean(0) for c in range(3)])
    centres = generator.class_centres().numpy()
    np.testing.assert_allclose(centres, by_hand, atol=1e-5)
    assert np.abs(centres[0] - centres[1]).max() > 1e-2  # the classes' centres are apart
    z, labels = tf.random.stateless_normal([6, 8], seed=[4, 7]), np.array([0, 1, 2, 2, 1, 0], np.int32)
    # psi 0: every sample of class c is synthesis(centre c), whatever its z; not synthesis(w_avg).
    at_centres = generator.synthesis(np.repeat(centres[labels][:, None], generator.num_ws, 1)).numpy()
    np.testing.assert_allclose(generator(z, labels, psi=0.0), at_centres, atol=1e-5)
    at_average = generator.synthesis(tf.tile(tf.reshape(generator.w_avg, [1, 1, 8]), [6, 6, 1])).numpy()
    assert np.abs(at_centres - at_average).max() > 1e-2
    np.testing.assert_array_equal(generator(z, labels, psi=1.0), generator(z, labels))
    # psi 0.5, halfway: by hand from the mapping's w; centres handed in give the same images.
    ws = np.repeat(generator.mapping(z, labels).numpy()[:, None], generator.num_ws, 1)
    halfway = generator.synthesis(centres[labels][:, None] + 0.5 * (ws - centres[labels][:, None])).numpy()
    np.testing.assert_allclose(generator(z, labels, psi=0.5), halfway, atol=1e-5)
    np.testing.assert_allclose(generator(z, labels, psi=0.5, centres=tf.constant(centres)), halfway, atol=1e-5)


def test_style_mixing_keeps_the_first_layers_of_a_and_equals_no_mixing_for_the_same_w():
    generator = tiny_generator()
    a = generator.broadcast(generator.mapping(tf.random.stateless_normal([2, 8], seed=[6, 1])))
    b = generator.broadcast(generator.mapping(tf.random.stateless_normal([2, 8], seed=[6, 2])))
    mixed = base.style_mix(a, b, 3).numpy()
    np.testing.assert_array_equal(mixed[:, :3], a[:, :3])
    np.testing.assert_array_equal(mixed[:, 3:], b[:, 3:])
    np.testing.assert_array_equal(generator.synthesis(base.style_mix(a, a, 3)), generator.synthesis(a))
    assert not np.allclose(generator.synthesis(mixed), generator.synthesis(a))


def test_training_calls_mix_styles_by_the_seed_and_sampling_calls_never_do():
    z = tf.random.stateless_normal([4, 8], seed=[7, 1])
    seed = tf.constant([1, 2], tf.int64)
    always, never = tiny_generator(style_mixing=1.0), tiny_generator(style_mixing=0.0)
    never.set_weights(always.get_weights())
    mixed = always(z, training=True, seed=seed).numpy()
    np.testing.assert_array_equal(mixed, always(z, training=True, seed=seed))  # reproducible
    assert not np.allclose(mixed, never(z, training=True, seed=seed))  # a second z's styles in the fine layers
    np.testing.assert_array_equal(always(z), never(z))  # no seed: no mixing


# --- Path length ---


def test_path_lengths_match_a_hand_computation_on_a_linear_synthesis():
    # synthesis(ws) = ws (flattened) @ A: the gradient of sum(y * n) is n @ A^T, per sample.
    rng = np.random.default_rng(0)
    num_ws, w_dim, shape = 3, 4, (2, 2, 1)
    a = rng.standard_normal((num_ws * w_dim, 4)).astype(np.float32)
    ws = tf.constant(rng.standard_normal((5, num_ws, w_dim)), tf.float32)
    noise = rng.standard_normal((5, *shape)).astype(np.float32) / 2.0  # / sqrt(H W)
    synthesis = lambda v: tf.reshape(tf.reshape(v, [5, -1]) @ a, [5, *shape])  # noqa: E731
    grads = (noise.reshape(5, 4) @ a.T).reshape(5, num_ws, w_dim)
    expected = np.sqrt((grads**2).sum(axis=2).mean(axis=1))
    np.testing.assert_allclose(path_lengths(synthesis, ws, noise), expected, rtol=1e-5)


# --- Training ---

def stylegan2_config(tmp_path, name, **changes):
    """A 16x16 shapes run with style mixing, path length every 2nd G step, lazy R1 every
    2nd D step and an EMA: every source of randomness and every hook state on."""
    sections = dict(
        data={"source": "shapes", "resolution": 16, "num_examples": 256},
        model={"network": "stylegan2", "latent_dim": 8, "stylegan2": {**{k: v for k, v in TINY.items() if k != "latent_dim"}, "pl_every": 2}},
        loss={"r1_gamma": "auto", "r1_every": 2},
        train={"steps": 8, "batch_size": 8, "ema_kimg": 0.1, "d_optimizer": {"beta_1": 0.0, "beta_2": 0.99, "learning_rate": 0.002},
               "g_optimizer": {"beta_1": 0.0, "beta_2": 0.99, "learning_rate": 0.002}},
        log={"every": 4, "images_every": 8}, checkpoint={"every": 4},
    )
    for section, values in changes.items():
        sections[section] = {**sections.get(section, {}), **values}
    return make_config(tmp_path, name, **sections)


def test_lazy_regularizers_correct_their_networks_optimizer_as_stylegan2(tmp_path):
    config = stylegan2_config(tmp_path, "run")
    gan = training.build_gan(config, training.data.load(config.data, False, 0))
    c = 2 / 3  # R1 every 2nd D update and path length every 2nd G update: k / (k + 1)
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        assert float(optimizer.learning_rate) == pytest.approx(0.002 * c)
        assert float(optimizer.beta_2) == pytest.approx(0.99**c)
    r1 = next(hook for hook in gan.hooks if hook.name == "r1_penalty")
    assert r1.gamma == pytest.approx(0.0002 * 16**2 / 8)  # gamma auto: 0.0002 res^2 / batch
    plain = stylegan2_config(tmp_path, "plain", loss={"r1_gamma": 0.1, "r1_every": 1, "lazy_correction": False})
    gan = training.build_gan(plain, training.data.load(plain.data, False, 0))
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(0.002)


def test_a_resumed_stylegan2_run_continues_exactly_and_logs_each_penalty(tmp_path):
    whole = stylegan2_config(tmp_path, "whole")
    training.train(whole)
    first = stylegan2_config(tmp_path, "split", train={"steps": 4})
    training.train(first)
    resumed = training.train(stylegan2_config(tmp_path, "split"), resume=True)
    assert int(resumed.step.numpy()) == 8
    reader = lambda name: tf.train.load_checkpoint(os.path.join(tmp_path, name, "checkpoints"))  # noqa: E731
    a, b = reader("whole"), reader("split")
    names = [n for n, _ in tf.train.list_variables(os.path.join(tmp_path, "whole", "checkpoints")) if "save_counter" not in n and "CHECKPOINTABLE" not in n]
    assert any(n.startswith("path_length_mean") for n in names) and any(n.startswith("ema_generator") for n in names)
    for name in names:
        np.testing.assert_allclose(a.get_tensor(name), b.get_tensor(name), rtol=1e-5, atol=1e-6, err_msg=name)
    events = read_events(os.path.join(tmp_path, "whole", "tensorboard"))
    assert scalar(events, "path_length_penalty", 4) > 0 and scalar(events, "r1_penalty", 4) > 0
    assert float(a.get_tensor("path_length_mean/0/.ATTRIBUTES/VARIABLE_VALUE")) > 0


def test_two_replicas_train_the_stylegan2_weights_of_one(tmp_path):
    # Style mixing, noise inputs, the path-length subsample and its running mean, w_avg
    # and lazy R1 are all drawn or reduced over the global batch.
    one = stylegan2_config(tmp_path, "one", distribute=ONE)
    two = stylegan2_config(tmp_path, "two", distribute=TWO)
    training.train(one)
    gan = training.train(two)
    assert gan.distribute_strategy.num_replicas_in_sync == 2
    assert_same_run(one, two, tolerance=1e-4)


def test_xla_compiles_the_stylegan2_step_with_lazy_r1_and_path_length_due(tmp_path):
    # train.jit_compile: auto turns XLA on wherever there is a GPU. The lazy regularizers'
    # tf.cond held shapes XLA could not know at compile time (minibatch stddev, the
    # path-length half batch, the w broadcast), and the step failed to compile. (XLA draws
    # other stateless random numbers than the CPU kernels, so the run is not the plain one.)
    gan = training.train(stylegan2_config(tmp_path, "xla", train={"steps": 4, "jit_compile": True}))
    assert gan.jit_compile and int(gan.step.numpy()) == 4
    events = read_events(os.path.join(tmp_path, "xla", "tensorboard"))
    for tag in ("r1_penalty", "path_length_penalty", "d_loss", "g_loss"):  # steps 0 and 2 evaluate both penalties
        assert np.isfinite(scalar(events, tag, 4)), tag
    assert scalar(events, "path_length_penalty", 4) > 0 and scalar(events, "r1_penalty", 4) > 0


# --- Perceptual path length ---


def test_ppl_pairs_start_at_g_of_z_and_step_epsilon_toward_the_second_w():
    from tfgan import latent
    from tfgan.evaluate import report

    generator = tiny_generator(num_classes=3)
    num = 5
    z = latent.normal_tf(2 * num, generator.latent_dim, 4)
    labels = np.arange(num) % 3
    start, end = report.path_pairs(generator, num, seed=4, epsilon=1.0, batch_size=2)  # a step of 1 ends at w'
    np.testing.assert_allclose(start, generator(z[:num], labels, training=False), atol=1e-5)
    np.testing.assert_allclose(end, generator(z[num:], labels, training=False), atol=1e-5)
    start, end = report.path_pairs(generator, num, seed=4)  # epsilon 1e-4: a step, not a jump
    gap = np.abs(end - start).max(axis=(1, 2, 3))
    assert (gap > 0).all() and (gap < 1e-2).all()


def test_ppl_through_evaluate_and_its_refusal_for_a_generator_without_halves(tmp_path):
    import keras

    from tfgan import data
    from tfgan.errors import UserError
    from tfgan.evaluate import features, report
    from tfgan.networks.dcgan import DCGANGenerator

    generator = tiny_generator()
    inputs = keras.Input((16, 16, 3))
    flat = keras.layers.Flatten(name="features")(inputs)
    extractor = features.Extractor(keras.Model(inputs, [flat, keras.layers.Dense(2)(flat)]), "pixels", (16, 16, 3))
    examples = data.Examples(np.zeros((4, 16, 16, 3), np.uint8), None, 0)
    results = report.evaluate(generator, examples, ["ppl"], extractor, num_samples=20, cache_dir=None)
    start, end = report.path_pairs(generator, 20)
    flatten = lambda x: x.reshape(len(x), -1)  # noqa: E731
    assert results == {"ppl": pytest.approx(perceptual_path_length(flatten(start), flatten(end)), rel=1e-6)}
    with pytest.raises(UserError, match=r"metric 'ppl' needs a generator with mapping and synthesis halves"):
        report.check_metrics(["ppl"], examples, generator=DCGANGenerator((16, 16, 3), latent_dim=4, filters=4))
