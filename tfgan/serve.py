"""python -m tfgan.serve --model saved_models/NAME [--rest-port 8501] [--grpc-port 8500]

A development stand-in for TF Serving, for trying the example clients where
TF Serving (a Docker image or a C++ binary) is not at hand, and for testing
them in CI. It is not a server for production: one process, no batching, no
model reloading. It serves the highest version under the model directory, from
the SavedModel's own SignatureDefs, and answers the calls the clients make,
following the REST API reference (https://www.tensorflow.org/tfx/serving/api_rest):

- GET  /v1/models/<name>/metadata: the SignatureDefMap of the SavedModel as JSON,
  converted from the SavedModel's own protobuf as TF Serving does;
- POST /v1/models/<name>:predict: the row ("instances" -> "predictions") and
  columnar ("inputs" -> "outputs") forms, with outputs whose name ends in
  "_bytes" base64-encoded as {"b64": ...}.

and, over gRPC (with tensorflow-serving-api installed), PredictionService's
Predict (with output_filter) and GetModelMetadata.

Every request is kept in `requests`, so tests can check what a client sent.
"""

import argparse
import base64
import contextlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.protobuf import saved_model_pb2


class RestServer:
    """`with RestServer(name, version_dir) as server:` serves REST at `server.url`."""

    def __init__(self, name, path, port=0):
        self.name, self.path, self.port = name, path, port
        self.model = tf.saved_model.load(path)
        self.requests = []
        proto = saved_model_pb2.SavedModel()
        with open(os.path.join(path, "saved_model.pb"), "rb") as f:
            proto.ParseFromString(f.read())
        self.signature_defs = proto.meta_graphs[0].signature_def

    def metadata(self):
        defs = {k: json_format.MessageToDict(v, preserving_proto_field_name=True) for k, v in self.signature_defs.items()}
        return {
            "model_spec": {"name": self.name, "signature_name": "", "version": "1"},
            "metadata": {"signature_def": {"signature_def": defs}},
        }

    def predict(self, body):
        self.requests.append(body)
        name = body.get("signature_name", "serving_default")
        function = self.model.signatures[name]
        specs = function.structured_input_signature[1]
        if "instances" in body:
            rows = body["instances"]
            columns = {key: [row[key] for row in rows] for key in rows[0]}
        else:
            columns = body["inputs"]
        feeds = {key: tf.constant(value, dtype=specs[key].dtype) for key, value in columns.items()}
        outputs = {key: _to_json(key, value.numpy()) for key, value in function(**feeds).items()}
        if "instances" in body:
            if len(outputs) == 1:
                return {"predictions": next(iter(outputs.values()))}
            keys = list(outputs)
            return {"predictions": [dict(zip(keys, row)) for row in zip(*outputs.values())]}
        return {"outputs": next(iter(outputs.values())) if len(outputs) == 1 else outputs}

    def __enter__(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != f"/v1/models/{stub.name}/metadata":
                    return self._reply(404, {"error": f"no route {self.path}"})
                self._reply(200, stub.metadata())

            def do_POST(self):
                if self.path != f"/v1/models/{stub.name}:predict":
                    return self._reply(404, {"error": f"no route {self.path}"})
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                try:
                    self._reply(200, stub.predict(body))
                except (tf.errors.InvalidArgumentError, KeyError, ValueError, TypeError) as e:
                    self._reply(400, {"error": str(e)})

            def _reply(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _to_json(name, array):
    if name.endswith("_bytes"):
        return [{"b64": base64.b64encode(item).decode()} for item in array.reshape(-1)]
    if array.dtype == np.uint8:
        return array.astype(int).tolist()
    return array.tolist()


class GrpcServer:
    """The same stand-in for TF Serving's gRPC PredictionService (Predict with
    output_filter, and GetModelMetadata), served in-process (port 0: a free one)."""

    def __init__(self, name, path, port=0):
        self.rest = RestServer(name, path)
        self.port = port
        self.requests = []

    def __enter__(self):
        import grpc
        from concurrent import futures
        from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc

        stub = self

        def _check_name(request, context):
            if request.model_spec.name != stub.rest.name:  # TF Serving's own words
                context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Latest({request.model_spec.name})")

        class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
            def Predict(self, request, context):
                stub.requests.append(request)
                _check_name(request, context)
                function = stub.rest.model.signatures[request.model_spec.signature_name or "serving_default"]
                feeds = {key: tf.constant(tf.make_ndarray(proto)) for key, proto in request.inputs.items()}
                try:
                    outputs = function(**feeds)
                except (tf.errors.InvalidArgumentError, TypeError, ValueError) as e:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
                response = predict_pb2.PredictResponse()
                response.model_spec.CopyFrom(request.model_spec)
                for key, value in outputs.items():
                    if not request.output_filter or key in request.output_filter:
                        response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
                return response

            def GetModelMetadata(self, request, context):
                _check_name(request, context)
                signature_map = get_model_metadata_pb2.SignatureDefMap()
                for key, value in stub.rest.signature_defs.items():
                    signature_map.signature_def[key].CopyFrom(value)
                response = get_model_metadata_pb2.GetModelMetadataResponse()
                response.model_spec.name = stub.rest.name
                response.metadata["signature_def"].Pack(signature_map)
                return response

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Servicer(), self.server)
        self.address = f"127.0.0.1:{self.server.add_insecure_port(f'127.0.0.1:{self.port}')}"
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop(grace=None)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tfgan.serve", description="A development stand-in for TF Serving.")
    parser.add_argument("--model", required=True, help="a TF Serving model directory (saved_models/NAME) or one version of it")
    parser.add_argument("--name", help="the model name clients ask for (default: the directory's name)")
    parser.add_argument("--rest-port", type=int, default=8501, help="REST port (default 8501, as TF Serving)")
    parser.add_argument("--grpc-port", type=int, default=8500, help="gRPC port (default 8500; needs tensorflow-serving-api)")
    args = parser.parse_args(argv)
    from tfgan import cli
    from tfgan.export import layout

    path = args.model.rstrip("/")
    if layout.versions(path) and not os.path.exists(os.path.join(path, "saved_model.pb")):
        path = os.path.join(path, str(layout.versions(path)[-1]))
    name = args.name or os.path.basename(os.path.dirname(path) if os.path.basename(path).isdigit() else path)
    if not os.path.exists(os.path.join(path, "saved_model.pb")):
        print(f"tfgan.serve: error: {args.model} holds no SavedModel; expected saved_models/NAME or a version in it", file=sys.stderr)
        return cli.EXIT_USER_ERROR
    servers = [RestServer(name, path, args.rest_port)]
    try:
        import tensorflow_serving.apis  # noqa: F401  (optional: the gRPC side)

        servers.append(GrpcServer(name, path, args.grpc_port))
    except ImportError:
        print("tfgan.serve: gRPC off (pip install --no-deps tensorflow-serving-api to serve it)", file=sys.stderr)
    try:
        with contextlib.ExitStack() as stack:
            for server in servers:
                stack.enter_context(server)
            print(f"tfgan.serve: serving {name} from {path} (a development stand-in for TF Serving)")
            print(f"  REST: {servers[0].url}/v1/models/{name}" + (f"   gRPC: {servers[1].address}" if len(servers) > 1 else ""))
            threading.Event().wait()
    except OSError as e:  # the port is taken
        print(f"tfgan.serve: error: cannot listen on port {args.rest_port}: {e.strerror}", file=sys.stderr)
        return cli.EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
