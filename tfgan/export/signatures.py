"""The serving functions of an exported generator, and their description.

- `serving_default(z[, label]) -> {"images": float32 [N, H, W, C] in [-1, 1]}`
  (for 2D toy generators the output is `samples` [N, 2]);
- `generate(num, seed[, label]) -> {"images_uint8": uint8 [N, H, W, C],
  "images_png_bytes": string [N]}`, for clients that should not build z. z is
  `tfgan.latent`'s for the seed, as `GAN.generate(num, seed=seed)` and
  `python -m tfgan.generate --seed` draw it. TF Serving's REST API
  base64-encodes the PNGs because the output name ends in `_bytes`.

A generator in two halves (StyleGAN2's) also gets, so that a client can mix
styles and truncate:

- `mapping(z[, label]) -> {"w": [N, w_dim]}`;
- `synthesis(ws) -> {"images"}`, ws [N, num_ws, w_dim], one w per layer (W+);
- `truncated(z, psi[, label]) -> {"images"}`: w_avg + psi (w - w_avg) at every
  layer; with a label, each class's centre c + psi (w - c) instead (see
  `MappingSynthesisGenerator.class_centres`), the centres computed at export.

Its w_avg (the running mean of w that truncation pulls toward), the class
centres of a conditional one, num_ws and w_dim travel in the metadata
(`style_metadata`). Synthesis's noise inputs are
the fixed ones (noise "const"), so every signature is deterministic.

An autoencoder (a generator that `reconstructs` its input: VQGAN's stage 1)
draws nothing from z; its signatures are instead:

- `serving_default(images) -> {"reconstructions"}`: of images [N, H, W, C]
  in [-1, 1] (an output named as its input would clash in ONNX);
- `encode(images) -> {"codes": int32 [N, h, w]}`: the code grid;
- `decode(codes) -> {"images"}`: the images of code grids (a prior's samples);
  codes outside [0, num_codes) are rejected.

with num_codes, code_dim and the grid's shape in the metadata (`codebook_metadata`).

A generator that samples tokens (VQGAN's stage 2) serves its autoencoder's
`encode` and `decode` as well, and

- `sample(z, temperature, top_k, top_p[, label]) -> {"images"}`: the sampling
  loop with these settings instead of the run's own (which `serving_default`
  and `generate` use, and the metadata's `sampling` records); top_k 0 keeps every
  code, top_p 1 all the mass; settings out of range are rejected.

`endpoints` lists a generator's signatures; the SavedModel serves all of them,
and ONNX converts those `tfgan.export.ONNX_FILES` names.

The generator runs in inference mode (batch norm uses its moving statistics).
"""

import tensorflow as tf

from tfgan import latent
from tfgan.networks.base import has_halves


def output_name(generator):
    return "images" if len(generator.sample_shape) == 3 else "samples"


def default_inputs(generator):
    """The TensorSpecs of `serving_default`: z, and label for a conditional generator."""
    specs = [tf.TensorSpec([None, generator.latent_dim], tf.float32, name="z")]
    if generator.num_classes:
        specs.append(tf.TensorSpec([None], tf.int32, name="label"))
    return specs


def default_function(generator, check_labels=True):
    """`(z[, label]) -> {output_name: G(z, label)}`, for `input_signature=default_inputs(generator)`.

    `check_labels` rejects out-of-range classes with TF Assert ops (ONNX has none).
    """
    name = output_name(generator)
    if generator.num_classes:
        check = _checked_labels if check_labels else lambda label, num_classes: label
        return lambda z, label: {name: _float32(generator(z, check(label, generator.num_classes), training=False))}
    return lambda z: {name: _float32(generator(z, training=False))}


def _float32(outputs):
    return tf.cast(outputs, tf.float32)  # a no-op for the float32 generator that exports build


def generate_inputs(generator):
    specs = [tf.TensorSpec([], tf.int32, name="num"), tf.TensorSpec([], tf.int64, name="seed")]
    if generator.num_classes:
        specs.append(tf.TensorSpec([None], tf.int32, name="label"))
    return specs


def generate_function(generator):
    """`(num, seed[, label]) -> uint8 and PNG images`; image generators only."""

    def generate(num, seed, label=None):
        tf.debugging.assert_positive(num, message="num must be a positive number of images")
        z = latent.normal_tf(num, generator.latent_dim, seed)
        if label is not None:
            tf.debugging.assert_equal(tf.size(label), num, message="label must hold one class per image (num of them)")
            label = _checked_labels(label, generator.num_classes)
        pixels = to_uint8(generator(z, label, training=False))
        png = tf.map_fn(tf.io.encode_png, pixels, fn_output_signature=tf.string)
        return {"images_uint8": pixels, "images_png_bytes": png}

    if generator.num_classes:
        return generate
    return lambda num, seed: generate(num, seed)


def style_functions(generator, check_labels=True, centres=None):
    """{name: (function, input specs)} of `mapping`, `synthesis` and `truncated`; see the module.
    `centres`: a conditional generator's class centres as `style_metadata` gives them (else computed)."""
    z, *label = default_inputs(generator)
    ws = tf.TensorSpec([None, generator.num_ws, generator.w_dim], tf.float32, name="ws")
    psi = tf.TensorSpec([], tf.float32, name="psi")
    check = _checked_labels if check_labels else lambda label, num_classes: label

    def labels(args):
        return check(args[0], generator.num_classes) if args else None

    def mapping(z, *args):
        return {"w": _float32(generator.mapping(z, labels(args), training=False, update_w_avg=False))}

    def synthesis(ws):
        return {"images": _float32(generator.synthesis(ws, training=False, noise="const"))}

    # Baked in as a constant, not computed per request.
    if generator.num_classes:
        centres = tf.constant(generator.class_centres() if centres is None else centres, tf.float32)

    def truncated(z, psi, *args):
        return {"images": _float32(generator(z, labels(args), training=False, psi=psi, centres=centres))}

    return {"mapping": (mapping, [z, *label]), "synthesis": (synthesis, [ws]), "truncated": (truncated, [z, psi, *label])}


def endpoints(generator, check_labels=True, centres=None):
    """{signature name: (function, input specs)}: all that `generator`'s SavedModel serves.
    `check_labels`: reject bad classes and codes with TF Assert ops (ONNX has none)."""
    if getattr(generator, "reconstructs", False):
        return autoencoder_functions(generator, check_labels)
    found = {"serving_default": (default_function(generator, check_labels), default_inputs(generator))}
    if output_name(generator) == "images":
        found["generate"] = (generate_function(generator), generate_inputs(generator))
    if has_halves(generator):
        found.update(style_functions(generator, check_labels, centres))
    if codec(generator) is not None:  # VQGAN's sampler: its autoencoder's encode and decode too
        functions = autoencoder_functions(codec(generator), check_labels)
        found.update(encode=functions["encode"], decode=functions["decode"])
    if samples_tokens(generator):
        found["sample"] = sampling_function(generator, check_labels)
    return found


def samples_tokens(generator):
    """Whether `generator` samples tokens with settings (VQGAN's sampler)."""
    return getattr(generator, "sampling", None) is not None


SAMPLING_SPECS = [tf.TensorSpec([], tf.float32, name="temperature"), tf.TensorSpec([], tf.int32, name="top_k"),
                  tf.TensorSpec([], tf.float32, name="top_p")]


def sampling_function(generator, check_labels=True):
    """(`sample`, its input specs); see the module."""
    z, *label = default_inputs(generator)
    check = _checked_labels if check_labels else lambda label, num_classes: label

    def sample(z, temperature, top_k, top_p, *args):
        checks = [
            tf.debugging.assert_positive(temperature, message="temperature must be > 0"),
            tf.debugging.assert_non_negative(top_k, message="top_k must be >= 0 (0: every code)"),
            tf.debugging.assert_positive(top_p, message="top_p must be in (0, 1]"),
            tf.debugging.assert_less_equal(top_p, 1.0, message="top_p must be in (0, 1]"),
        ]
        with tf.control_dependencies(checks):
            labels = check(args[0], generator.num_classes) if args else None
            images = generator(z, labels, training=False, temperature=temperature, top_k=top_k, top_p=top_p)
        return {"images": _float32(images)}

    return sample, [z, *SAMPLING_SPECS, *label]


def sampling_metadata(generator):
    """The settings `serving_default` and `generate` sample with (a `sample` call's defaults for a client)."""
    return {"sampling": dict(generator.sampling)}


def codec(generator):
    """The autoencoder whose `encode` and `decode` an export serves: the generator itself where
    it `reconstructs` (VQGAN's stage 1), a sampler's `autoencoder` (stage 2), else None."""
    return generator if getattr(generator, "reconstructs", False) else getattr(generator, "autoencoder", None)


def autoencoder_functions(generator, check_codes=True):
    """{name: (function, input specs)} of an autoencoder's `serving_default`, `encode` and `decode`."""
    images = tf.TensorSpec([None, *generator.sample_shape], tf.float32, name="images")
    codes = tf.TensorSpec([None, *generator.grid_shape], tf.int32, name="codes")
    check = _checked_codes if check_codes else lambda codes, num_codes: codes

    def reconstruct(images):
        return {"reconstructions": _float32(generator(images, training=False))}

    def encode(images):
        return {"codes": generator.encode(images)}

    def decode(codes):
        return {"images": _float32(generator.decode(check(codes, generator.quantizer.num_codes)))}

    return {"serving_default": (reconstruct, [images]), "encode": (encode, [images]), "decode": (decode, [codes])}


def codebook_metadata(generator):
    """What a client of `encode` and `decode` needs: the codebook's size and dimension, the grid's shape."""
    generator = codec(generator)
    return {"num_codes": int(generator.quantizer.num_codes), "code_dim": int(generator.quantizer.code_dim),
            "grid_shape": [int(d) for d in generator.grid_shape]}


def style_metadata(generator):
    """What a client of the halves needs besides the signatures: w_avg (and a conditional
    generator's class centres, [num_classes][w_dim]), num_ws, w_dim."""
    w_avg = tf.convert_to_tensor(generator.w_avg).numpy()
    centres = {"class_centres": generator.class_centres().numpy().tolist()} if generator.num_classes else {}
    return {"w_avg": [float(x) for x in w_avg], **centres, "num_ws": int(generator.num_ws), "w_dim": int(generator.w_dim)}


def to_uint8(images):
    """[-1, 1] floats -> [0, 255] uint8, as `tfgan.visualize.image_grid` maps them."""
    return tf.cast(tf.round((tf.clip_by_value(images, -1.0, 1.0) + 1.0) * 127.5), tf.uint8)


def _checked_labels(label, num_classes):
    return _checked_indices(label, num_classes, f"label must be a class in [0, {num_classes})")


def _checked_codes(codes, num_codes):
    return _checked_indices(codes, num_codes, f"codes must be in [0, {num_codes})")


def _checked_indices(indices, size, message):
    # An out-of-range index would silently read a zero row on GPU and fail obscurely on CPU
    # (an embedding's class, a codebook's code); reject it with a message a client can act on.
    checks = [
        tf.debugging.assert_non_negative(indices, message=message),
        tf.debugging.assert_less(indices, size, message=message),
    ]
    with tf.control_dependencies(checks):  # before the lookup reads them
        return tf.identity(indices)


def describe(generator):
    """The signatures' inputs and outputs, for metadata and the README."""
    shape = [None, *generator.sample_shape]
    if codec(generator) is not None:
        autoencoder = codec(generator)
        images = {"images": {"dtype": "float32", "shape": shape, "range": [-1.0, 1.0]}}
        codes = {"codes": {"dtype": "int32", "shape": [None, *autoencoder.grid_shape], "range": [0, autoencoder.quantizer.num_codes - 1]}}
        described = {"encode": {"inputs": images, "outputs": codes}, "decode": {"inputs": codes, "outputs": images}}
        if generator is autoencoder:
            return {"serving_default": {"inputs": images, "outputs": {"reconstructions": images["images"]}}, **described}
    default = {
        "inputs": {"z": {"dtype": "float32", "shape": [None, generator.latent_dim]}},
        "outputs": {output_name(generator): {"dtype": "float32", "shape": shape}},
    }
    if output_name(generator) == "images":  # tanh; 2D points are unbounded (the grid's modes sit at +-4)
        default["outputs"]["images"]["range"] = [-1.0, 1.0]
    if generator.num_classes:
        default["inputs"]["label"] = {"dtype": "int32", "shape": [None], "classes": generator.num_classes}
    signatures = {"serving_default": default}
    if output_name(generator) == "images":
        inputs = {"num": {"dtype": "int32", "shape": []}, "seed": {"dtype": "int64", "shape": []}}
        if generator.num_classes:
            inputs["label"] = default["inputs"]["label"]
        signatures["generate"] = {
            "inputs": inputs,
            "outputs": {
                "images_uint8": {"dtype": "uint8", "shape": shape},
                "images_png_bytes": {"dtype": "string", "shape": [None], "format": "PNG"},
            },
        }
    if has_halves(generator):
        label = {"label": default["inputs"]["label"]} if generator.num_classes else {}
        ws = {"dtype": "float32", "shape": [None, generator.num_ws, generator.w_dim]}
        signatures["mapping"] = {
            "inputs": {**default["inputs"]},
            "outputs": {"w": {"dtype": "float32", "shape": [None, generator.w_dim]}},
        }
        signatures["synthesis"] = {"inputs": {"ws": ws}, "outputs": default["outputs"]}
        signatures["truncated"] = {
            "inputs": {"z": default["inputs"]["z"], "psi": {"dtype": "float32", "shape": []}, **label},
            "outputs": default["outputs"],
        }
    if codec(generator) is not None:
        signatures.update(described)
    if samples_tokens(generator):
        signatures["sample"] = {
            "inputs": {"z": default["inputs"]["z"], "temperature": {"dtype": "float32", "shape": []}, "top_k": {"dtype": "int32", "shape": []},
                       "top_p": {"dtype": "float32", "shape": []}, **({"label": default["inputs"]["label"]} if generator.num_classes else {})},
            "outputs": default["outputs"],
        }
    return signatures
