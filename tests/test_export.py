"""Exports, checked with the tools that read them: a TensorFlow-only process,
saved_model_cli, onnxruntime and the CLIs' exit codes."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from tfgan import export, latent
from tfgan.errors import UserError

from helpers import RUNS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")

def inputs(generator, num, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((num, generator.latent_dim)).astype(np.float32)
    labels = (np.arange(num) % generator.num_classes).astype(np.int32) if generator.num_classes else None
    return z, labels


def keras_images(generator, z, labels):
    return np.asarray(generator(z, labels, training=False))


# --- The TF Serving layout ---


def test_versions_increment_and_are_never_overwritten_without_force(runs, tmp_path):
    run_dir, _ = runs["mlp"]
    base = str(tmp_path)
    first = export.export_run(run_dir, "mnist", base, "saved_model")
    second = export.export_run(run_dir, "mnist", base, "saved_model")
    assert (first, second) == (os.path.join(base, "mnist", "1"), os.path.join(base, "mnist", "2"))
    stamp = os.path.getmtime(os.path.join(first, "saved_model.pb"))
    with pytest.raises(UserError, match=r"mnist/1 exists; pass --force to overwrite it"):
        export.export_run(run_dir, "mnist", base, "saved_model", version=1)
    assert os.path.getmtime(os.path.join(first, "saved_model.pb")) == stamp
    export.export_run(run_dir, "mnist", base, "saved_model,onnx", version=1, force=True)
    assert os.path.exists(os.path.join(first, "model.onnx"))
    # Only version directories remain: no staging left behind for TF Serving to trip on.
    assert sorted(os.listdir(os.path.join(base, "mnist"))) == ["1", "2"]


def test_a_failed_export_leaves_no_version_behind(runs, tmp_path, monkeypatch):
    from tfgan.export import onnx

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(onnx, "write", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        export.export_run(runs["mlp"][0], "mnist", str(tmp_path))
    assert os.listdir(os.path.join(tmp_path, "mnist")) == []


def test_a_run_that_kept_an_ema_of_g_exports_the_average(tmp_path):
    import tensorflow as tf

    from tfgan import config as config_lib
    from tfgan import training

    config = config_lib.from_dict({
        "name": "ema", "run_dir": str(tmp_path / "run"), "data": {"source": "ring", "num_examples": 512},
        "model": {"latent_dim": 4, "g_hidden": [16], "d_hidden": [16]},
        "train": {"steps": 10, "batch_size": 32, "ema_decay": 0.5},
        "log": {"every": 5, "images_every": 10, "verbose": 0}, "checkpoint": {"every": 10},
    })
    gan = training.train(config)
    path = export.export_run(config.run_dir, base_dir=str(tmp_path / "out"), formats="saved_model")
    assert json.load(open(os.path.join(path, "assets.extra", "tfgan.json")))["weights"] == "ema_generator"
    z = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    samples = tf.saved_model.load(path).signatures["serving_default"](z=tf.constant(z))["samples"].numpy()
    np.testing.assert_allclose(samples, gan.sampler(z, training=False), atol=1e-6)
    assert not np.allclose(samples, gan.generator(z, training=False), atol=1e-4)


# --- SavedModel, read by TensorFlow's own tools ---


FRESH_PROCESS = """
import json, sys
import numpy as np
import tensorflow as tf
path, feeds_path, out_path = sys.argv[1:]
feeds = dict(np.load(feeds_path))
function = tf.saved_model.load(path).signatures["serving_default"]
outputs = function(**{k: tf.constant(v) for k, v in feeds.items()})
np.save(out_path, outputs["images"].numpy())
assert not any(m.split(".")[0] == "tfgan" for m in sys.modules), "tfgan was imported"
"""


@pytest.mark.parametrize("kind", list(RUNS))
def test_saved_model_in_a_process_without_tfgan_matches_keras(kind, runs, exported, tmp_path):
    generator = runs[kind][1]
    z, labels = inputs(generator, 5)
    feeds = {"z": z, **({"label": labels} if labels is not None else {})}
    np.savez(tmp_path / "feeds.npz", **feeds)
    script = tmp_path / "load.py"
    script.write_text(FRESH_PROCESS)
    subprocess.run(
        [sys.executable, str(script), exported[kind], str(tmp_path / "feeds.npz"), str(tmp_path / "out.npy")],
        check=True, cwd=tmp_path, capture_output=True,
    )
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), keras_images(generator, z, labels), atol=1e-5)


def test_saved_model_cli_shows_the_documented_signatures(exported):
    shown = subprocess.run([SAVED_MODEL_CLI, "show", "--dir", exported["cgan"], "--all"], capture_output=True, text=True, check=True).stdout
    default = shown[shown.index("signature_def['serving_default']"):]
    generate = shown[shown.index("signature_def['generate']"):shown.index("signature_def['serving_default']")]
    for text in ("inputs['z']", "DT_FLOAT", "shape: (-1, 8)", "inputs['label']", "DT_INT32", "outputs['images']", "shape: (-1, 28, 28, 1)"):
        assert text in default
    for text in ("inputs['num']", "inputs['seed']", "DT_INT64", "outputs['images_uint8']", "DT_UINT8", "outputs['images_png_bytes']", "DT_STRING"):
        assert text in generate


def test_saved_model_cli_runs_the_export_and_rejects_a_wrong_shape(runs, exported, tmp_path):
    generator = runs["cgan"][1]
    z, labels = inputs(generator, 3)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "label.npy", labels)
    run = [SAVED_MODEL_CLI, "run", "--dir", exported["cgan"], "--tag_set", "serve", "--signature_def", "serving_default", "--outdir", str(tmp_path / "out")]
    subprocess.run(run + ["--inputs", f"z={tmp_path / 'z.npy'};label={tmp_path / 'label.npy'}"], check=True, capture_output=True)
    np.testing.assert_allclose(np.load(tmp_path / "out" / "images.npy"), keras_images(generator, z, labels), atol=1e-5)
    # z where labels belong: refused at the input, naming the tensor and the shape it takes.
    wrong = subprocess.run(run + ["--overwrite", "--inputs", f"z={tmp_path / 'label.npy'};label={tmp_path / 'label.npy'}"], capture_output=True, text=True)
    assert wrong.returncode != 0
    assert "Cannot feed value of shape (3,) for Tensor serving_default_z:0, which has shape (None, 8)" in wrong.stderr


def test_out_of_range_labels_and_bad_dtypes_are_rejected_clearly(runs, exported):
    import tensorflow as tf

    function = tf.saved_model.load(exported["cgan"]).signatures["serving_default"]
    z = tf.zeros([2, 8])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"label must be a class in \[0, 10\)"):
        function(z=z, label=tf.constant([1, 10]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a int32 tensor but is a float tensor"):
        function(z=z, label=tf.constant([1.0, 2.0]))


def test_generate_signature_draws_z_like_gan_generate_and_encodes_pngs(runs, exported):
    import tensorflow as tf

    generator = runs["cgan"][1]
    function = tf.saved_model.load(exported["cgan"]).signatures["generate"]
    labels = np.array([3, 1, 4, 1], np.int32)
    out = function(num=tf.constant(4), seed=tf.constant(7, tf.int64), label=tf.constant(labels))
    z = latent.normal(4, generator.latent_dim, seed=7)  # as GAN.generate draws it
    expected = np.clip(np.round((keras_images(generator, z, labels) + 1) * 127.5), 0, 255).astype(np.uint8)
    pixels = out["images_uint8"].numpy()
    assert pixels.dtype == np.uint8 and pixels.shape == (4, 28, 28, 1)
    assert np.abs(pixels.astype(int) - expected).max() <= 1
    decoded = np.stack([tf.io.decode_png(png).numpy() for png in out["images_png_bytes"].numpy()])
    np.testing.assert_array_equal(decoded, pixels)
    with pytest.raises(tf.errors.InvalidArgumentError, match="label must hold one class per image"):
        function(num=tf.constant(3), seed=tf.constant(7, tf.int64), label=tf.constant(labels))


def test_metadata_travels_with_both_formats(runs, exported):
    import onnx

    run_dir = runs["cgan"][0]
    extra = os.path.join(exported["cgan"], "assets.extra")
    metadata = json.load(open(os.path.join(extra, "tfgan.json")))
    assert metadata["tfgan_version"] == __import__("tfgan").__version__
    assert (metadata["step"], metadata["weights"]) == (10, "generator")
    assert metadata["signatures"]["serving_default"]["inputs"]["label"] == {"dtype": "int32", "shape": [None], "classes": 10}
    config = open(os.path.join(extra, "config.yaml")).read()
    assert config == open(os.path.join(run_dir, "config.yaml")).read()
    assert yaml.safe_load(config)["model"]["conditional"] is True
    props = {p.key: p.value for p in onnx.load(os.path.join(exported["cgan"], "model.onnx")).metadata_props}
    assert props["config"] == config and json.loads(props["step"]) == 10
    assert json.loads(props["signatures"]) == {"serving_default": metadata["signatures"]["serving_default"]}


# --- ONNX, read by onnxruntime ---


@pytest.mark.parametrize("kind", list(RUNS))
def test_onnx_matches_keras_within_1e_4_on_64_samples_with_a_dynamic_batch(kind, runs, exported):
    import onnxruntime

    generator = runs[kind][1]
    session = onnxruntime.InferenceSession(os.path.join(exported[kind], "model.onnx"), providers=["CPUExecutionProvider"])
    for num in (64, 1):
        z, labels = inputs(generator, num, seed=num)
        feeds = {"z": z, **({"label": labels} if labels is not None else {})}
        (images,) = session.run(["images"], feeds)
        assert np.abs(images - keras_images(generator, z, labels)).max() <= 1e-4


def test_onnx_opset_is_configurable(runs, tmp_path):
    import onnx

    path = export.export_run(runs["mlp"][0], "mnist", str(tmp_path), "onnx", opset=13)
    model = onnx.load(os.path.join(path, "model.onnx"))
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [13]
    assert not os.path.exists(os.path.join(path, "saved_model.pb"))


# --- The command lines ---


def cli(module, *args):
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--run", "/nowhere/run"], "run directory not found: /nowhere/run"),
        (["--run", "{empty}"], "is not a tfgan run directory (no generator.json)"),
        (["--run", "{mlp}", "--format", "tflite"], "unknown export format tflite; expected one or more of: saved_model, onnx"),
        (["--run", "{mlp}", "--name", "a/b"], "export name 'a/b' must be a plain directory name"),
    ],
)
def test_export_cli_mistakes_exit_2_with_one_line_and_write_nothing(args, message, runs, tmp_path):
    (tmp_path / "empty").mkdir()
    args = [a.format(empty=tmp_path / "empty", mlp=runs["mlp"][0]) for a in args]
    result = cli("tfgan.export", *args, "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "tfgan.export: error: " in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_export_cli_refuses_a_run_without_checkpoint(runs, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "generator.json").write_text(open(os.path.join(runs["mlp"][0], "generator.json")).read())
    result = cli("tfgan.export", "--run", str(run_dir), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "has no checkpoint to export" in result.stderr
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out" / "run") == []


def test_export_cli_in_a_fresh_process_writes_the_next_version(runs, tmp_path):
    out = tmp_path / "out"
    for version in (1, 2):
        result = cli("tfgan.export", "--run", runs["cgan"][0], "--name", "digits", "--format", "saved_model", "--out", str(out))
        assert result.returncode == 0, result.stderr[-2000:]
        assert f"tfgan.export: wrote {out / 'digits' / str(version)}" in result.stdout
    assert sorted(os.listdir(out / "digits")) == ["1", "2"]


def test_export_cli_refuses_a_corrupt_checkpoint_and_leaves_it_alone(runs, tmp_path):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(runs["mlp"][0], run_dir)
    (data,) = [p for p in (run_dir / "checkpoints").iterdir() if p.name.endswith(".data-00000-of-00001")]
    data.write_bytes(data.read_bytes()[:100])
    result = cli("tfgan.export", "--run", str(run_dir), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "does not hold this run's generator" in result.stderr
    assert "Traceback" not in result.stderr and len(data.read_bytes()) == 100


def test_generate_writes_the_same_grid_from_both_formats(exported, tmp_path):
    from PIL import Image

    model = exported["cgan"]
    for name, path in (("sm", model), ("onnx", os.path.join(model, "model.onnx"))):
        result = cli("tfgan.generate", "--model", path, "--num", "20", "--seed", "3", "--out", str(tmp_path / f"{name}.png"))
        assert result.returncode == 0, result.stderr
    grids = [np.asarray(Image.open(tmp_path / f"{name}.png")) for name in ("sm", "onnx")]
    assert grids[0].shape == (10 * 29 - 1, 2 * 29 - 1)  # one row per class, 2 per row, 1px gaps
    assert np.abs(grids[0].astype(int) - grids[1]).max() <= 1


def test_generate_npz_holds_samples_labels_and_z(runs, exported, tmp_path):
    result = cli("tfgan.generate", "--model", os.path.dirname(exported["cgan"]), "--num", "6", "--label", "4", "--out", str(tmp_path / "s.npz"))
    assert result.returncode == 0, result.stderr
    saved = np.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(saved["labels"], [4] * 6)
    expected = keras_images(runs["cgan"][1], saved["z"], saved["labels"].astype(np.int32))
    np.testing.assert_allclose(saved["samples"], expected, atol=1e-5)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "{npz}"], "is not a model: expected a SavedModel directory, an .onnx file"),
        (["--model", "{fake_onnx}"], "is not a readable ONNX model"),
        (["--model", "{cgan}", "--label", "12"], "--label 12 is not a class of this model; expected 0 to 9"),
        (["--model", "{cgan}", "--out", "grid.jpg"], "expected a .png (a grid of images) or a .npz file"),
    ],
)
def test_generate_cli_mistakes_exit_2_with_one_line(args, message, exported, tmp_path):
    (tmp_path / "fake.onnx").write_text("not a model")
    np.savez(tmp_path / "data.npz", x=np.zeros(3))
    args = [a.format(npz=tmp_path / "data.npz", fake_onnx=tmp_path / "fake.onnx", cgan=exported["cgan"]) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "grid.png")]
    result = cli("tfgan.generate", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "grid.png").exists()


ONLY_ONE_RUNTIME = """
import sys
blocked = sys.argv[1].split(",")
for name in blocked:
    sys.modules[name] = None  # importing it now raises ImportError
from tfgan import generate
assert generate.main(sys.argv[2:]) == 0
loaded = {m for m in sys.modules if sys.modules[m] is not None}
assert not loaded & {"keras", "tfgan.training", "tfgan.gan"}, loaded & {"keras", "tfgan.training", "tfgan.gan"}
"""


@pytest.mark.parametrize("path, blocked", [("model.onnx", "tensorflow,keras"), ("", "onnxruntime,keras")])
def test_generate_needs_only_the_runtime_of_its_format(path, blocked, exported, tmp_path):
    script = tmp_path / "only.py"
    script.write_text(ONLY_ONE_RUNTIME)
    model = os.path.join(exported["dcgan"], path) if path else exported["dcgan"]
    result = subprocess.run(
        [sys.executable, str(script), blocked, "--model", model, "--num", "4", "--out", str(tmp_path / "g.png")],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "g.png").exists()


def test_one_seed_gives_the_same_images_from_a_run_a_saved_model_and_an_onnx_file(runs, exported, tmp_path):
    import tensorflow as tf

    from tfgan import GAN
    from tfgan.evaluate import report

    generator = runs["dcgan"][1]
    model = exported["dcgan"]
    from_run = GAN(generator, runs_discriminator(runs, "dcgan")).generate(5, seed=11).numpy()
    from_eval, _ = report.draw(generator, 5, seed=11)
    signature = tf.saved_model.load(model).signatures["generate"]
    from_signature = signature(num=tf.constant(5), seed=tf.constant(11, tf.int64))["images_uint8"].numpy()
    files = {}
    for name, path in (("sm", model), ("onnx", os.path.join(model, "model.onnx"))):
        result = cli("tfgan.generate", "--model", path, "--num", "5", "--seed", "11", "--out", str(tmp_path / f"{name}.npz"))
        assert result.returncode == 0, result.stderr
        files[name] = np.load(tmp_path / f"{name}.npz")
    np.testing.assert_array_equal(files["sm"]["z"], latent.normal(5, 8, seed=11))
    np.testing.assert_array_equal(files["onnx"]["z"], files["sm"]["z"])
    for samples in (from_eval, files["sm"]["samples"], files["onnx"]["samples"]):
        np.testing.assert_allclose(samples, from_run, atol=2e-5)
    pixels = np.clip(np.round((from_run + 1) * 127.5), 0, 255)
    assert np.abs(from_signature.astype(int) - pixels).max() <= 1
    # Another seed gives other images.
    assert not np.allclose(GAN(generator, runs_discriminator(runs, "dcgan")).generate(5, seed=12), from_run, atol=1e-3)


def runs_discriminator(runs, kind):
    """A discriminator for the run's data shape: GAN.generate never calls it."""
    from tfgan.networks import DCGANDiscriminator

    generator = runs[kind][1]
    return DCGANDiscriminator(generator.sample_shape, 8, generator.num_classes)


def test_generate_lays_a_conditional_grid_out_one_row_per_class(exported, tmp_path):
    from PIL import Image

    result = cli("tfgan.generate", "--model", exported["cgan"], "--out", str(tmp_path / "grid.png"), "--num", "64")
    assert result.returncode == 0, result.stderr
    assert "wrote 60 samples (10 classes x 6, one row per class)" in result.stdout  # as the training grid rounds
    assert np.asarray(Image.open(tmp_path / "grid.png")).shape == (10 * 29 - 1, 6 * 29 - 1)
    cli("tfgan.generate", "--model", exported["cgan"], "--out", str(tmp_path / "s.npz"), "--num", "25")
    np.testing.assert_array_equal(np.load(tmp_path / "s.npz")["labels"], np.repeat(np.arange(10), 2))


def nan_saved_model(runs, path):
    """A SavedModel of the mlp run's generator with NaN weights, written past export's check."""
    import json

    import keras

    from tfgan.export import saved_model, signatures

    with open(os.path.join(runs["mlp"][0], "generator.json")) as f:
        generator = keras.saving.deserialize_keras_object(json.load(f))
    for weight in generator.weights:
        weight.assign(np.full(weight.shape, np.nan, weight.dtype))
    os.makedirs(path)
    saved_model.write(generator, str(path), {"signatures": signatures.describe(generator)})
    return generator


def test_non_finite_weights_are_never_exported_and_never_sampled(runs, tmp_path):
    from tfgan.errors import Diverged

    generator = nan_saved_model(runs, tmp_path / "nan")
    with pytest.raises(Diverged, match="refusing to export a generator with non-finite weights"):
        export.export(generator, str(tmp_path / "models" / "nan"))
    assert not (tmp_path / "models").exists()  # refused before anything was written
    result = cli("tfgan.generate", "--model", str(tmp_path / "nan"), "--out", str(tmp_path / "g.png"))
    assert result.returncode == 3, result.stderr
    assert "the model's outputs are not finite" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "g.png").exists()


def test_export_cli_refuses_a_checkpoint_with_non_finite_weights(runs, tmp_path):
    import shutil

    import tensorflow as tf

    from tfgan.callbacks.checkpoint import network_weights
    from tfgan.export import run

    run_dir = tmp_path / "run"
    shutil.copytree(runs["mlp"][0], run_dir)
    generator, step, _ = run.load_generator(str(run_dir))
    generator.weights[0].assign(np.full(generator.weights[0].shape, np.nan, np.float32))
    # Written past tfgan's own check, as a checkpoint from elsewhere could be.
    checkpoint = tf.train.Checkpoint(step=tf.Variable(step + 1, dtype=tf.int64), generator=network_weights(generator))
    tf.train.CheckpointManager(checkpoint, str(run_dir / "checkpoints"), max_to_keep=5, checkpoint_name="ckpt").save(step + 1)
    result = cli("tfgan.export", "--run", str(run_dir), "--out", str(tmp_path / "out"))
    assert result.returncode == 3, result.stderr
    assert "refusing to export a generator with non-finite weights" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "out" / "run" / "1").exists()
