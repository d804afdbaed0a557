"""A generator as ONNX, through tf2onnx, with its metadata in `metadata_props`.

`tf2onnx.convert.from_function` converts the same function as the SavedModel's
`serving_default`, with a dynamic batch axis. (`tf2onnx.convert.from_keras` does
not work with Keras 3 models.) The `generate` signature is not converted: ONNX
has no PNG encoder, and clients of ONNX Runtime draw z themselves.
"""

import json

import tensorflow as tf

from tfgan.export import signatures

DEFAULT_OPSET = 17


def write(generator, path, metadata, opset=DEFAULT_OPSET):
    import onnx
    import tf2onnx

    inputs = signatures.default_inputs(generator)
    # ONNX cannot express the label range checks (TF Assert ops); ONNX Runtime's
    # Gather rejects an out-of-range label by itself.
    function = tf.function(signatures.default_function(generator, check_labels=False), input_signature=inputs)
    model, _ = tf2onnx.convert.from_function(function, input_signature=inputs, opset=opset)
    # Only serving_default is converted, so only it is described.
    metadata = {**metadata, "signatures": {"serving_default": metadata["signatures"]["serving_default"]}}
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = value if isinstance(value, str) else json.dumps(value)
    onnx.save(model, path)

