"""A generator as ONNX, through tf2onnx, with its metadata in `metadata_props`.

`tf2onnx.convert.from_function` converts the same function as the SavedModel's
`serving_default`, with a dynamic batch axis. (`tf2onnx.convert.from_keras` does
not work with Keras 3 models.) The `generate` signature is not converted: ONNX
has no PNG encoder, and clients of ONNX Runtime draw z themselves.

A generator in two halves (StyleGAN2's) also gets `mapping.onnx` and
`synthesis.onnx` beside `model.onnx` (an ONNX model is one graph, and the two
take different inputs), the SavedModel's signatures of those names. `truncated`
is not converted: with w_avg (or, given a label, the class centres) from the
metadata it is one line of arithmetic between the two, w_avg + psi (w - w_avg).

An autoencoder (VQGAN's stage 1) gets `encoder.onnx` (images -> codes) and
`decoder.onnx` (codes -> images) beside `model.onnx` (its reconstructions). VQGAN's
sampler (stage 2) gets the encoder and decoder only: its sampling loop does not
convert to an ONNX graph that ONNX Runtime loads (`VQGANSampler.onnx_sampling`).
"""

import json
import os

import tensorflow as tf

from tfgan.export import ONNX_FILES, signatures

DEFAULT_OPSET = 17


def write(generator, directory, metadata, opset=DEFAULT_OPSET):
    """Writes into `directory` an ONNX file for each signature of the generator's that
    `ONNX_FILES` names (serving_default as model.onnx; the halves; the encoder and decoder)."""
    # ONNX cannot express the label and code range checks (TF Assert ops); ONNX Runtime's
    # Gather rejects an out-of-range index by itself.
    functions = signatures.endpoints(generator, check_labels=False, centres=metadata.get("class_centres"))
    for name, (function, inputs) in functions.items():
        if name == "serving_default" and not getattr(generator, "onnx_sampling", True):
            continue  # VQGAN's sampler: see VQGANSampler.onnx_sampling
        if name in ONNX_FILES:
            _convert(function, inputs, os.path.join(directory, ONNX_FILES[name]), metadata, name, opset)


def _convert(function, inputs, path, metadata, name, opset):
    import onnx
    import tf2onnx

    function = tf.function(function, input_signature=inputs)
    model, _ = tf2onnx.convert.from_function(function, input_signature=inputs, opset=opset)
    # Each file describes the one signature it holds.
    metadata = {**metadata, "signatures": {name: metadata["signatures"][name]}}
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = value if isinstance(value, str) else json.dumps(value)
    onnx.save(model, path)

