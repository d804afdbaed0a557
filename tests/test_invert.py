"""GAN inversion: the projector recovers a generator's own sample, its schedule and
noise regularizer against hand computations, and python -m tfgan.invert."""

import os

import numpy as np
import pytest
import tensorflow as tf

from test_export import cli
from test_stylegan2 import tiny_generator
from tfgan.drag.session import seed_ws
from tfgan.invert import projector
from tfgan.networks.base import seeded_weights


def test_the_learning_rate_ramps_up_over_5_percent_and_down_by_a_cosine_over_the_last_25():
    assert projector.learning_rate(0.0) == 0.0
    assert projector.learning_rate(0.025) == pytest.approx(0.05)  # halfway up the ramp
    assert projector.learning_rate(0.05) == projector.learning_rate(0.5) == pytest.approx(0.1)
    assert projector.learning_rate(0.875) == pytest.approx(0.05)  # halfway down: cos(pi/2)
    assert projector.learning_rate(1.0) == pytest.approx(0.0)


def test_the_noise_regularizer_is_0_for_white_noise_and_counts_each_scale_of_a_flat_map():
    flat = tf.ones([1, 16, 16, 1])  # at 16 and 8 px, both shifts correlate fully: 4 terms of 1
    assert float(projector.noise_regularization([flat])) == pytest.approx(4.0)
    assert float(projector.noise_regularization([flat, flat[:, :8, :8]])) == pytest.approx(6.0)
    white = tf.random.stateless_normal([1, 64, 64, 1], seed=[1, 1])
    assert float(projector.noise_regularization([white])) < 1e-3


def test_inversion_recovers_the_generator_s_own_sample():
    # Fixed weights: an untrained G has local minima a search from W's centre can fall
    # into (2 of 20 random tiny ones stayed under 30 dB at 300 steps).
    with seeded_weights(0):
        generator = tiny_generator()
    target = generator.synthesis(seed_ws(generator, 5, psi=1.0), noise="const")[0].numpy()
    projection = projector.project(generator, target, steps=300)
    assert projection.psnr >= 30.0
    assert projection.noise is None and projection.ws.shape == (1, generator.num_ws, generator.w_dim)
    # The PSNR is of what the latent draws.
    drawn = generator.synthesis(projection.ws, noise="const")[0].numpy()
    assert projector.psnr(drawn, target) == pytest.approx(projection.psnr, abs=1e-3)
    # Another generator's sample is not recovered as well: the test can fail.
    with seeded_weights(1):
        other = tiny_generator(channel_base=64)
    assert projector.project(other, target, steps=300).psnr < projection.psnr - 5


def test_inversion_with_noise_maps_keeps_them_white_and_the_latent_file_carries_them(stylegan2_run, tmp_path):
    from PIL import Image

    from tfgan import stylemix
    from tfgan.export import run

    generator, _, _ = run.load_generator(stylegan2_run["run_dir"])
    image = (generator.synthesis(seed_ws(generator, 2), noise="const")[0].numpy() + 1) * 127.5
    Image.fromarray(np.round(image).astype(np.uint8)).save(tmp_path / "sample.png")
    out = tmp_path / "latent.npz"
    result = cli("tfgan.invert", "--run", stylegan2_run["run_dir"], "--image", str(tmp_path / "sample.png"), "--out", str(out),
                 "--steps", "100", "--noise")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tfgan.invert: step 100/100, loss" in result.stdout
    psnr = float(result.stdout.split("PSNR ")[1].split(" dB")[0])
    ws, label, noise = stylemix.read_latent(str(out), generator.num_ws, generator.w_dim)
    assert label is None and len(noise) == len(generator.noise_maps())
    for m in noise:
        assert abs(m.mean()) < 1e-4 and m.std() == pytest.approx(1.0, abs=1e-3)
    # tfgan.drag --latent starts from exactly that reconstruction (its own noise maps included).
    drawn = tmp_path / "drawn.png"
    result = cli("tfgan.drag", "--run", stylegan2_run["run_dir"], "--latent", str(out), "--points", "3,3:5,5", "--steps", "0", "--out", str(drawn))
    assert result.returncode == 0, result.stderr[-2000:]
    reconstruction = np.asarray(Image.open(drawn)).astype(np.float32) / 127.5 - 1
    target = np.asarray(Image.open(tmp_path / "sample.png")).astype(np.float32) / 127.5 - 1
    assert projector.psnr(reconstruction, target) == pytest.approx(psnr, abs=0.5)  # uint8 rounding apart


def test_an_image_the_size_of_the_unpadded_data_is_padded_as_training_padded_it(tmp_path):
    from PIL import Image

    from tfgan.invert.cli import read_image

    digit = np.full((28, 28), 200, np.uint8)
    Image.fromarray(digit).save(tmp_path / "digit.png")
    padded = read_image(str(tmp_path / "digit.png"), 32, 1, pad=2)
    assert padded.shape == (32, 32, 1) and padded[:2].max() == 0 and padded[2:30, 2:30].min() == 200
    wide = np.zeros((20, 40, 3), np.uint8)
    wide[:, 10:30] = 255  # the centre square, cropped and resized
    Image.fromarray(wide).save(tmp_path / "wide.png")
    assert read_image(str(tmp_path / "wide.png"), 16, 3).min() >= 250


@pytest.mark.parametrize(
    "args, message",
    [
        (["--image", "{notimage}"], "is not a readable image; expected a PNG or JPEG"),
        (["--run", "{mlp}"], "is not a stylegan2 run"),
        (["--label", "1"], "--label was given, but this run is not conditional"),
        (["--out", "{tmp}/latent.png"], "--out {tmp}/latent.png: expected a .npz"),
        (["--steps", "0"], "--steps must be a positive number, got 0"),
    ],
)
def test_invert_mistakes_exit_2_with_one_line(args, message, stylegan2_run, runs, tmp_path, capsys):
    from PIL import Image

    from tfgan.invert import cli as invert_cli

    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "image.png")
    (tmp_path / "notimage.png").write_text("not an image")
    values = {"notimage": tmp_path / "notimage.png", "mlp": runs["mlp"][0], "tmp": tmp_path}
    base = {"--run": stylegan2_run["run_dir"], "--image": str(tmp_path / "image.png"), "--out": str(tmp_path / "latent.npz")}
    base.update({flag: value.format(**values) for flag, value in zip(args[::2], args[1::2])})
    assert invert_cli.main([part for item in base.items() for part in item]) == 2
    err = capsys.readouterr().err
    assert message.format(**values) in err and len(err.strip().splitlines()) == 1, err
    assert not os.path.exists(tmp_path / "latent.npz")
