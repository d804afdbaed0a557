"""DragGAN: motion supervision and point tracking on hand-built features whose answer is
known, the mask, and a session on a tiny StyleGAN2."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tfgan.drag import motion
from tfgan.drag.session import DragSession

SIDE = 16


class Blobs:
    """A hand-built "generator": W+ is one entry of (a, b); the image and its only feature
    map hold a Gaussian blob A at x = a and a blob B at x = a + 8 + b, both on row 4 and 11
    of a 16 px image. Dragging A right is done by raising a, which carries B along unless
    b moves back: what a mask that holds B's region has to achieve."""

    num_ws, w_dim, sample_shape = 1, 2, (SIDE, SIDE, 1)

    def synthesis(self, ws, training=None, noise="const", features=False):
        a, b = ws[0, 0, 0], ws[0, 0, 1]
        image = blob(a, 4.0) + blob(a + 8.0 + b, 11.0)
        image = image[None, :, :, None]
        return (image, [image]) if features else image


def blob(x, y, sigma=1.5):
    grid = tf.range(SIDE, dtype=tf.float32)
    return tf.exp(-((grid[None, :] - x) ** 2 + (grid[:, None] - y) ** 2) / (2 * sigma**2))


def b_centre(session):
    a, b = session.ws.numpy()[0, 0]
    return a + 8.0 + b


def test_bilinear_sampling_matches_a_hand_computation_and_clamps_at_the_edges():
    features = tf.reshape(tf.range(4 * 5 * 2, dtype=tf.float32), [4, 5, 2])  # value = 10 y + 2 x + c
    points = tf.constant([[1.25, 2.5], [0.0, 0.0], [-3.0, 9.0]])
    expected = [[10 * 2.5 + 2 * 1.25, 10 * 2.5 + 2 * 1.25 + 1], [0, 1], [30, 31]]
    np.testing.assert_allclose(motion.sample(features, points), expected, atol=1e-5)


def test_tracking_finds_a_feature_shifted_within_its_search_square():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((SIDE, SIDE, 8)).astype(np.float32)
    handles = np.array([[5.0, 6.0], [10.0, 3.0]], np.float32)
    references = motion.sample(tf.constant(features), tf.constant(handles))
    shifted = np.roll(features, shift=(2, -1), axis=(0, 1))  # content moved 1 px left, 2 px down
    found = motion.track(tf.constant(shifted), references, tf.constant(handles), tf.constant(motion.square(2)))
    np.testing.assert_array_equal(found, handles + [[-1, 2], [-1, 2]])
    # Beyond the square it cannot follow: a 3 px move is not found with radius 2.
    moved = np.roll(features, shift=3, axis=1)
    found = motion.track(tf.constant(moved), references, tf.constant(handles), tf.constant(motion.square(2)))
    assert not np.array_equal(found, handles + [[3, 0], [3, 0]])


def test_motion_supervision_pulls_the_blob_toward_the_target_and_drags_it_there():
    session = DragSession(Blobs(), [[[5.0, 0.0]]], handles=[[5, 4]], targets=[[9, 4]], layers=1, learning_rate=0.1, r1=2, r2=2,
                          stop_distance=0.5)
    _, _, gradient = session._step(tf.constant(session.handles), tf.constant(session.targets))
    assert gradient.numpy()[0, 0, 0] < 0  # descent raises a: A moves right, toward the target
    result = session.run(max_steps=200)
    assert result.done and result.steps < 200
    np.testing.assert_array_equal(result.handles, [[9, 4]])
    assert abs(session.ws.numpy()[0, 0, 0] - 9.0) <= 0.6  # the blob itself is there, not just the tracked point
    assert int(np.argmax(result.image[4, :, 0])) == 9  # and the image shows it


def test_a_mask_holds_the_region_outside_it_and_without_one_that_region_moves():
    movable = np.zeros((SIDE, SIDE), np.float32)
    movable[:8] = 1.0  # A's half may change; B's (rows 8-15) is held
    drags = {}
    for name, mask in (("masked", movable), ("free", None)):
        session = DragSession(Blobs(), [[[4.0, 0.0]]], handles=[[4, 4]], targets=[[8, 4]], mask=mask, layers=1, learning_rate=0.1, r1=2, r2=2)
        start = b_centre(session)
        result = session.run(max_steps=200)
        assert result.done, name
        drags[name] = b_centre(session) - start
    assert abs(drags["masked"]) <= 0.5
    assert drags["free"] > 2.0  # the test's premise: unheld, B rides along with A


def test_points_off_the_image_and_a_mask_of_another_size_are_refused():
    with pytest.raises(ValueError, match=r"handle \(16, 4\) is outside the 16x16 image"):
        DragSession(Blobs(), [[[5.0, 0.0]]], handles=[[16, 4]], targets=[[9, 4]], layers=1)
    with pytest.raises(ValueError, match=r"target \(9, -1\) is outside"):
        DragSession(Blobs(), [[[5.0, 0.0]]], handles=[[5, 4]], targets=[[9, -1]], layers=1)
    with pytest.raises(ValueError, match=r"the mask is \(8, 8\); expected the image's size, \(16, 16\)"):
        DragSession(Blobs(), [[[5.0, 0.0]]], handles=[[5, 4]], targets=[[9, 4]], mask=np.ones((8, 8)), layers=1)


def test_a_session_on_a_tiny_stylegan2_moves_only_the_first_layers_and_reports_d():
    from test_stylegan2 import tiny_generator

    from tfgan.networks import stylegan2

    generator = tiny_generator()
    discriminator = stylegan2.StyleGAN2Discriminator((16, 16, 3), channel_base=64, channel_max=8, name="discriminator")
    ws = generator.broadcast(generator.mapping(tf.random.stateless_normal([1, 8], seed=[1, 2]))).numpy()
    session = DragSession(generator, ws, handles=[[4, 4]], targets=[[12, 12]], discriminator=discriminator, layers=2, learning_rate=0.05)
    assert (session.feature_block, session.stop_distance) == (1, 1.0)  # 8x8 of a 16 px G; 1 px
    first = session.step()
    assert first.image.shape == (16, 16, 3) and first.steps == 1 and not first.done
    np.testing.assert_array_equal(first.handles, [[4, 4]])  # nothing has moved yet
    assert np.isfinite(first.score)
    last = session.run(max_steps=5)
    assert last.steps == 5 and not np.allclose(last.image, first.image)
    moved = session.ws.numpy()
    assert np.abs(moved[:, :2] - ws[:, :2]).max() > 0  # the first 2 entries were optimized...
    np.testing.assert_array_equal(moved[:, 2:], ws[:, 2:])  # ...the rest kept


# --- python -m tfgan.drag, on a trained run ---


def test_the_run_s_discriminator_loads_as_it_was_trained(stylegan2_run):
    from tfgan.export import run

    generator, _, _ = run.load_generator(stylegan2_run["run_dir"])
    discriminator = run.load_discriminator(stylegan2_run["run_dir"], generator)
    images = tf.random.stateless_uniform([4, 16, 16, 3], seed=[3, 1], minval=-1, maxval=1)
    np.testing.assert_allclose(discriminator(images, training=False), stylegan2_run["gan"].discriminator(images, training=False), atol=1e-5)


def test_a_checkpoint_without_the_discriminator_is_a_user_error(stylegan2_run, tmp_path):
    from tfgan.callbacks.checkpoint import network_weights
    from tfgan.errors import UserError
    from tfgan.export import run

    generator, _, _ = run.load_generator(stylegan2_run["run_dir"])
    only_g = tf.train.Checkpoint(generator=network_weights(generator)).write(str(tmp_path / "only_g"))
    with pytest.raises(UserError, match="does not hold this run's discriminator"):
        run.load_discriminator(stylegan2_run["run_dir"], generator, checkpoint=only_g)


def test_drag_cli_writes_the_image_its_latent_and_the_result_and_generate_renders_the_latent(stylegan2_run, tmp_path):
    from PIL import Image

    from test_export import cli
    from tfgan import generate

    out, report = tmp_path / "edited.png", tmp_path / "result.json"
    run_dir = stylegan2_run["run_dir"]
    result = cli("tfgan.drag", "--run", run_dir, "--seed", "3", "--points", "4,5:9,5", "--points", "12,12:10,9", "--steps", "6",
                 "--out", str(out), "--json", str(report))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tfgan.drag: 6 steps" in result.stdout and result.stderr.strip() == ""
    import json

    written = json.loads(report.read_text())
    assert written["handles_start"] == [[4, 5], [12, 12]] and written["targets"] == [[9, 5], [10, 9]]
    assert written["steps"] == 6 and written["seconds"] > 0 and written["start"] == {"seed": 3, "psi": 0.7}
    assert isinstance(written["d_score_before"], float) and isinstance(written["d_score_after"], float)
    assert written["latent"] == str(tmp_path / "edited.npz")
    edited = np.asarray(Image.open(out))
    assert edited.shape == (16, 16, 3)
    # The export renders the latent to the same picture, in either runtime.
    for model in (stylegan2_run["export"], os.path.join(stylegan2_run["export"], "model.onnx")):
        rendered = tmp_path / f"rendered{len(model)}.png"
        assert generate.main(["--model", model, "--latent", written["latent"], "--out", str(rendered)]) == 0
        assert np.abs(np.asarray(Image.open(rendered)).astype(int) - edited).max() <= 1
    # The latent starts a new drag where the last one ended: 0 steps draw the same image.
    again = tmp_path / "again.png"
    result = cli("tfgan.drag", "--run", run_dir, "--latent", written["latent"], "--points", "4,5:9,5", "--steps", "0", "--out", str(again))
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_array_equal(np.asarray(Image.open(again)), edited)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--points", "4,5:20,5"], "--points: target (20, 5) is outside the 16x16 image; expected x and y in [0, 15]"),
        (["--points", "4,5:9"], "--points 4,5:9: expected a handle and its target as x,y:x,y pixels, like 10,12:16,12"),
        (["--points", "4,5,6:9,5"], "--points 4,5,6:9,5: expected a handle and its target"),
        (["--mask", "{mask8}"], "is 8x8; expected the image's size, 16x16"),
        (["--mask", "{notimage}"], "is not a readable image"),
        (["--run", "{mlp}"], "is not a stylegan2 run"),
        (["--label", "1"], "--label was given, but this run is not conditional"),
        (["--out", "{tmp}/edited.jpg"], "--out {tmp}/edited.jpg: expected a .png"),
        (["--latent", "{notimage}", "--seed", None], "is not a latent file"),
    ],
)
def test_drag_mistakes_exit_2_with_one_line_and_write_nothing(args, message, stylegan2_run, runs, tmp_path, capsys):
    from PIL import Image

    from tfgan.drag import cli

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(inputs / "mask8.png")
    (inputs / "notimage.png").write_text("not an image")
    values = {"mask8": inputs / "mask8.png", "notimage": inputs / "notimage.png", "mlp": runs["mlp"][0], "tmp": tmp_path}
    base = {"--run": stylegan2_run["run_dir"], "--seed": "3", "--points": "4,5:9,5", "--out": str(tmp_path / "edited.png")}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = None if value is None else value.format(**values)
    argv = [part for flag, value in base.items() if value is not None for part in (flag, value)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message.format(**values) in err and len(err.strip().splitlines()) == 1, err
    assert sorted(os.listdir(tmp_path)) == ["inputs"]
