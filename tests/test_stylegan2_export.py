"""A StyleGAN2 generator shipped: its halves as SavedModel signatures and ONNX files,
checked against Keras, and tfgan.generate's truncation and style-mixing figure."""

import json
import os
import subprocess

import numpy as np
import pytest
import tensorflow as tf

from test_export import SAVED_MODEL_CLI, cli
from test_stylegan2 import tiny_generator
from tfgan import export, generate, latent, stylemix
from tfgan.networks.base import style_mix

CLASSES = 3


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A conditional tiny StyleGAN2 G, exported in both formats, with a w_avg away from 0 (as training leaves it)."""
    generator = tiny_generator(num_classes=CLASSES)
    generator.w_avg.assign(np.random.default_rng(0).standard_normal(generator.w_dim).astype(np.float32))
    path = export.export(generator, str(tmp_path_factory.mktemp("export") / "sg"))
    return generator, path


def draws(generator, num=6, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((num, generator.latent_dim)).astype(np.float32)
    return z, (np.arange(num) % CLASSES).astype(np.int32)


def mixed_ws(generator, z, labels):
    """W+ that no single w gives: the first 3 entries of one draw, the rest of another."""
    w = generator.mapping(z, labels, training=False).numpy()
    ws = np.repeat(w[:, None], generator.num_ws, axis=1)
    return np.asarray(style_mix(ws, ws[::-1], 3))


def test_saved_model_signatures_match_keras_for_z_psi_and_mixed_ws(model):
    generator, path = model
    loaded = tf.saved_model.load(path).signatures
    z, labels = draws(generator)
    keras_w = generator.mapping(z, labels, training=False).numpy()
    np.testing.assert_allclose(loaded["mapping"](z=z, label=labels)["w"], keras_w, atol=1e-5)
    for psi in (0.0, 0.5, 1.0):
        expected = generator(z, labels, training=False, psi=psi).numpy()
        np.testing.assert_allclose(loaded["truncated"](z=z, psi=tf.constant(psi), label=labels)["images"], expected, atol=1e-5)
    ws = mixed_ws(generator, z, labels)
    expected = generator.synthesis(ws, training=False, noise="const").numpy()
    np.testing.assert_allclose(loaded["synthesis"](ws=ws)["images"], expected, atol=1e-5)
    # ... and serving_default is still G(z, label).
    np.testing.assert_allclose(loaded["serving_default"](z=z, label=labels)["images"], generator(z, labels, training=False), atol=1e-5)


def test_onnx_halves_match_keras_within_1e_4_and_truncate_with_the_class_centres_they_carry(model):
    import onnxruntime

    generator, path = model
    sessions = {name: onnxruntime.InferenceSession(os.path.join(path, f"{name}.onnx"), providers=["CPUExecutionProvider"])
                for name in ("mapping", "synthesis")}
    z, labels = draws(generator, num=16)
    (w,) = sessions["mapping"].run(None, {"z": z, "label": labels})
    np.testing.assert_allclose(w, generator.mapping(z, labels, training=False), atol=1e-4)
    ws = mixed_ws(generator, z, labels)
    (images,) = sessions["synthesis"].run(None, {"ws": ws})
    np.testing.assert_allclose(images, generator.synthesis(ws, training=False, noise="const"), atol=1e-4)
    # A client truncates with the class centres from the file's metadata (w_avg where
    # unconditional): the same images as G(z, label, psi).
    meta = sessions["synthesis"].get_modelmeta().custom_metadata_map
    np.testing.assert_array_equal(np.asarray(json.loads(meta["w_avg"]), np.float32), generator.w_avg.numpy())
    centres = np.asarray(json.loads(meta["class_centres"]), np.float32)
    np.testing.assert_array_equal(centres, generator.class_centres().numpy())
    assert json.loads(meta["num_ws"]) == generator.num_ws
    assert list(json.loads(meta["signatures"])) == ["synthesis"]
    (images,) = sessions["synthesis"].run(None, {"ws": stylemix.truncate(np.repeat(w[:, None], generator.num_ws, 1), centres[labels][:, None], 0.7)})
    np.testing.assert_allclose(images, generator(z, labels, training=False, psi=0.7), atol=1e-4)


def test_saved_model_cli_shows_the_halves_and_tfgan_json_holds_w_avg_and_the_class_centres(model):
    generator, path = model
    shown = subprocess.run([SAVED_MODEL_CLI, "show", "--dir", path, "--all"], capture_output=True, text=True, timeout=120).stdout
    for name in ("serving_default", "generate", "mapping", "synthesis", "truncated"):
        assert f"signature_def['{name}']" in shown
    truncated = shown.split("signature_def['truncated']")[1].split("signature_def[")[0]
    assert "inputs['psi']" in truncated and "inputs['label']" in truncated and "outputs['images']" in truncated
    synthesis = shown.split("signature_def['synthesis']")[1].split("signature_def[")[0]
    assert f"shape: (-1, {generator.num_ws}, {generator.w_dim})" in synthesis
    with open(os.path.join(path, "assets.extra", "tfgan.json")) as f:
        metadata = json.load(f)
    np.testing.assert_array_equal(np.asarray(metadata["w_avg"], np.float32), generator.w_avg.numpy())
    np.testing.assert_array_equal(np.asarray(metadata["class_centres"], np.float32), generator.class_centres().numpy())
    assert set(metadata["signatures"]) == {"serving_default", "generate", "mapping", "synthesis", "truncated"}


# --- tfgan.generate: --psi and --style-mix ---


@pytest.mark.parametrize("fmt", ["saved_model", "onnx"])
def test_the_style_mixing_figure_takes_the_listed_layers_from_the_columns(fmt, model):
    generator, path = model
    exported = generate.load(path if fmt == "saved_model" else os.path.join(path, "model.onnx"))
    rows, cols, layers = [1, 2], [3, 4, 5], [0, 1, 2]
    images = stylemix.mixing_grid(exported, rows, cols, layers, psi=0.8, label=1)
    assert images.shape == (3 * 4, 16, 16, 3)
    np.testing.assert_array_equal(images[0], np.ones((16, 16, 3)))  # the blank corner

    def ws_of(seed):
        z = latent.normal(1, generator.latent_dim, seed)
        w = generator.mapping(z, np.array([1], np.int32), training=False)
        return stylemix.truncate(np.repeat(np.asarray(w)[:, None], generator.num_ws, 1), generator.class_centres().numpy()[1], 0.8)

    def keras(ws):
        return generator.synthesis(np.asarray(ws, np.float32), training=False, noise="const").numpy()[0]

    np.testing.assert_allclose(images[1 + 2], keras(ws_of(5)), atol=1e-4)  # header row: column seed 5 unmixed
    np.testing.assert_allclose(images[4 * 2], keras(ws_of(2)), atol=1e-4)  # header column: row seed 2 unmixed
    # Row seed 2, column seed 4: the first 3 entries (the coarse styles) are 4's, the rest 2's.
    cell = images[4 * 2 + 1 + 1]
    np.testing.assert_allclose(cell, keras(style_mix(ws_of(4), ws_of(2), 3)), atol=1e-4)
    assert np.abs(cell - images[4 * 2]).max() > 1e-3 and np.abs(cell - images[1 + 1]).max() > 1e-3


def test_style_mixing_every_layer_is_the_column_seed_and_mixing_a_seed_with_itself_is_itself(model):
    generator, path = model
    exported = generate.load(path)
    every = list(range(generator.num_ws))
    images = stylemix.mixing_grid(exported, [7, 8], [8, 9], every, label=0).reshape(3, 3, 16, 16, 3)
    np.testing.assert_allclose(images[1:, 1:], np.broadcast_to(images[0, 1:], (2, 2, 16, 16, 3)), atol=1e-5)
    images = stylemix.mixing_grid(exported, [7], [7], [0, 1], label=0)
    np.testing.assert_allclose(images[3], images[2], atol=1e-5)


def test_generate_cli_draws_the_figure_and_psi_0_draws_each_class_centre(model, tmp_path):
    from PIL import Image

    generator, path = model
    out = tmp_path / "mix.png"
    result = cli("tfgan.generate", "--model", os.path.join(path, "model.onnx"), "--style-mix", "1,2", "3-5", "--layers", "0-1",
                 "--label", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "style mixing of 2 x 3 seeds" in result.stdout
    assert np.asarray(Image.open(out)).shape == (3 * 17 - 1, 4 * 17 - 1, 3)
    # psi 0: every sample of class c is synthesis(centre c), whatever its z, in either runtime.
    centres = generator.class_centres().numpy()
    for model_path in (path, os.path.join(path, "model.onnx")):
        out = tmp_path / f"s{len(model_path)}.npz"
        assert generate.main(["--model", model_path, "--psi", "0", "--num", "6", "--out", str(out)]) == 0
        drawn = np.load(out)
        expected = generator.synthesis(np.repeat(centres[drawn["labels"]][:, None], generator.num_ws, 1), training=False, noise="const")
        assert sorted(drawn["labels"]) == [0, 0, 1, 1, 2, 2]
        np.testing.assert_allclose(drawn["samples"], expected, atol=1e-4)
        first, other = drawn["samples"][0], drawn["samples"][list(drawn["labels"]).index(drawn["labels"][0] + 1)]
        assert np.abs(first - other).max() > 1e-2  # two classes, two images


def test_an_export_from_before_class_centres_says_to_export_again(model, tmp_path):
    import shutil

    _, path = model
    old = str(tmp_path / "old")
    shutil.copytree(path, old)
    metadata_path = os.path.join(old, "assets.extra", "tfgan.json")
    with open(metadata_path) as f:
        metadata = json.load(f)
    del metadata["class_centres"]
    with open(metadata_path, "w") as f:
        json.dump(metadata, f)
    result = cli("tfgan.generate", "--model", old, "--psi", "0.7", "--out", str(tmp_path / "s.png"))
    assert result.returncode == 2 and "holds no class centres" in result.stderr and "Traceback" not in result.stderr
    assert not os.path.exists(tmp_path / "s.png")
    # At psi 1 it needs none.
    assert generate.main(["--model", old, "--out", str(tmp_path / "s.png")]) == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--style-mix", "1,2", "3", "--layers", "0-99", "--label", "0"], "--layers 6 is past this model's style layers: it has 6, 0 to 5"),
        (["--style-mix", "1,x", "3", "--label", "0"], "--style-mix seeds '1,x': expected comma-separated numbers or ranges"),
        (["--style-mix", "1", "3", "--layers", "3-1", "--label", "0"], "expected non-negative numbers and ranges low-high"),
        (["--style-mix", "1", "3"], "this model is conditional: pass --label"),
        (["--style-mix", "1", "3", "--label", "0", "--out", "{tmp}/mix.npz"], "--style-mix draws a figure; expected a .png"),
        (["--psi", "0.5", "--model", "{dcgan}"], "--psi needs a StyleGAN2 export"),
    ],
)
def test_generate_style_mistakes_exit_2_with_one_line(args, message, model, runs_exported, tmp_path, capsys):
    args = [a.format(tmp=tmp_path, dcgan=runs_exported) for a in args]
    if "--model" not in args:
        args += ["--model", model[1]]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "mix.png")]
    assert generate.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert os.listdir(tmp_path) == []


@pytest.fixture(scope="module")
def runs_exported(tmp_path_factory):
    """An export without halves: a DCGAN generator."""
    from tfgan.networks.dcgan import DCGANGenerator

    generator = DCGANGenerator((16, 16, 1), latent_dim=4, filters=4, name="generator")
    return export.export(generator, str(tmp_path_factory.mktemp("export") / "dcgan"), formats="saved_model")
