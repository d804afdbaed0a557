"""VQGAN's stage-1 networks, and one training step of them through tfgan.GAN's shared step."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan import GAN
from tfgan.networks.vqgan import CodebookUpkeep, PatchDiscriminator, VQAutoencoder, VQGANLoss


def tiny_autoencoder(**kwargs):
    keras.utils.set_random_seed(0)
    return VQAutoencoder((16, 16, 1), channels=8, channel_mult=(1, 2), num_res_blocks=1, num_codes=16, code_dim=4, **kwargs)


def test_the_autoencoder_quantizes_a_grid_f_times_smaller_and_decodes_it():
    model = tiny_autoencoder()
    images = tf.random.stateless_uniform([3, 16, 16, 1], seed=[1, 2], minval=-1, maxval=1)
    codes = model.encode(images)
    assert model.factor == 2 and model.grid_shape == (8, 8) and codes.shape == (3, 8, 8) and codes.dtype == tf.int32
    assert 0 <= int(tf.reduce_min(codes)) and int(tf.reduce_max(codes)) < 16
    # The forward pass is the decoding of the codes it chose (the straight-through is exact forward).
    np.testing.assert_allclose(model(images).numpy(), model.decode(codes).numpy(), atol=1e-5)
    assert model.last_layer.shape == (3, 3, 8, 1)


def test_an_image_size_the_factor_does_not_divide_is_refused():
    with pytest.raises(ValueError, match="downsamples by 4; the images are 30x30"):
        VQAutoencoder((30, 30, 1), channel_mult=(1, 2, 2))


def test_the_patch_discriminator_gives_a_logit_per_patch():
    d = PatchDiscriminator((32, 32, 3), filters=8, num_layers=3)
    assert d(tf.zeros([2, 32, 32, 3]), training=False).shape == (2, 4, 4, 1)


def test_a_gan_step_trains_the_autoencoder_its_codebook_and_the_patch_discriminator():
    # D on real against reconstructions (hinge), then the autoencoder on L1 + the weighed
    # adversarial term + the quantizer's terms, which alone reach the codebook (add_loss).
    model = tiny_autoencoder()
    gan = GAN(model, PatchDiscriminator((16, 16, 1), filters=8, num_layers=2), hooks=[VQGANLoss()])
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), loss="hinge")
    images = tf.random.stateless_uniform([4, 16, 16, 1], seed=[3, 4], minval=-1, maxval=1)
    codebook = model.quantizer.codebook.numpy()
    d_kernel = gan.discriminator.stack[0].kernel.numpy()
    logs = gan.train_on_batch(images, return_dict=True)
    assert not np.allclose(model.quantizer.codebook.numpy(), codebook)
    assert not np.allclose(gan.discriminator.stack[0].kernel.numpy(), d_kernel)
    assert logs["reconstruction"] > 0 and logs["adversarial_weight"] > 0 and np.isfinite(logs["g_loss"])


def test_the_autoencoder_round_trips_through_its_config():
    model = tiny_autoencoder(beta=0.5, normalize_codes=True)
    copy = VQAutoencoder.from_config(model.get_config())
    assert copy.get_config() == model.get_config() and copy.quantizer.normalize and copy.quantizer.beta == 0.5


# --- A run (`model.network: vqgan`) ---


def vqgan_config(tmp_path, name, **changes):
    """A 16x16 shapes run of a tiny VQGAN, the adversarial term on from step 2."""
    from helpers import make_config

    sections = dict(
        data={"source": "shapes", "resolution": 16, "num_examples": 64},
        model={"network": "vqgan", "vqgan": {"channels": 8, "channel_mult": [1, 2], "num_codes": 16, "code_dim": 4, "d_filters": 8,
                                             "d_layers": 2, "disc_start": 2}},
        loss={"name": "hinge"},
        train={"steps": 4, "batch_size": 8},
        log={"every": 2, "images_every": 4, "num_images": 16}, checkpoint={"every": 2},
    )
    for section, values in changes.items():
        sections[section] = {**sections.get(section, {}), **values}
    return make_config(tmp_path, name, **sections)


def test_a_vqgan_run_logs_its_terms_and_reconstructions_resumes_exactly_and_exports_its_encoder_and_decoder(tmp_path):
    import os
    import subprocess
    import sys

    import onnxruntime
    from helpers import read_events, scalar
    from PIL import Image

    from tfgan import export, training
    from tfgan.errors import UserError
    from tfgan.generate import SavedModelGenerator

    training.train(vqgan_config(tmp_path, "whole"))
    training.train(vqgan_config(tmp_path, "split", train={"steps": 2}))
    gan = training.train(vqgan_config(tmp_path, "split"), resume=True)
    reader = lambda name: tf.train.load_checkpoint(os.path.join(tmp_path, name, "checkpoints"))  # noqa: E731
    names = [n for n, _ in tf.train.list_variables(os.path.join(tmp_path, "whole", "checkpoints")) if "save_counter" not in n and "CHECKPOINTABLE" not in n]
    assert len(names) > 40  # G's and D's weights (the codebook among them) and both optimizers' slots
    for name in names:
        np.testing.assert_allclose(reader("whole").get_tensor(name), reader("split").get_tensor(name), rtol=1e-5, atol=1e-6, err_msg=name)
    events = read_events(os.path.join(tmp_path, "whole", "tensorboard"))
    assert scalar(events, "reconstruction", 4) > 0
    # The adversarial term is off before disc_start (the epoch of steps 0-1 averages 0), on after.
    assert scalar(events, "adversarial_weight", 2) == 0.0 and scalar(events, "adversarial_weight", 4) > 0
    assert events["samples"]["plugin"] == "images"
    grid = np.asarray(Image.open(os.path.join(tmp_path, "whole", "tensorboard", "samples", "step_00000004.png")))
    assert grid.shape[:2] == (4 * 17 - 1, 4 * 17 - 1)  # 8 originals in 2 rows of 4, each row over its reconstructions

    # The export: the SavedModel's reconstruct/encode/decode signatures and ONNX's encoder and decoder
    # agree with the trained autoencoder.
    path = export.export_run(os.path.join(tmp_path, "split"), base_dir=str(tmp_path / "exports"))
    model = gan.generator
    images = tf.random.stateless_uniform([3, *model.sample_shape], seed=[5, 6], minval=-1, maxval=1)
    codes = model.encode(images).numpy()
    shown = subprocess.run([os.path.join(os.path.dirname(sys.executable), "saved_model_cli"), "show", "--dir", path, "--all"],
                           capture_output=True, text=True, check=True).stdout
    for name, text in (("encode", "outputs['codes']"), ("decode", "inputs['codes']"), ("serving_default", "inputs['images']")):
        assert text in shown[shown.index(f"signature_def['{name}']"):]
    functions = tf.saved_model.load(path).signatures
    np.testing.assert_array_equal(functions["encode"](images=images)["codes"].numpy(), codes)
    np.testing.assert_allclose(functions["decode"](codes=codes)["images"].numpy(), model.decode(codes).numpy(), atol=1e-5)
    np.testing.assert_allclose(functions["serving_default"](images=images)["reconstructions"].numpy(), model(images).numpy(), atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"codes must be in \[0, 16\)"):
        functions["decode"](codes=tf.fill([1, 8, 8], 16))
    encoder = onnxruntime.InferenceSession(os.path.join(path, "encoder.onnx"), providers=["CPUExecutionProvider"])
    decoder = onnxruntime.InferenceSession(os.path.join(path, "decoder.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(encoder.run(None, {"images": images.numpy()})[0], codes)
    np.testing.assert_allclose(decoder.run(None, {"codes": codes})[0], model.decode(codes).numpy(), atol=1e-4)
    meta = decoder.get_modelmeta().custom_metadata_map
    assert meta["num_codes"] == "16" and meta["grid_shape"] == "[8, 8]"
    with pytest.raises(UserError, match="exports an autoencoder .* draws no samples"):
        SavedModelGenerator(path)


def test_the_codebook_upkeep_logs_usage_and_perplexity_and_restarts_a_dead_code():
    model = tiny_autoencoder()
    gan = GAN(model, PatchDiscriminator((16, 16, 1), filters=8, num_layers=2), hooks=[VQGANLoss(), CodebookUpkeep(restart_after=1)])
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), loss="hinge")
    images = tf.random.stateless_uniform([4, 16, 16, 1], seed=[3, 4], minval=-1, maxval=1)
    model.quantizer.codebook[0].assign([100.0] * 4)  # far from every encoder output: never chosen, so dead
    # What the G update's batch assigns (D's update leaves the encoder as it is): by hand, before the step.
    vectors = tf.reshape(model._run(model.encoder, images), [-1, 4]).numpy()
    counts = np.bincount(model.encode(images).numpy().ravel(), minlength=16)
    p = counts[counts > 0] / counts.sum()
    logs = gan.train_on_batch(images, return_dict=True)
    assert counts[0] == 0 and logs["codebook_usage"] == pytest.approx((counts > 0).mean())
    assert logs["codebook_perplexity"] == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-5)
    restarted = model.quantizer.codebook.numpy()[0]
    assert np.min(np.abs(vectors - restarted).max(axis=1)) < 1e-5  # one of the batch's encoder outputs


def test_an_ema_codebook_moves_to_the_moving_average_of_the_g_batchs_encoder_outputs():
    model = tiny_autoencoder(ema_decay=0.5)
    gan = GAN(model, PatchDiscriminator((16, 16, 1), filters=8, num_layers=2), hooks=[VQGANLoss(), CodebookUpkeep()])
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), loss="hinge")
    images = tf.random.stateless_uniform([4, 16, 16, 1], seed=[3, 4], minval=-1, maxval=1)
    start = model.quantizer.codebook.numpy()
    vectors = tf.reshape(model._run(model.encoder, images), [-1, 4]).numpy()  # as the G update sees them
    indices = model.encode(images).numpy().ravel()
    counts = np.bincount(indices, minlength=16)
    sums = np.stack([vectors[indices == k].sum(axis=0) for k in range(16)])
    gan.train_on_batch(images)
    size = 0.5 * 1.0 + 0.5 * counts
    smoothed = (size + 1e-5) / (size.sum() + 16e-5) * size.sum()
    np.testing.assert_allclose(model.quantizer.codebook.numpy(), (0.5 * start + 0.5 * sums) / smoothed[:, None], rtol=1e-4, atol=1e-6)
    assert counts.min() == 0 and counts.max() > 1  # some codes unused, some averaged over several vectors


def test_two_replicas_restart_and_average_the_same_codes_as_one(tmp_path):
    # 64 codes for 8 images of an 8x8 grid: many restart every step, from the global batch's
    # encoder outputs, and the EMA codebook averages the global batch's. (The adversarial term stays off: at 2 steps its weight is a ratio of tiny
    # gradients, and Adam's first steps turn their reduction-order noise into +-lr moves of the
    # conv biases that group norm makes gradient-free.)
    from test_distribute import ONE, TWO, assert_same_run

    from tfgan import training

    changes = dict(model={"vqgan": {"channels": 8, "channel_mult": [1, 2], "num_codes": 64, "code_dim": 4, "ema_decay": 0.9, "d_filters": 8,
                                    "d_layers": 2, "adaptive_weight": False, "disc_start": 100, "restart_after": 1}}, train={"steps": 2}, log={"every": 2, "images_every": 2},
                   checkpoint={"every": 2})
    one = vqgan_config(tmp_path, "one", distribute={**ONE, "sync_batch_norm": True}, **changes)
    two = vqgan_config(tmp_path, "two", distribute={**TWO, "sync_batch_norm": True}, **changes)
    training.train(one)
    training.train(two)
    assert_same_run(one, two, tolerance=1e-4)
