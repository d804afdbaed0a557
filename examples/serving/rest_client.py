"""Ask TF Serving's REST API for images from a tfgan export, and save them as a grid.

    docker run -p 8501:8501 -v $PWD/saved_models/dcgan_mnist:/models/dcgan_mnist \\
        -e MODEL_NAME=dcgan_mnist tensorflow/serving
    python examples/serving/rest_client.py --model dcgan_mnist --num 16 --out grid.png

The request is built from the signature the server reports
(GET /v1/models/<model>/metadata), not from tfgan, so this client needs only
NumPy and Pillow:

- `--signature generate` (the default when the model has it): the server draws
  z from `seed` and returns PNGs; the request uses the columnar `inputs` form,
  since `num` and `seed` are scalars.
- `--signature serving_default`: the client draws z itself and sends it in the
  row (`--form instances`) or columnar (`--form inputs`) form.
"""

import argparse
import base64
import io
import json
import math
import urllib.request

import numpy as np
from PIL import Image


def get_json(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def signatures(metadata):
    """{signature name: {"inputs": {name: (dtype, shape)}, "outputs": {...}}} from a metadata response."""
    found = {}
    for name, signature in metadata["metadata"]["signature_def"]["signature_def"].items():
        if name.startswith("__"):
            continue
        found[name] = {
            side: {
                key: (tensor["dtype"], [int(d["size"]) for d in tensor["tensor_shape"].get("dim", [])])
                for key, tensor in signature.get(side, {}).items()
            }
            for side in ("inputs", "outputs")
        }
    return found


def build_request(signature_name, signature, num, seed, label=None, form="instances", classes=10):
    """The JSON body of a :predict request for `num` images (a conditional
    model gets `label`, or classes 0, 1, ..., classes - 1 in turn)."""
    inputs = signature["inputs"]
    labels = None
    if "label" in inputs:
        labels = [label] * num if label is not None else [i % classes for i in range(num)]
    if signature_name == "generate":
        columns = {"num": num, "seed": seed, **({"label": labels} if labels is not None else {})}
        return {"signature_name": "generate", "inputs": columns}
    latent_dim = inputs["z"][1][-1]
    z = np.random.default_rng(seed).standard_normal((num, latent_dim)).astype(np.float32).tolist()
    if form == "inputs":
        return {"signature_name": signature_name, "inputs": {"z": z, **({"label": labels} if labels is not None else {})}}
    rows = [{"z": z[i], **({"label": labels[i]} if labels is not None else {})} for i in range(num)]
    return {"signature_name": signature_name, "instances": rows}


def decode_response(signature_name, response):
    """uint8 images [N, H, W, C] from a :predict response, in either form (2D models: float points [N, 2])."""
    if signature_name == "generate":
        outputs = response["outputs"]
        pngs = [base64.b64decode(item["b64"]) for item in outputs["images_png_bytes"]]
        images = [np.asarray(Image.open(io.BytesIO(png))) for png in pngs]
        return np.stack([i[..., None] if i.ndim == 2 else i for i in images])
    # One output: `predictions` is a list of per-row values, `outputs` the whole batch.
    images = np.asarray(response["predictions"] if "predictions" in response else response["outputs"], np.float32)
    if images.ndim == 2:  # a 2D toy model's points, not images
        return images
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def grid(images):
    num, height, width, channels = images.shape
    cols = math.ceil(math.sqrt(num))
    rows = math.ceil(num / cols)
    canvas = np.zeros((rows * height, cols * width, channels), np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        canvas[r * height:(r + 1) * height, c * width:(c + 1) * width] = image
    return canvas[..., 0] if channels == 1 else canvas


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the MODEL_NAME TF Serving serves")
    parser.add_argument("--host", default="http://localhost:8501", help="TF Serving's REST address")
    parser.add_argument("--num", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", type=int, help="conditional models: draw only this class")
    parser.add_argument("--classes", type=int, default=10, help="conditional models: cycle through this many classes")
    parser.add_argument("--signature", choices=["generate", "serving_default"], help="default: generate if the model has it")
    parser.add_argument("--form", choices=["instances", "inputs"], default="instances", help="serving_default: row or columnar request")
    parser.add_argument("--out", default="grid.png", help="a PNG grid, or a .npz (2D models: their points)")
    args = parser.parse_args(argv)

    base = f"{args.host.rstrip('/')}/v1/models/{args.model}"
    available = signatures(get_json(f"{base}/metadata"))
    name = args.signature or ("generate" if "generate" in available else "serving_default")
    points = len(next(iter(available[name]["outputs"].values()))[1]) == 2  # [N, 2]: a 2D toy model
    if points and not args.out.endswith(".npz"):
        parser.exit(2, f"rest_client: error: {args.model} draws 2D points, not images; pass --out points.npz\n")
    body = build_request(name, available[name], args.num, args.seed, args.label, args.form, args.classes)
    outputs = decode_response(name, get_json(f"{base}:predict", body))
    if args.out.endswith(".npz"):
        np.savez(args.out, samples=outputs)
    else:
        Image.fromarray(grid(outputs)).save(args.out)
    print(f"wrote {len(outputs)} {'points' if points else 'images'} from {args.model} ({name}) to {args.out}")


if __name__ == "__main__":
    main()
