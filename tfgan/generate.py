"""python -m tfgan.generate --model PATH --out grid.png|samples.npz [--num 64] [--seed 0] [--label K] [--psi 0.7]
                           [--temperature 0.9] [--top-k 100] [--top-p 0.95]
   python -m tfgan.generate --model PATH --style-mix ROW_SEEDS COL_SEEDS [--layers 0-3] [--psi 1] --out mix.png
   python -m tfgan.generate --model PATH --latent edited.npz --out edited.png

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

A StyleGAN2 export (mapping and synthesis halves, w_avg in its metadata) also
takes `--psi` (truncation: w_avg + psi (w - w_avg); a conditional one pulls each
sample toward its class's centre instead, from the metadata too) and draws StyleGAN's
style-mixing figure with `--style-mix` (see `tfgan.stylemix`), in either runtime;
`--latent` draws the image of a W+ latent that `tfgan.drag` or `tfgan.invert` wrote.

A VQGAN prior's SavedModel samples with the run's temperature, top-k and top-p
(its metadata's `sampling`) unless `--temperature`, `--top-k` or `--top-p` say
otherwise (its `sample` signature; the rest stay the run's).

Exit codes: 0 written; 2 a user error (not a model, a bad label or output path),
in one line; 3 the model's outputs are not finite (it diverged), nothing written.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

from tfgan import architectures, atomic, cli, latent  # none imports TensorFlow
from tfgan.errors import Diverged, UserError
from tfgan.export import ONNX_FILE, ONNX_HALF_FILES, layout  # neither imports TensorFlow

OUTPUTS = (".png", ".npz")
METADATA = os.path.join("assets.extra", "tfgan.json")
CONFIG = os.path.join("assets.extra", "config.yaml")


class ExportedGenerator:
    """An export's generator (`__call__(z, labels)`) and, where it has them (`has_halves`), its
    mapping and synthesis halves: each a handle in `self.functions`, run by the format's `_run`."""

    metadata = {}
    has_halves = False

    def __call__(self, z, labels=None):
        return self._run(self.functions["serving_default"], z=z, label=labels)

    def mapping(self, z, labels=None):
        return self._run(self.functions["mapping"], z=z, label=labels)

    def synthesis(self, ws):
        return self._run(self.functions["synthesis"], ws=ws)

    def sample(self, z, labels=None, **sampling):
        """A VQGAN prior's samples with `sampling` (temperature, top_k, top_p; None: the run's own)."""
        settings = {**self.metadata["sampling"], **{k: v for k, v in sampling.items() if v is not None}}
        return self._run(self.functions["sample"], z=z, label=labels, **settings)

    def check_sampling(self, flag):
        if "sample" not in self.functions or "sampling" not in self.metadata:
            raise UserError(f"{flag} needs a VQGAN prior's SavedModel (its sample signature); this model has none")

    @property
    def w_avg(self):
        return np.asarray(self.metadata["w_avg"], np.float32)

    @property
    def class_centres(self):
        """[num_classes, w_dim] (a conditional export's), or None (an export from before them)."""
        centres = self.metadata.get("class_centres")
        return None if centres is None else np.asarray(centres, np.float32)

    @property
    def num_ws(self):
        return int(self.metadata["num_ws"])

    def check_halves(self, flag):
        if not self.has_halves:
            raise UserError(f"{flag} needs a StyleGAN2 export (its mapping and synthesis halves and w_avg); this model has none")


class SavedModelGenerator(ExportedGenerator):
    """The signatures of a SavedModel, with TensorFlow only."""

    def __init__(self, path):
        import tensorflow as tf

        self.tf = tf
        try:
            self.functions = tf.saved_model.load(path).signatures
            inputs = self.functions["serving_default"].structured_input_signature[1]
        except Exception as e:  # a damaged saved_model.pb: DecodeError, OSError, ValueError, ...
            raise UserError(f"{path} is not a readable SavedModel: {' '.join(str(e).split())[:200]}") from None
        _check_samples(inputs, path)
        self.latent_dim = int(inputs["z"].shape[-1])
        self.conditional = "label" in inputs
        self.metadata = {}
        if os.path.exists(os.path.join(path, METADATA)):
            with open(os.path.join(path, METADATA)) as f:
                self.metadata = json.load(f)
        if os.path.exists(os.path.join(path, CONFIG)):  # the training config, beside tfgan.json
            with open(os.path.join(path, CONFIG)) as f:
                self.metadata["config"] = f.read()
        self.has_halves = {"mapping", "synthesis"} <= set(self.functions.keys()) and "w_avg" in self.metadata

    def _run(self, function, **feeds):
        specs = function.structured_input_signature[1]
        feeds = {k: self.tf.constant(v, specs[k].dtype) for k, v in feeds.items() if k in specs}
        (output,) = function(**feeds).values()
        return output.numpy()


class OnnxGenerator(ExportedGenerator):
    """An ONNX generator in ONNX Runtime, without TensorFlow (and its halves, where they lie beside it)."""

    JSON_KEYS = ("signatures", "step", "w_avg", "class_centres", "num_ws", "w_dim")

    def __init__(self, path):
        self.functions = {"serving_default": _onnx_session(path)}
        inputs = {i.name: i for i in self.functions["serving_default"].get_inputs()}
        _check_samples(inputs, path)
        self.latent_dim = int(inputs["z"].shape[-1])
        self.conditional = "label" in inputs
        meta = self.functions["serving_default"].get_modelmeta().custom_metadata_map
        self.metadata = {k: json.loads(v) if k in self.JSON_KEYS else v for k, v in meta.items()}
        halves = {name: os.path.join(os.path.dirname(path), file) for name, file in ONNX_HALF_FILES.items()}
        self.has_halves = all(os.path.isfile(p) for p in halves.values()) and "w_avg" in self.metadata
        if self.has_halves:
            self.functions.update({name: _onnx_session(p) for name, p in halves.items()})

    def _run(self, session, **feeds):
        names = {i.name for i in session.get_inputs()}
        feeds = {k: np.asarray(v, np.int32 if k == "label" else np.float32) for k, v in feeds.items() if k in names}
        return session.run(None, feeds)[0]


def _check_samples(inputs, path):
    if "z" not in inputs:  # an autoencoder's serving_default takes images (tfgan.export.signatures)
        raise UserError(f"{path} exports an autoencoder (VQGAN's stage 1: images in, reconstructions out), which draws no samples from z")


def _onnx_session(path):
    import onnxruntime

    try:
        return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own Fail/InvalidProtobuf types
        raise UserError(f"{path} is not a readable ONNX model: {' '.join(str(e).split())[:200]}") from None


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
    return SavedModelGenerator(path) if kind == "saved_model" else OnnxGenerator(path)


def _is_model_dir(path):
    return any(os.path.exists(os.path.join(path, f)) for f in ("saved_model.pb", ONNX_FILE))


def class_count(generator):
    signature = generator.metadata.get("signatures", {}).get("serving_default", {})
    return signature.get("inputs", {}).get("label", {}).get("classes")


def check_label(generator, label):
    """`label`, checked against the model: whether it must, may or must not be given."""
    if generator.conditional:
        classes = class_count(generator)
        if label is not None and classes and not 0 <= label < classes:
            raise UserError(f"--label {label} is not a class of this model; expected 0 to {classes - 1}")
        if label is None and not classes:
            raise UserError("this conditional model does not record its class count; pass --label")
    elif label is not None:
        raise UserError("--label was given, but this model is not conditional")
    return label


def sample(generator, num, seed=0, label=None, psi=1.0, sampling=None):
    """(outputs, labels, z): `num` samples for `seed` (a conditional model: whole rows of classes);
    `sampling`: a VQGAN prior's {temperature, top_k, top_p} in place of its own."""
    from tfgan import stylemix, visualize

    labels = None
    if check_label(generator, label) is not None:
        labels = np.full(num, label)
    elif generator.conditional:
        labels = visualize.class_rows(num, class_count(generator))
    z = latent.normal(len(labels) if labels is not None else num, generator.latent_dim, seed)
    if sampling:
        outputs = generator.sample(z, labels, **sampling)
    elif psi == 1.0:
        outputs = generator(z, labels)
    else:
        outputs = generator.synthesis(stylemix.truncated_ws(generator, z, labels, psi))
    return check_finite(outputs), labels, z


def check_finite(outputs):
    if not np.isfinite(outputs).all():
        raise Diverged(
            f"the model's outputs are not finite ({int((~np.isfinite(outputs)).sum())} NaN or infinite values); "
            "its weights diverged. Nothing was written"
        )
    return outputs


def write(path, outputs, labels, z, rows, metadata=None):
    """A .npz of samples, labels and z, or else a PNG: a grid of images, or a 2D model's scatter plot."""
    from tfgan import visualize

    if path.endswith(".npz"):
        arrays = {k: v for k, v in {"samples": outputs, "z": z, "labels": labels}.items() if v is not None}
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
    parser.add_argument("--psi", type=float, default=1.0, help="StyleGAN2: truncation psi, w_avg + psi (w - w_avg), toward each class's centre if conditional (default 1: none)")
    parser.add_argument("--temperature", type=float, help="VQGAN prior: divide the logits by this (> 0; default: the run's)")
    parser.add_argument("--top-k", type=int, help="VQGAN prior: sample among the k most likely codes (0: all; default: the run's)")
    parser.add_argument("--top-p", type=float, help="VQGAN prior: sample among the most likely codes holding this much probability (in (0, 1]; default: the run's)")
    parser.add_argument("--style-mix", nargs=2, metavar=("ROW_SEEDS", "COL_SEEDS"),
                        help="StyleGAN2: the style-mixing figure of these seeds (like 1,2,3 or 0-4) instead of a grid of samples")
    parser.add_argument("--latent", help="StyleGAN2: draw the image of this W+ latent (.npz from tfgan.drag or tfgan.invert) instead of samples")
    parser.add_argument("--layers", default="0-3", help="with --style-mix: the style layers taken from the column seeds (default 0-3, the coarse ones)")
    args = parser.parse_args(argv)
    return cli.run("tfgan.generate", _generate, args)


def _generate(args):
    if args.num < 1:
        raise UserError(f"--num must be a positive number of samples, got {args.num}")
    if not args.out.endswith(OUTPUTS):  # checked before the model loads
        raise UserError(f"--out {args.out}: expected a .png (a grid of images) or a .npz file")
    atomic.check_destination(args.out)
    if args.style_mix:
        from tfgan import stylemix

        rows, cols = (stylemix.parse_numbers(seeds, "--style-mix seeds") for seeds in args.style_mix)
        layers = stylemix.parse_numbers(args.layers, "--layers")
        if not args.out.endswith(".png"):
            raise UserError(f"--out {args.out}: --style-mix draws a figure; expected a .png")
    sampling = {k: v for k, v in {"temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p}.items() if v is not None}
    for key in architectures.bad_sampling(**sampling):
        raise UserError(f"--{key.replace('_', '-')} {sampling[key]}: expected {architectures.SAMPLING_EXPECTED[key]}")
    kind, _ = resolve(args.model)
    cli.setup("tfgan.generate", tensorflow=kind == "saved_model")  # ONNX models never import TensorFlow
    generator = load(args.model)
    if args.style_mix or args.psi != 1.0 or args.latent:
        generator.check_halves("--style-mix" if args.style_mix else "--latent" if args.latent else "--psi")
    if sampling:
        generator.check_sampling("--" + next(iter(sampling)).replace("_", "-"))
    if args.latent:
        from tfgan import stylemix

        ws, label, noise = stylemix.read_latent(args.latent, generator.num_ws, int(generator.metadata["w_dim"]))
        write(args.out, check_finite(generator.synthesis(ws)), None if label is None else np.array([label]), None, 1)
        # An export's synthesis takes ws alone; its noise maps are the fixed ones.
        note = " (with the export's fixed noise, not the latent's own noise maps)" if noise else ""
        print(f"tfgan.generate: wrote the image of {args.latent} to {args.out}{note}")
        return
    if args.style_mix:
        label = check_label(generator, args.label)
        if generator.conditional and label is None:
            raise UserError("this model is conditional: pass --label, the class of every image of the figure")
        images = check_finite(stylemix.mixing_grid(generator, rows, cols, layers, args.psi, label))
        write(args.out, images, None, None, len(rows) + 1)
        print(f"tfgan.generate: wrote the style mixing of {len(rows)} x {len(cols)} seeds (layers {args.layers} from the columns) to {args.out}")
        return
    outputs, labels, z = sample(generator, args.num, args.seed, args.label, args.psi, sampling)
    by_class = generator.conditional and args.label is None
    rows = class_count(generator) if by_class else max(1, int(math.sqrt(len(outputs))))
    write(args.out, outputs, labels, z, rows, generator.metadata)
    layout_note = f" ({rows} classes x {len(outputs) // rows}, one row per class)" if by_class else ""
    print(f"tfgan.generate: wrote {len(outputs)} samples{layout_note} to {args.out}")


if __name__ == "__main__":
    sys.exit(main())
