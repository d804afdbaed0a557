"""The example clients in examples/serving/, against a stand-in for TF Serving's
REST API (TF Serving itself cannot run in CI; see tests/serving_stub.py)."""

import importlib.util
import os
import sys

import numpy as np
import pytest
from PIL import Image

from serving_stub import ServingStub

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
    with ServingStub("cgan", exported["cgan"]) as server:
        found = rest_client.signatures(rest_client.get_json(f"{server.url}/v1/models/cgan/metadata"))
    assert found["serving_default"]["inputs"] == {"z": ("DT_FLOAT", [-1, 8]), "label": ("DT_INT32", [-1])}
    assert found["serving_default"]["outputs"] == {"images": ("DT_FLOAT", [-1, 28, 28, 1])}
    assert found["generate"]["inputs"] == {"num": ("DT_INT32", []), "seed": ("DT_INT64", []), "label": ("DT_INT32", [-1])}


@pytest.mark.parametrize("form", ["instances", "inputs"])
def test_serving_default_requests_in_both_forms_give_the_keras_images(form, runs, exported, tmp_path):
    generator = runs["cgan"][1]
    with ServingStub("cgan", exported["cgan"]) as server:
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
    import tensorflow as tf

    generator = runs["dcgan"][1]
    with ServingStub("dcgan", exported["dcgan"]) as server:
        rest_client.main(["--model", "dcgan", "--host", server.url, "--num", "3", "--seed", "9", "--out", str(tmp_path / "grid.png")])
    assert server.requests == [{"signature_name": "generate", "inputs": {"num": 3, "seed": 9}}]
    z = latent.normal(3, 8, seed=9)  # the signature draws tfgan.latent's z
    grid = np.asarray(Image.open(tmp_path / "grid.png"))
    assert grid.shape == (64, 64, 3)  # 2 x 2 cells of 32 x 32, the last one empty
    assert np.abs(grid[:32, 32:].astype(int) - keras_pixels(generator, z, None)[1]).max() <= 1


def test_grpc_client_gets_raw_pngs_and_float_images(runs, exported, tmp_path):
    import tensorflow as tf

    from serving_stub import GrpcServingStub

    grpc_client = load_example("grpc_client")
    generator = runs["cgan"][1]
    with GrpcServingStub("cgan", exported["cgan"]) as server:
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
