"""Ask TF Serving over gRPC for images from a tfgan export, and save them as a grid.

    pip install grpcio && pip install --no-deps "tensorflow-serving-api>=2.21,<2.22"
    # --no-deps: it declares the full tensorflow package, which would land over tensorflow-cpu
    docker run -p 8500:8500 -v $PWD/saved_models/dcgan_mnist:/models/dcgan_mnist \\
        -e MODEL_NAME=dcgan_mnist tensorflow/serving
    python examples/serving/grpc_client.py --model dcgan_mnist --num 16 --out grid.png

gRPC carries tensors as TensorProtos, so unlike REST there is no JSON or base64:
the `generate` signature's PNGs arrive as raw bytes, and `output_filter` asks
for them alone. `--signature serving_default` reads the latent size from
GetModelMetadata, draws z here and gets float images back.
"""

import argparse
import io

import grpc
import numpy as np
import tensorflow as tf
from PIL import Image
from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc

from rest_client import grid  # the same tiling; this directory is on sys.path when run as a script


def serving_default(stub, model):
    """The model's serving_default SignatureDef, from GetModelMetadata."""
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = model
    response = stub.GetModelMetadata(request, timeout=30)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signature_map)
    return signature_map.signature_def["serving_default"]


def build_request(model, signature, num, seed, labels=None, z=None):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if signature == "generate":
        request.inputs["num"].CopyFrom(tf.make_tensor_proto(num, tf.int32))
        request.inputs["seed"].CopyFrom(tf.make_tensor_proto(seed, tf.int64))
        request.output_filter.append("images_png_bytes")
    else:
        request.inputs["z"].CopyFrom(tf.make_tensor_proto(z, tf.float32))
    if labels is not None:
        request.inputs["label"].CopyFrom(tf.make_tensor_proto(labels, tf.int32))
    return request


def decode_response(signature, response):
    """uint8 images [N, H, W, C]."""
    if signature == "generate":
        pngs = tf.make_ndarray(response.outputs["images_png_bytes"])
        images = [np.asarray(Image.open(io.BytesIO(png))) for png in pngs]
        return np.stack([i[..., None] if i.ndim == 2 else i for i in images])
    images = tf.make_ndarray(response.outputs["images"])
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the MODEL_NAME TF Serving serves")
    parser.add_argument("--host", default="localhost:8500", help="TF Serving's gRPC address")
    parser.add_argument("--num", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", type=int, help="conditional models: the class to draw (required for them)")
    parser.add_argument("--signature", choices=["generate", "serving_default"], default="generate")
    parser.add_argument("--out", default="grid.png")
    args = parser.parse_args(argv)

    with grpc.insecure_channel(args.host) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            signature = serving_default(stub, args.model)
            if "label" in signature.inputs and args.label is None:
                parser.exit(2, f"grpc_client: error: {args.model} is a conditional model; pass --label K (the class to draw)\n")
            labels = None if args.label is None else np.full(args.num, args.label, np.int32)
            z = None
            if args.signature == "serving_default":
                size = signature.inputs["z"].tensor_shape.dim[-1].size
                z = np.random.default_rng(args.seed).standard_normal((args.num, size)).astype(np.float32)
            request = build_request(args.model, args.signature, args.num, args.seed, labels, z)
            images = decode_response(args.signature, stub.Predict(request, timeout=60))
        except grpc.RpcError as e:  # one line, not a gRPC traceback
            parser.exit(2, f"grpc_client: error: {args.host} answered {e.code().name}: {e.details()}\n")
    Image.fromarray(grid(images)).save(args.out)
    print(f"wrote {len(images)} images from {args.model} ({args.signature}) to {args.out}")


if __name__ == "__main__":
    main()
