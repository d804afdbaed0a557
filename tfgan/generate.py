"""python -m tfgan.generate --model PATH --out grid.png|samples.npz [--num 64] [--seed 0] [--label K]

Runs an exported generator: a SavedModel directory (with TensorFlow), an .onnx
file (with ONNX Runtime), or a TF Serving model directory (its highest version).
It needs only the runtime of the format it loads: the SavedModel path imports
tensorflow but neither keras nor the training code, the ONNX path imports
onnxruntime but not tensorflow.

z is `tfgan.latent`'s for --seed (drawn with NumPy), the z that `GAN.generate`
and the SavedModel's `generate` signature draw: the same seed gives the same
images from a run, a SavedModel and an ONNX file. A conditional model draws one
grid row per class, as the training grid does (--num rounded down to whole rows),
or only the class --label asks for. A 2D model's PNG is the scatter plot that
training writes, over points of the mixture it was trained on.

Exit codes: 0 written; 2 a user error (not a model, a bad label or output path),
in one line; 3 the model's outputs are not finite (it diverged), nothing written.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

from tfgan import atomic, cli, latent
from tfgan.errors import Diverged, UserError
from tfgan.export import ONNX_FILE, layout  # neither imports TensorFlow

OUTPUTS = (".png", ".npz")
METADATA = os.path.join("assets.extra", "tfgan.json")
CONFIG = os.path.join("assets.extra", "config.yaml")


class SavedModelGenerator:
    """The `serving_default` signature of a SavedModel, with TensorFlow only."""

    def __init__(self, path):
        import tensorflow as tf

        self.tf = tf
        try:
            self.function = tf.saved_model.load(path).signatures["serving_default"]
        except Exception as e:  # a damaged saved_model.pb: DecodeError, OSError, ValueError, ...
            raise UserError(f"{path} is not a readable SavedModel: {' '.join(str(e).split())[:200]}") from None
        inputs = self.function.structured_input_signature[1]
        self.latent_dim = int(inputs["z"].shape[-1])
        self.conditional = "label" in inputs
        self.metadata = {}
        if os.path.exists(os.path.join(path, METADATA)):
            with open(os.path.join(path, METADATA)) as f:
                self.metadata = json.load(f)
        if os.path.exists(os.path.join(path, CONFIG)):  # the training config, beside tfgan.json
            with open(os.path.join(path, CONFIG)) as f:
                self.metadata["config"] = f.read()

    def __call__(self, z, labels=None):
        feeds = {"z": self.tf.constant(z)}
        if self.conditional:
            feeds["label"] = self.tf.constant(labels, self.tf.int32)
        (output,) = self.function(**feeds).values()
        return output.numpy()


class OnnxGenerator:
    """An ONNX generator in ONNX Runtime, without TensorFlow."""

    def __init__(self, path):
        import onnxruntime

        self.session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        inputs = {i.name: i for i in self.session.get_inputs()}
        self.latent_dim = int(inputs["z"].shape[-1])
        self.conditional = "label" in inputs
        meta = self.session.get_modelmeta().custom_metadata_map
        self.metadata = {k: json.loads(v) if k in ("signatures", "step") else v for k, v in meta.items()}

    def __call__(self, z, labels=None):
        feeds = {"z": z}
        if self.conditional:
            feeds["label"] = np.asarray(labels, np.int32)
        return self.session.run(None, feeds)[0]


def resolve(path):
    """(format, path) of the model at `path`: ("saved_model", its directory) or ("onnx", its file).

    `path` is a SavedModel directory, an .onnx file, a version directory holding
    model.onnx, or a TF Serving model directory (its highest version).
    """
    if os.path.isdir(path) and not _is_model_dir(path) and layout.versions(path):
        path = os.path.join(path, str(layout.versions(path)[-1]))
    if os.path.isdir(path) and os.path.exists(os.path.join(path, "saved_model.pb")):
        return "saved_model", path
    if os.path.isdir(path) and os.path.exists(os.path.join(path, ONNX_FILE)):
        return "onnx", os.path.join(path, ONNX_FILE)
    if os.path.isfile(path) and path.endswith(".onnx"):
        return "onnx", path
    raise UserError(f"{path} is not a model: expected a SavedModel directory, an .onnx file, or a directory of versions")


def load(path):
    """The generator at `path` (see `resolve`), in the runtime of its format."""
    kind, path = resolve(path)
    if kind == "saved_model":
        return SavedModelGenerator(path)
    try:
        return OnnxGenerator(path)
    except Exception as e:  # onnxruntime raises its own Fail/InvalidProtobuf types
        raise UserError(f"{path} is not a readable ONNX model: {' '.join(str(e).split())[:200]}") from None


def _is_model_dir(path):
    return any(os.path.exists(os.path.join(path, f)) for f in ("saved_model.pb", ONNX_FILE))


def class_count(generator):
    signature = generator.metadata.get("signatures", {}).get("serving_default", {})
    return signature.get("inputs", {}).get("label", {}).get("classes")


def sample(generator, num, seed=0, label=None):
    """(outputs, labels, z): `num` samples for `seed` (a conditional model: whole rows of classes)."""
    labels = None
    if generator.conditional:
        classes = class_count(generator)
        if label is not None and classes and not 0 <= label < classes:
            raise UserError(f"--label {label} is not a class of this model; expected 0 to {classes - 1}")
        if label is None and not classes:
            raise UserError("this conditional model does not record its class count; pass --label")
        from tfgan import visualize

        labels = np.full(num, label) if label is not None else visualize.class_rows(num, classes)
    elif label is not None:
        raise UserError("--label was given, but this model is not conditional")
    z = latent.normal(len(labels) if labels is not None else num, generator.latent_dim, seed)
    outputs = generator(z, labels)
    if not np.isfinite(outputs).all():
        raise Diverged(
            f"the model's outputs are not finite ({int((~np.isfinite(outputs)).sum())} NaN or infinite values); "
            "its weights diverged. Nothing was written"
        )
    return outputs, labels, z


def write(path, outputs, labels, z, rows, metadata=None):
    """A .npz of samples, labels and z, or else a PNG: a grid of images, or a 2D model's scatter plot."""
    from tfgan import visualize

    if path.endswith(".npz"):
        arrays = {"samples": outputs, "z": z, **({"labels": labels} if labels is not None else {})}
        with atomic.replacing(path) as tmp:
            np.savez(tmp, **arrays)
    elif outputs.ndim == 4:
        visualize.write_png(path, visualize.image_grid(outputs, rows))
    else:
        real, centres = _training_points(metadata or {})
        visualize.write_png(path, visualize.scatter_plot(outputs, real, centres))


def _training_points(metadata):
    """The real points and mode centres a 2D run's samples plot was drawn over, from the export's config."""
    import yaml

    from tfgan.data import mixtures

    config = yaml.safe_load(metadata.get("config") or "{}") or {}
    data = config.get("data", {})
    if data.get("source") not in mixtures.NAMES:
        raise UserError("this 2D model's export holds no training config to plot against; write a .npz instead")
    # As training draws them: the run's examples (seeded by its seed), the first 2500 plotted.
    real = mixtures.sample(data["source"], data.get("limit") or data.get("num_examples", 100_000), config.get("seed", 0))
    return real[:2500], mixtures.centres(data["source"])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tfgan.generate", description="Sample an exported generator.")
    parser.add_argument("--model", required=True, help="SavedModel directory, .onnx file, or saved_models/<name>")
    parser.add_argument("--out", required=True, help="grid.png or samples.npz")
    parser.add_argument("--num", type=int, default=64, help="how many samples (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="seeds z (default 0)")
    parser.add_argument("--label", type=int, help="conditional models: draw only this class")
    args = parser.parse_args(argv)
    return cli.run("tfgan.generate", _generate, args)


def _generate(args):
    if args.num < 1:
        raise UserError(f"--num must be a positive number of samples, got {args.num}")
    if not args.out.endswith(OUTPUTS):  # checked before the model loads
        raise UserError(f"--out {args.out}: expected a .png (a grid of images) or a .npz file")
    atomic.check_destination(args.out)
    kind, _ = resolve(args.model)
    cli.setup("tfgan.generate", tensorflow=kind == "saved_model")  # ONNX models never import TensorFlow
    generator = load(args.model)
    outputs, labels, z = sample(generator, args.num, args.seed, args.label)
    by_class = generator.conditional and args.label is None
    rows = class_count(generator) if by_class else max(1, int(math.sqrt(len(outputs))))
    write(args.out, outputs, labels, z, rows, generator.metadata)
    layout_note = f" ({rows} classes x {len(outputs) // rows}, one row per class)" if by_class else ""
    print(f"tfgan.generate: wrote {len(outputs)} samples{layout_note} to {args.out}")


if __name__ == "__main__":
    sys.exit(main())
