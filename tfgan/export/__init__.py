"""Ship a generator: SavedModel for TF Serving, and ONNX.

    export_run("runs/dcgan_mnist", "dcgan_mnist")  # -> saved_models/dcgan_mnist/<version>/

A version directory holds the SavedModel (`saved_model.pb`, `variables/`,
`assets.extra/` with tfgan.json and config.yaml) and `model.onnx` (and, for a
StyleGAN2 generator, `mapping.onnx` and `synthesis.onnx`; for VQGAN's
autoencoder, `encoder.onnx` and `decoder.onnx`). It is staged
and renamed into place, so it appears complete or not at all.

This module imports TensorFlow only when it exports, so that the CLI rejects a
bad flag before TensorFlow starts.
"""

import os

from tfgan import __version__, atomic
from tfgan.errors import Diverged, UserError
from tfgan.export import layout

FORMATS = ("saved_model", "onnx")
ONNX_FILE = "model.onnx"
# A generator in two halves (StyleGAN2's) also exports each half, beside ONNX_FILE;
# an autoencoder (VQGAN's stage 1) its encoder and decoder.
ONNX_HALF_FILES = {"mapping": "mapping.onnx", "synthesis": "synthesis.onnx"}
ONNX_CODEC_FILES = {"encode": "encoder.onnx", "decode": "decoder.onnx"}
ONNX_FILES = {"serving_default": ONNX_FILE, **ONNX_HALF_FILES, **ONNX_CODEC_FILES}  # signature -> file


def parse_formats(formats):
    """'saved_model,onnx' or a list -> a tuple of known formats, in the given order."""
    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UserError(f"unknown export format {', '.join(unknown) or '(none)'}; expected one or more of: {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(formats))


def export(generator, model_dir, formats=FORMATS, version=None, force=False, metadata=None, opset=None):
    """Writes `generator` as `<model_dir>/<version>/`; returns that path."""
    from tfgan.callbacks.divergence import named, non_finite_variables
    from tfgan.export import onnx, saved_model, signatures
    from tfgan.networks.base import has_halves

    formats = parse_formats(formats)
    bad = non_finite_variables(generator.weights)
    if bad:
        raise Diverged(
            f"refusing to export a generator with non-finite weights ({named(bad)} hold NaN or infinity); "
            "export an earlier checkpoint of a run that had not diverged"
        )
    version = layout.choose_version(model_dir, version, force)
    metadata = {
        "tfgan_version": __version__,
        "signatures": signatures.describe(generator),
        **(signatures.style_metadata(generator) if has_halves(generator) else {}),
        **(signatures.codebook_metadata(generator) if signatures.codec(generator) is not None else {}),
        **(signatures.sampling_metadata(generator) if signatures.samples_tokens(generator) else {}),
        **(metadata or {}),
    }
    final = os.path.join(model_dir, str(version))
    os.makedirs(model_dir, exist_ok=True)
    atomic.remove_stale(model_dir)  # the staging directories of exports that were killed
    with layout.Staging(final) as staging:
        if "saved_model" in formats:
            saved_model.write(generator, staging, metadata)
        if "onnx" in formats:
            onnx.write(generator, staging, metadata, opset or onnx.DEFAULT_OPSET)
    return final


def check_run_export(run_dir, name=None, base_dir="saved_models", formats=FORMATS, version=None, force=False):
    """(name, formats) of an export of `run_dir`; raises `UserError` first if it cannot be made. No TensorFlow."""
    formats = parse_formats(formats)
    name = name or os.path.basename(os.path.normpath(run_dir))
    layout.check_name(name)
    for path in (base_dir, os.path.join(base_dir, name)):
        if os.path.exists(path) and not os.path.isdir(path):
            raise UserError(f"{path} is a file; expected the directory to export into (--out)")
    layout.choose_version(os.path.join(base_dir, name), version, force)
    if not os.path.isdir(run_dir):
        raise UserError(f"run directory not found: {run_dir}")
    return name, formats


def export_run(run_dir, name=None, base_dir="saved_models", formats=FORMATS, version=None, force=False, opset=None):
    """Exports the latest generator of a training run (its EMA weights if it kept them)."""
    name, formats = check_run_export(run_dir, name, base_dir, formats, version, force)  # before TensorFlow starts
    from tfgan.export import run

    generator, step, weights = run.load_generator(run_dir)
    metadata = {"step": step, "weights": weights, "run_dir": os.path.abspath(run_dir), "config": run.read_config(run_dir)}
    if getattr(generator, "grows", False):  # progressive growing: what the step had grown to
        metadata.update(resolution=generator.resolution, alpha=generator.alpha)
    return export(generator, os.path.join(base_dir, name), formats, version, force, metadata, opset)
