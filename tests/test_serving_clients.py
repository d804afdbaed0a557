"""The example clients in examples/serving/, against a stand-in for TF Serving's
REST API (TF Serving itself cannot run in CI; see tfgan/serve.py)."""

import importlib.util
import os
import sys

import numpy as np
import pytest
from PIL import Image

from tfgan.serve import RestServer

from tfgan import latent

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples", "serving")
sys.path.insert(0, EXAMPLES)  # as when a client runs as a script: grpc_client imports rest_client


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rest_client = load_example("rest_client")


def keras_pixels(generator, z, labels):
    images = np.asarray(generator(z, labels, training=False))
    return np.clip(np.round((images + 1) * 127.5), 0, 255).astype(np.uint8)


def test_signatures_are_read_from_the_metadata_tf_serving_reports(exported):
    with RestServer("cgan", exported["cgan"]) as server:
        found = rest_client.signatures(rest_client.get_json(f"{server.url}/v1/models/cgan/metadata"))
    assert found["serving_default"]["inputs"] == {"z": ("DT_FLOAT", [-1, 8]), "label": ("DT_INT32", [-1])}
    assert found["serving_default"]["outputs"] == {"images": ("DT_FLOAT", [-1, 28, 28, 1])}
    assert found["generate"]["inputs"] == {"num": ("DT_INT32", []), "seed": ("DT_INT64", []), "label": ("DT_INT32", [-1])}


@pytest.mark.parametrize("form", ["instances", "inputs"])
def test_serving_default_requests_in_both_forms_give_the_keras_images(form, runs, exported, tmp_path):
    generator = runs["cgan"][1]
    with RestServer("cgan", exported["cgan"]) as server:
        rest_client.main(["--model", "cgan", "--host", server.url, "--num", "4", "--seed", "5", "--label", "7",
                          "--signature", "serving_default", "--form", form, "--out", str(tmp_path / "grid.png")])
    (body,) = server.requests
    z = np.random.default_rng(5).standard_normal((4, 8)).astype(np.float32)
    if form == "instances":
        assert len(body["instances"]) == 4
        assert body["instances"][0] == {"z": z[0].tolist(), "label": 7}
    else:
        assert body["inputs"] == {"z": z.tolist(), "label": [7, 7, 7, 7]}
    expected = keras_pixels(generator, z, np.full(4, 7, np.int32))
    grid = np.asarray(Image.open(tmp_path / "grid.png"))
    assert grid.shape == (56, 56)  # 2 x 2 images of 28 x 28
    assert np.abs(grid[:28, 28:].astype(int) - expected[1, ..., 0]).max() <= 1


def test_generate_signature_returns_base64_pngs(runs, exported, tmp_path):
    generator = runs["dcgan"][1]
    with RestServer("dcgan", exported["dcgan"]) as server:
        rest_client.main(["--model", "dcgan", "--host", server.url, "--num", "3", "--seed", "9", "--out", str(tmp_path / "grid.png")])
    assert server.requests == [{"signature_name": "generate", "inputs": {"num": 3, "seed": 9}}]
    z = latent.normal(3, 8, seed=9)  # the signature draws tfgan.latent's z
    grid = np.asarray(Image.open(tmp_path / "grid.png"))
    assert grid.shape == (64, 64, 3)  # 2 x 2 cells of 32 x 32, the last one empty
    assert np.abs(grid[:32, 32:].astype(int) - keras_pixels(generator, z, None)[1]).max() <= 1


def test_grpc_client_gets_raw_pngs_and_float_images(runs, exported, tmp_path):
    import tensorflow as tf

    from tfgan.serve import GrpcServer

    grpc_client = load_example("grpc_client")
    generator = runs["cgan"][1]
    with GrpcServer("cgan", exported["cgan"]) as server:
        for signature in ("generate", "serving_default"):
            grpc_client.main(["--model", "cgan", "--host", server.address, "--num", "4", "--seed", "2", "--label", "6",
                              "--signature", signature, "--out", str(tmp_path / f"{signature}.png")])
    generate, default = server.requests
    assert list(generate.output_filter) == ["images_png_bytes"]
    assert (tf.make_ndarray(generate.inputs["num"]), tf.make_ndarray(generate.inputs["seed"])) == (4, 2)
    assert tf.make_ndarray(default.inputs["z"]).shape == (4, 8)
    labels = np.full(4, 6, np.int32)
    for signature, z in (("generate", latent.normal(4, 8, seed=2)),
                         ("serving_default", np.random.default_rng(2).standard_normal((4, 8)).astype(np.float32))):
        grid = np.asarray(Image.open(tmp_path / f"{signature}.png"))
        assert np.abs(grid[28:, :28].astype(int) - keras_pixels(generator, z, labels)[2, ..., 0]).max() <= 1


@pytest.fixture(scope="module")
def ring_export(tmp_path_factory):
    """A 2D toy model, trained for 10 steps and exported as a SavedModel."""
    from helpers import make_config

    from tfgan import export, training

    root = tmp_path_factory.mktemp("ring")
    training.train(make_config(root, "ring", train__steps=10, log__every=5, log__images_every=5, checkpoint__every=5))
    return export.export_run(str(root / "ring"), "ring", str(root / "saved_models"), ["saved_model"])


def test_a_2d_export_draws_the_training_scatter_and_the_rest_client_saves_its_points(ring_export, tmp_path):
    import json
    import subprocess

    metadata = json.load(open(os.path.join(ring_export, "assets.extra", "tfgan.json")))
    assert "range" not in metadata["signatures"]["serving_default"]["outputs"]["samples"]  # unbounded points
    result = subprocess.run([sys.executable, "-m", "tfgan.generate", "--model", ring_export, "--num", "500", "--out",
                             str(tmp_path / "scatter.png")], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    picture = np.asarray(Image.open(tmp_path / "scatter.png"))
    assert picture.shape == (480, 480, 3)  # the scatter training writes to TensorBoard
    assert ((picture[..., 0] > 200) & (picture[..., 1] < 80)).sum() > 100  # red samples
    assert ((abs(picture.astype(int) - 187).max(axis=-1) < 10)).sum() > 100  # grey real points
    with RestServer("ring", ring_export) as server:
        rest_client.main(["--model", "ring", "--host", server.url, "--num", "5", "--out", str(tmp_path / "p.npz")])
        with pytest.raises(SystemExit) as refused:
            rest_client.main(["--model", "ring", "--host", server.url, "--out", str(tmp_path / "p.png")])
    assert refused.value.code == 2
    assert np.load(tmp_path / "p.npz")["samples"].shape == (5, 2)


def test_grpc_client_asks_for_a_label_in_one_line(exported, tmp_path, capsys):
    from tfgan.serve import GrpcServer

    grpc_client = load_example("grpc_client")
    with GrpcServer("cgan", exported["cgan"]) as server:
        with pytest.raises(SystemExit) as refused:
            grpc_client.main(["--model", "cgan", "--host", server.address, "--out", str(tmp_path / "g.png")])
        assert refused.value.code == 2
        assert capsys.readouterr().err == "grpc_client: error: cgan is a conditional model; pass --label K (the class to draw)\n"
        with pytest.raises(SystemExit):
            grpc_client.main(["--model", "nope", "--host", server.address, "--label", "1", "--out", str(tmp_path / "g.png")])
    assert capsys.readouterr().err.startswith(f"grpc_client: error: {server.address} answered ")


def test_the_stand_in_server_runs_from_the_command_line(exported, tmp_path):
    import socket
    import subprocess
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model_dir = os.path.dirname(exported["dcgan"])  # saved_models/<name>: the highest version is served
    process = subprocess.Popen([sys.executable, "-m", "tfgan.serve", "--model", model_dir, "--name", "dcgan",
                                "--rest-port", str(port), "--grpc-port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                rest_client.main(["--model", "dcgan", "--host", f"http://127.0.0.1:{port}", "--num", "4", "--out", str(tmp_path / "g.png")])
                break
            except OSError:  # not listening yet
                assert process.poll() is None
                time.sleep(0.5)
        assert np.asarray(Image.open(tmp_path / "g.png")).shape == (64, 64, 3)
    finally:
        process.kill()
        process.communicate()
