"""python -m tfgan.generate --model PATH --out grid.png|samples.npz [--num 64] [--seed 0] [--label K]

Runs an exported generator: a SavedModel directory (with TensorFlow), an .onnx
file (with ONNX Runtime), or a TF Serving model directory (its highest version).
It needs only the runtime of the format it loads: the SavedModel path imports
tensorflow but neither keras nor the training code, the ONNX path imports
onnxruntime but not tensorflow.

z is drawn with NumPy from --seed, so both formats of one export give the same
images for the same seed. A conditional model draws every class in turn, one
grid row per class when --num is a multiple of the class count, or only the
class --label asks for.

Exit codes: 0 written; 2 a user error (not a model, a bad label or output name).
"""

import argparse
import json
import math
import os
import sys

import numpy as np

from tfgan.errors import UserError
from tfgan.export import ONNX_FILE, layout  # neither imports TensorFlow

OUTPUTS = (".png", ".npz")
METADATA = os.path.join("assets.extra", "tfgan.json")


class SavedModelGenerator:
    """The `serving_default` signature of a SavedModel, with TensorFlow only."""

    def __init__(self, path):
        import tensorflow as tf

        self.tf = tf
        self.function = tf.saved_model.load(path).signatures["serving_default"]
        inputs = self.function.structured_input_signature[1]
        self.latent_dim = int(inputs["z"].shape[-1])
        self.conditional = "label" in inputs
        self.metadata = {}
        if os.path.exists(os.path.join(path, METADATA)):
            with open(os.path.join(path, METADATA)) as f:
                self.metadata = json.load(f)

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


def load(path):
    """The generator at `path`: a SavedModel dir, an .onnx file, or a TF Serving model dir."""
    if os.path.isdir(path) and not _is_model_dir(path) and layout.versions(path):
        path = os.path.join(path, str(layout.versions(path)[-1]))
    if os.path.isdir(path) and os.path.exists(os.path.join(path, "saved_model.pb")):
        return SavedModelGenerator(path)
    if os.path.isdir(path) and os.path.exists(os.path.join(path, ONNX_FILE)):
        return OnnxGenerator(os.path.join(path, ONNX_FILE))
    if os.path.isfile(path) and path.endswith(".onnx"):
        try:
            return OnnxGenerator(path)
        except Exception as e:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise UserError(f"{path} is not a readable ONNX model: {' '.join(str(e).split())[:200]}") from None
    raise UserError(f"{path} is not a model: expected a SavedModel directory, an .onnx file, or a directory of versions")


def _is_model_dir(path):
    return any(os.path.exists(os.path.join(path, f)) for f in ("saved_model.pb", ONNX_FILE))


def class_count(generator):
    signature = generator.metadata.get("signatures", {}).get("serving_default", {})
    return signature.get("inputs", {}).get("label", {}).get("classes")


def sample(generator, num, seed=0, label=None):
    """(outputs, labels, z) for `num` samples from NumPy's generator seeded with `seed`."""
    z = np.random.default_rng(seed).standard_normal((num, generator.latent_dim)).astype(np.float32)
    labels = None
    if generator.conditional:
        classes = class_count(generator)
        if label is not None and classes and not 0 <= label < classes:
            raise UserError(f"--label {label} is not a class of this model; expected 0 to {classes - 1}")
        if label is None and not classes:
            raise UserError("this conditional model does not record its class count; pass --label")
        if label is not None:
            labels = np.full(num, label)
        elif num % classes == 0:
            labels = np.repeat(np.arange(classes), num // classes)  # a grid row per class
        else:
            labels = np.arange(num) % classes
    elif label is not None:
        raise UserError("--label was given, but this model is not conditional")
    return generator(z, labels), labels, z


def write(path, outputs, labels, z, rows):
    """A .npz of samples, labels and z, or else a PNG grid (`path` ends in one of OUTPUTS)."""
    from tfgan import visualize

    if path.endswith(".npz"):
        arrays = {"samples": outputs, "z": z, **({"labels": labels} if labels is not None else {})}
        np.savez(path + ".tmp.npz", **arrays)
        os.replace(path + ".tmp.npz", path)
    else:
        if outputs.ndim != 4:
            raise UserError(f"this model makes points of shape {outputs.shape[1:]}, not images; write them to a .npz")
        visualize.write_png(path, visualize.image_grid(outputs, rows))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tfgan.generate", description="Sample an exported generator.")
    parser.add_argument("--model", required=True, help="SavedModel directory, .onnx file, or saved_models/<name>")
    parser.add_argument("--out", required=True, help="grid.png or samples.npz")
    parser.add_argument("--num", type=int, default=64, help="how many samples (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="seeds z (default 0)")
    parser.add_argument("--label", type=int, help="conditional models: draw only this class")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        if args.num < 1:
            raise UserError(f"--num must be a positive number of samples, got {args.num}")
        if not args.out.endswith(OUTPUTS):  # checked before the model loads
            raise UserError(f"--out {args.out}: expected a .png (a grid of images) or a .npz file")
        generator = load(args.model)
        outputs, labels, z = sample(generator, args.num, args.seed, args.label)
        classes = class_count(generator)
        by_class = generator.conditional and args.label is None and classes and args.num % classes == 0
        rows = classes if by_class else max(1, int(math.sqrt(args.num)))
        write(args.out, outputs, labels, z, rows)
    except UserError as e:
        print(f"tfgan.generate: error: {e}", file=sys.stderr)
        return 2
    print(f"tfgan.generate: wrote {args.num} samples to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
