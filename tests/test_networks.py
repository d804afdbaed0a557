import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan.networks import (
    DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, PackedDiscriminator, packing,
)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (64, 64, 3)])
def test_dcgan_makes_and_reads_images_of_the_configured_shape(shape):
    generator, discriminator = DCGANGenerator(shape), DCGANDiscriminator(shape)
    images = generator(np.random.normal(size=(3, 100)).astype("float32"), training=False)
    assert images.shape == (3, *shape)
    assert np.all(np.abs(images) <= 1.0)  # tanh output
    assert discriminator(images).shape == (3, 1)


def test_dcgan_follows_radford_guidelines():
    generator, discriminator = DCGANGenerator((64, 64, 3)), DCGANDiscriminator((64, 64, 3))
    generator(np.zeros((1, 100), "float32"))
    discriminator(np.zeros((1, 64, 64, 3), "float32"))
    g_layers = [l.__class__.__name__ for l in generator._flatten_layers(include_self=False)]
    d_layers = [l.__class__.__name__ for l in discriminator._flatten_layers(include_self=False)]
    assert "MaxPooling2D" not in g_layers + d_layers
    assert g_layers.count("Conv2DTranspose") == 4 and d_layers.count("Conv2D") == 4  # 4 -> 64
    assert generator.to_image.activation.__name__ == "tanh"
    assert discriminator.down[0][1] is None  # no batch norm at D's input
    assert generator.base_shape == (4, 4, 512)
    # N(0, 0.02) initialisation
    assert abs(float(np.std(discriminator.down[1][0].kernel.numpy())) - 0.02) < 0.002


@pytest.mark.parametrize("shape", [(27, 27, 1), (9, 9, 1), (6, 6, 1), (28, 28)])
def test_dcgan_refuses_shapes_it_cannot_build(shape):
    with pytest.raises(ValueError, match="DCGAN"):
        DCGANGenerator(shape)


def test_dcgan_for_64_pixels_refuses_28_pixel_data_with_a_clear_error():
    import tensorflow as tf

    from tfgan import GAN

    gan = GAN(DCGANGenerator((64, 64, 1)), DCGANDiscriminator((64, 64, 1)))
    gan.compile("adam", "adam")
    with pytest.raises(ValueError, match=r"generator makes samples of shape \(64, 64, 1\) but the data has shape \(28, 28, 1\)"):
        gan.fit(tf.zeros([8, 28, 28, 1]), batch_size=4, epochs=1, verbose=0)


def test_mlp_gan_has_the_papers_layer_sizes():
    generator, discriminator = MLPGenerator((28, 28, 1)), MLPDiscriminator((28, 28, 1))
    generator(np.zeros((1, 100), "float32"))
    discriminator(np.zeros((1, 28, 28, 1), "float32"))
    assert [l.units for l in generator.hidden] + [generator.out.units] == [256, 512, 1024, 784]
    assert [l.units for l in discriminator.hidden] + [discriminator.logit.units] == [1024, 512, 256, 1]


@pytest.mark.parametrize(
    "make",
    [
        lambda: (MLPGenerator((28, 28, 1), num_classes=10), MLPDiscriminator((28, 28, 1), num_classes=10)),
        lambda: (
            DCGANGenerator((28, 28, 1), num_classes=10, label_encoding="one_hot"),
            DCGANDiscriminator((28, 28, 1), num_classes=10, conditioning_mode="projection"),
        ),
        lambda: (
            MLPGenerator((28, 28, 1), num_classes=10),
            MLPDiscriminator((28, 28, 1), num_classes=10, conditioning_mode="projection"),
        ),
        lambda: (DCGANGenerator((28, 28, 1), num_classes=10), DCGANDiscriminator((28, 28, 1), num_classes=10)),
    ],
)
def test_conditional_networks_depend_on_the_label(make):
    generator, discriminator = make()
    z = np.random.normal(size=(2, 100)).astype("float32")
    z = np.concatenate([z[:1], z[:1]])  # the same z twice
    images = generator(z, np.array([3, 7]), training=False).numpy()
    assert not np.allclose(images[0], images[1])
    logits = discriminator(np.concatenate([images[:1], images[:1]]), np.array([3, 7])).numpy()
    assert logits[0, 0] != logits[1, 0]
    with pytest.raises(ValueError, match="call it with labels"):
        generator(z)


@pytest.mark.parametrize(
    "network",
    [
        MLPGenerator((2,), latent_dim=8, hidden_units=(16,), output_activation="linear"),
        MLPDiscriminator((28, 28, 1), hidden_units=(32, 8), num_classes=10, conditioning_mode="projection"),
        DCGANGenerator((32, 32, 3), filters=8, num_classes=10, label_encoding="one_hot"),
        DCGANDiscriminator((32, 32, 3), filters=8, num_classes=10),
        PackedDiscriminator(DCGANDiscriminator((32, 32, 6), filters=8), pack=2),
        MLPDiscriminator((2,), hidden_units=(16,), spectral_norm=True),
        DCGANDiscriminator((28, 28, 1), filters=8, spectral_norm=True, norm="layer"),
    ],
    ids=["mlp_g", "mlp_d", "dcgan_g", "dcgan_d", "packed_d", "mlp_d_sn", "dcgan_d_sn_layer_norm"],
)
def test_networks_round_trip_through_get_config(network):
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(network))
    assert type(restored) is type(network)
    assert restored.get_config() == network.get_config()


@pytest.mark.parametrize(
    "shape, inner",
    [((2,), lambda shape: MLPDiscriminator(shape, hidden_units=(16,))),
     ((32, 32, 3), lambda shape: DCGANDiscriminator(shape, filters=8))],
    ids=["points", "images"],
)
def test_packed_discriminator_judges_consecutive_samples_joined_on_the_last_axis(shape, inner):
    pack = 3
    discriminator = inner(packing.packed_shape(shape, pack))
    packed = PackedDiscriminator(discriminator, pack)
    x = np.random.default_rng(0).normal(size=(6, *shape)).astype("float32")
    by_hand = np.stack([np.concatenate(list(x[g * pack:(g + 1) * pack]), axis=-1) for g in range(2)])
    np.testing.assert_allclose(packed(x), discriminator(by_hand), rtol=1e-5, atol=1e-6)
    assert packed.sample_shape == shape


def test_packed_discriminator_refuses_odd_batches_and_labels():
    packed = PackedDiscriminator(MLPDiscriminator((4,), hidden_units=(8,)), pack=2)
    with pytest.raises(ValueError, match="the batch must be a multiple of 2. Received a batch of 3"):
        packed(np.zeros((3, 2), "float32"))
    with pytest.raises(ValueError, match="Packing is for unconditional discriminators"):
        PackedDiscriminator(MLPDiscriminator((4,), hidden_units=(8,), num_classes=10), pack=2)


def test_unknown_network_lists_the_valid_ones():
    from tfgan import architectures

    with pytest.raises(ValueError, match="Unknown network 'resnet'. Expected one of: mlp, dcgan"):
        architectures.get("resnet")


def test_every_architecture_builds_from_its_own_config_section(tmp_path):
    import dataclasses

    from tfgan import architectures, config, data, training

    np.savez(tmp_path / "x.npz", x=np.zeros((8, 28, 28, 1), np.uint8))
    # What else an architecture needs: pggan grows through phases, to a power-of-two size (4 + 2 x 2 = 8).
    # stylegan2 too needs a power-of-two size.
    needs = {
        "pggan": ({"resolution": 4, "pad": 2}, {"batch_size": 4, "phases": [{"resolution": 4, "stable_images": 8}, {"resolution": 8, "fade_images": 8}]}, (8, 8, 1)),
        "stylegan2": ({"resolution": 4, "pad": 2}, {"batch_size": 4}, (8, 8, 1)),
    }
    for name, architecture in architectures.ARCHITECTURES.items():
        if architecture.trainer:
            continue  # not a GAN of two networks (vqgan_prior: tests/test_prior.py trains one)
        options = dataclasses.asdict(architecture.options())  # the section, written out
        data_keys, train_keys, shape = needs.get(name, ({}, {}, (28, 28, 1)))
        c = config.from_dict({
            "data": {"source": "npz", "path": str(tmp_path / "x.npz"), **data_keys}, "train": train_keys,
            "model": {"network": name, name: options},
        })
        examples = data.load(c.data, False, 0)
        generator, discriminator = training.build_networks(c, examples)
        assert generator.sample_shape == shape
        if generator.reconstructs:  # an autoencoder (vqgan) takes images; its patch D gives a logit per patch
            logits = discriminator(generator(np.zeros((2, *shape), "float32")))
            assert logits.shape[0] == 2 and logits.shape[-1] == 1 and logits.shape.rank == 4
        else:
            assert discriminator(generator(np.zeros((2, c.model.latent_dim), "float32"))).shape == (2, 1)


def test_g_filters_and_g_base_kernel_shape_g_alone_and_d_dropout_reaches_d(tmp_path):
    from tfgan import config, data, training

    np.savez(tmp_path / "x.npz", x=np.zeros((8, 28, 28, 1), np.uint8))
    c = config.from_dict({"data": {"source": "npz", "path": str(tmp_path / "x.npz")},
                          "model": {"network": "dcgan", "dcgan": {"filters": 8, "g_filters": 32, "d_dropout": 0.25}}})
    generator, discriminator = training.build_networks(c, data.load(c.data, False, 0))
    assert generator.base_shape == (7, 7, 64) and generator.up[0][0].filters == 32  # 7x7x64 -> 14x14x32 -> 28x28
    assert [conv.filters for conv, _ in discriminator.down] == [8, 16]
    assert discriminator.dropout == 0.25 and discriminator.stochastic
    deeper = config.from_dict({"data": {"source": "npz", "path": str(tmp_path / "x.npz")},
                               "model": {"network": "dcgan", "dcgan": {"filters": 8, "g_base_kernel": 5}}})
    generator = training.build_networks(deeper, data.load(deeper.data, False, 0))[0]
    base = generator.up[0][0]  # 7x7x16 -> 7x7x16 (5x5, stride 1) -> 14x14x8 -> 28x28
    assert (base.filters, base.kernel_size, base.strides) == (16, (5, 5), (1, 1)) and len(generator.up) == 2
    assert generator(np.zeros((2, 100), np.float32)).shape == (2, 28, 28, 1)
    assert DCGANGenerator.from_config(generator.get_config()).base_kernel == 5
    mlp = config.from_dict({"data": {"source": "npz", "path": str(tmp_path / "x.npz")},
                            "model": {"network": "mlp", "mlp": {"g_hidden": [8], "d_hidden": [8], "d_dropout": 0.5}}})
    assert training.build_networks(mlp, data.load(mlp.data, False, 0))[1].stochastic  # model.mlp.d_dropout too


@pytest.mark.parametrize(
    "discriminator, shape",
    [(lambda: MLPDiscriminator((2,), hidden_units=(64, 64), spectral_norm=True), (2,)),
     (lambda: DCGANDiscriminator((28, 28, 1), filters=8, spectral_norm=True, norm="none"), (28, 28, 1))],
    ids=["mlp", "dcgan"],
)
def test_spectral_norm_keeps_every_layer_at_unit_largest_singular_value(discriminator, shape):
    from tfgan.networks.base import seeded_weights

    with seeded_weights(0):  # fixed weights: how fast power iteration converges depends on them
        discriminator = discriminator()
    x = np.random.default_rng(0).normal(size=(16, *shape)).astype("float32")
    for _ in range(100):  # each training call is one power iteration
        discriminator(x, training=True)
    wrapped = [layer for layer in discriminator._flatten_layers() if isinstance(layer, keras.layers.SpectralNormalization)]
    assert len(wrapped) == 3  # MLP: two hidden layers and the logit; DCGAN at 28x28: two convs and the logit
    for layer in wrapped:
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        sigma = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
        assert sigma == pytest.approx(1.0, abs=0.02), layer.name


def test_dcgan_discriminator_norm_choices_build_the_layers_they_name():
    kinds = {
        norm: {type(layer).__name__ for layer in DCGANDiscriminator((28, 28, 1), filters=8, norm=norm)._flatten_layers()}
        for norm in ("batch", "layer", "none")
    }
    assert "BatchNormalization" in kinds["batch"] and "LayerNormalization" in kinds["layer"]
    assert not {"BatchNormalization", "LayerNormalization"} & kinds["none"]
    with pytest.raises(ValueError, match="norm"):
        DCGANDiscriminator((28, 28, 1), norm="group")


def test_stateless_dropout_drops_the_rate_keeps_the_mean_and_repeats_for_a_seed():
    from tfgan.networks.base import stateless_dropout

    x = tf.ones([64, 32, 32, 4])
    seed = tf.constant([3, 7], tf.int64)
    out = stateless_dropout(x, 0.3, seed).numpy()
    rate = 77 / 256  # 0.3, rounded to the 1/256 steps of a random byte
    # 262,144 Bernoulli(77/256) draws: the share dropped within 5 standard deviations (0.0045).
    assert abs((out == 0).mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / out.size)
    assert set(np.unique(out)) == {0.0, np.float32(1 / (1 - rate))}
    assert abs(out.mean() - 1.0) < 0.01  # kept units are scaled by 1 / (1 - rate)
    odd = stateless_dropout(tf.ones([3, 5, 7, 1]), 0.5, seed).numpy()  # 105 units: not a multiple of 4 bytes
    assert odd.shape == (3, 5, 7, 1) and 0 < (odd == 0).sum() < 105
    np.testing.assert_array_equal(stateless_dropout(x, 0.3, seed).numpy(), out)
    assert not np.array_equal(stateless_dropout(x, 0.3, seed + 1).numpy(), out)


@pytest.mark.parametrize(
    "make",
    [lambda **kw: DCGANDiscriminator((28, 28, 1), filters=8, norm="none", **kw),
     lambda **kw: MLPDiscriminator((28, 28, 1), hidden_units=(32, 16), **kw)],
    ids=["dcgan", "mlp"],
)
def test_discriminator_drops_out_only_in_training_with_a_seed(make):
    x = tf.random.stateless_normal([8, 28, 28, 1], seed=[0, 1])
    d = make(dropout=0.5)
    assert d.stochastic and not make().stochastic
    assert type(d).from_config(d.get_config()).dropout == 0.5
    seed = tf.constant([1, 2], tf.int64)
    plain = d(x, training=False).numpy()
    np.testing.assert_array_equal(d(x, training=True).numpy(), plain)  # no seed: nothing to draw from
    dropped = d(x, training=True, seed=seed).numpy()
    assert not np.allclose(dropped, plain)
    np.testing.assert_array_equal(d(x, training=True, seed=seed).numpy(), dropped)


def test_packing_passes_the_seed_to_dropout_inside():
    x = tf.random.stateless_normal([8, 28, 28, 1], seed=[0, 1])
    seed = tf.constant([1, 2], tf.int64)
    packed = PackedDiscriminator(DCGANDiscriminator((28, 28, 2), filters=8, norm="none", dropout=0.5), pack=2)
    assert packed.stochastic
    assert not np.allclose(packed(x, training=True, seed=seed).numpy(), packed(x, training=False).numpy())
