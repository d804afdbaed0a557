"""Every user mistake the CLIs know of: one line on stderr, exit 2, no traceback.

One table for all four commands, the cases that once gave a traceback beside
the ones that always worked, so that none comes back.
"""

import gzip
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RING = os.path.join(ROOT, "configs", "ring.yaml")
PGGAN = os.path.join(ROOT, "configs", "pggan_mnist.yaml")
TINY = ["train.steps=10", "train.batch_size=8", "log.every=5", "log.images_every=5", "checkpoint.every=5",
        "train.steps_per_execution=1", "log.verbose=0"]


def _idx(path, array):
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape) + array.tobytes())
    return str(path)


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory, runs, exported):
    """The files each mistake needs, by name."""
    from PIL import Image

    root = tmp_path_factory.mktemp("mistakes")
    (root / "a_file").write_text("not a directory")
    (root / "images" / "0").mkdir(parents=True)
    for i in range(4):
        Image.new("L", (8, 8), 30 * i).save(root / "images" / "0" / f"{i}.png")
    (root / "images" / "0" / "2.png").write_bytes(b"\x89PNG\r\n\x1a\n torn")
    np.save(root / "array.npy", np.zeros((8, 8, 8), np.uint8))
    np.savez(root / "two_d_labels.npz", x=np.zeros((8, 8, 8), np.uint8), y=np.zeros((8, 10)))
    np.savez(root / "few.npz", x=np.zeros((4, 8, 8), np.uint8))
    np.savez(root / "small.npz", x=np.zeros((40, 8, 8), np.uint8))
    (root / "twice.yaml").write_text("name: a\ntrain:\n  steps: 10\n  steps: 20\n")
    corrupt = root / "corrupt_model"
    shutil.copytree(exported["mlp"], corrupt)
    (corrupt / "saved_model.pb").write_bytes(b"\x08\x01garbage")
    (root / "bad.keras").write_text("not a zip archive")
    (root / "out_dir.png").mkdir()
    return {
        "tmp": str(root), "file": str(root / "a_file"), "folder": str(root / "images"), "npy": str(root / "array.npy"),
        "two_d": str(root / "two_d_labels.npz"), "few": str(root / "few.npz"), "small": str(root / "small.npz"), "twice": str(root / "twice.yaml"),
        "idx": _idx(root / "images-idx3-ubyte.gz", np.zeros((8, 8, 8), np.uint8)), "corrupt": str(corrupt),
        "bad_keras": str(root / "bad.keras"), "mlp_model": exported["mlp"], "mlp_run": runs["mlp"][0],
    }


FIT = ["tfgan.fit", "--config", RING, "--set", *TINY]
PG = ["tfgan.fit", "--config", PGGAN, "--set", "log.verbose=0", "data.source=npz", "data.path={small}", "run_dir={tmp}/r7"]
VQ = ["tfgan.fit", "--config", os.path.join(ROOT, "configs", "vqgan_mnist.yaml"), "--set", "log.verbose=0", "run_dir={tmp}/r8"]
VQP = ["tfgan.fit", "--config", os.path.join(ROOT, "configs", "vqgan_prior_mnist.yaml"), "--set", "log.verbose=0", "run_dir={tmp}/r9"]
CASES = {
    # tfgan.fit: the config, before TensorFlow starts
    "unknown key": (FIT + ["train.stpes=5"], "unknown config key train.stpes; expected one of: steps"),
    "missing config": (["tfgan.fit", "--config", "{tmp}/nope.yaml"], "config file not found: {tmp}/nope.yaml"),
    "key twice": (["tfgan.fit", "--config", "{twice}"], "key 'steps' appears twice (lines 3 and 4)"),
    "nan learning rate": (FIT + ["train.d_optimizer.learning_rate=.nan"], "train.d_optimizer.learning_rate: expected a finite number, got nan"),
    "infinite r1": (FIT + ["loss.r1_gamma=.inf"], "loss.r1_gamma: expected a finite number or one of 'auto', got inf"),
    "name ..": (FIT + ["name=.."], "name: expected a plain directory name"),
    "negative seed": (FIT + ["seed=-1"], "seed: expected an integer in [0, 2**32), got -1"),
    "seed too large": (FIT + ["seed=4294967296"], "seed: expected an integer in [0, 2**32), got 4294967296"),
    # tfgan.fit: the run directory and the data paths, before TensorFlow starts
    "run_dir is a file": (FIT + ["run_dir={file}"], "run_dir {file} is a file; expected a directory"),
    "run_dir unwritable": (FIT + ["run_dir=/proc/tfgan-run"], "run_dir /proc/tfgan-run cannot be written"),
    "resume nothing": (FIT + ["run_dir={tmp}/fresh", "--resume"], "nothing to resume: {tmp}/fresh/checkpoints has no checkpoint"),
    "missing data": (FIT + ["data.source=idx", "data.path={tmp}/none.gz", "run_dir={tmp}/r1"], "idx file not found: {tmp}/none.gz (data.path)"),
    # tfgan.fit: the data, once read (TensorFlow has started; nothing is left in run_dir)
    "corrupt png": (FIT + ["data.source=folder", "data.path={folder}", "data.resolution=8", "model.latent_dim=4", "run_dir={tmp}/r2"],
                    "cannot decode image {folder}/0/2.png"),
    "npy as npz": (FIT + ["data.source=npz", "data.path={npy}", "run_dir={tmp}/r3"], "{npy} is a .npy array, not an .npz archive"),
    "2-D labels": (FIT + ["data.source=npz", "data.path={two_d}", "model.conditional=true", "run_dir={tmp}/r4"],
                   "expected labels of shape [N] (one class index per example), got shape (8, 10)"),
    "images as labels": (FIT + ["data.source=idx", "data.path={idx}", "data.labels_path={idx}", "model.conditional=true", "run_dir={tmp}/r5"],
                         "expected labels of shape [N] (one class index per example), got shape (8, 8, 8)"),
    "batch > data": (FIT + ["data.source=npz", "data.path={few}", "run_dir={tmp}/r6"], "the data has 4 examples but one step needs 8"),
    # tfgan.fit: progressive growing's schedule, before TensorFlow starts, and its data after
    "no phases": (PG + ["train.phases=[]"], "train.phases: expected a list of phases with resolutions (4x4 upward) for model.network pggan, got []"),
    "resolution 6": (PG + ["train.phases=[{{resolution: 4, stable_images: 8}}, {{resolution: 6, stable_images: 8}}]"],
                     "train.phases[1].resolution: expected a power of two (4, 8, 16, ...), got 6"),
    "batch vs groups": (PG + ["train.batch_size=6"], "train.batch_size: expected a multiple of model.pggan.mbstd_group (4)"),
    "data < target": (PG, "the data's images are 12x12, smaller than the 32x32 of the last phase (train.phases)"),  # 8x8 padded by 2
    # tfgan.fit: vqgan's stage 1 refuses what is not built for it yet, before TensorFlow starts
    "vqgan eval": (VQ + ["eval.every=5"], "eval.every: expected 0 for model.network vqgan (scoring reconstructions is not built yet), got 5"),
    "vqgan conditional": (VQ + ["model.conditional=true"], "model.conditional: expected false for model.network vqgan"),
    "vqgan perceptual": (VQ + ["model.vqgan.perceptual=lpips"], "model.vqgan.perceptual: expected classifier:PATH, vgg16 or null, got 'lpips'"),
    "prior without autoencoder": (VQP + ["model.vqgan_prior.autoencoder={tmp}/none"],
                                  "model.vqgan_prior.autoencoder: {tmp}/none is not a trained run directory (no generator.json); train the autoencoder first"),
    "prior with a gan penalty": (VQP + ["loss.r1_gamma=1"],
                                 "loss.r1_gamma: expected 0.0 for model.network vqgan_prior (a transformer trained on cross-entropy, not a GAN), got 1"),
    "vqgan no classifier": (VQ + ["model.vqgan.perceptual=classifier:{tmp}/none.keras"],
                            "classifier not found: {tmp}/none.keras (model.vqgan.perceptual); train one with python -m tfgan.evaluate train-classifier"),
    # tfgan.generate
    "out in missing dir": (["tfgan.generate", "--model", "{mlp_model}", "--out", "{tmp}/no/such/dir/g.png"], "directory {tmp}/no/such/dir does not exist"),
    "out is a dir": (["tfgan.generate", "--model", "{mlp_model}", "--out", "{tmp}/out_dir.png"], "{tmp}/out_dir.png is a directory"),
    "corrupt saved_model.pb": (["tfgan.generate", "--model", "{corrupt}", "--out", "{tmp}/g.png"], "{corrupt} is not a readable SavedModel"),
    "out not png": (["tfgan.generate", "--model", "{mlp_model}", "--out", "{tmp}/g.jpg"], "expected a .png (a grid of images) or a .npz file"),
    "not a model": (["tfgan.generate", "--model", "{npy}", "--out", "{tmp}/g.png"], "is not a model: expected a SavedModel directory"),
    "sampling a gan": (["tfgan.generate", "--model", "{mlp_model}", "--top-k", "5", "--out", "{tmp}/g.png"],
                       "--top-k needs a VQGAN prior's SavedModel (its sample signature); this model has none"),
    "top-p out of range": (["tfgan.generate", "--model", "{mlp_model}", "--top-p", "1.5", "--out", "{tmp}/g.png"],
                           "--top-p 1.5: expected a number in (0, 1] (1: all codes)"),
    # tfgan.export
    "export onto a file": (["tfgan.export", "--run", "{tmp}", "--out", "{file}"], "{file} is a file; expected the directory to export into"),
    "export no run": (["tfgan.export", "--run", "{tmp}/none", "--out", "{tmp}/exports"], "run directory not found: {tmp}/none"),
    # tfgan.evaluate
    "unreadable classifier": (["tfgan.evaluate", "run", "--run", "{mlp_run}", "--features", "classifier:{bad_keras}"],
                              "{bad_keras} is not a readable .keras file"),
    "classifier missing": (["tfgan.evaluate", "run", "--run", "{mlp_run}", "--features", "classifier:{tmp}/none.keras"], "classifier not found"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_user_mistake_is_one_line_and_exit_2(case, mistakes):
    args, message = CASES[case]
    args = [a.format(**mistakes) for a in args]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}  # as a user's shell has it: tfgan's default
    result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    assert message.format(**mistakes) in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    leftovers = [n for n in os.listdir(mistakes["tmp"]) if ".tmp" in n or n.startswith(("r1", "r2", "r3", "r4", "r5", "r6", "r7", "fresh"))]
    assert leftovers == [], leftovers  # no temporary file, no half run
