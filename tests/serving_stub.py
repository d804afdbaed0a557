"""A stand-in for TF Serving's REST API, for testing the example clients in CI.

It answers the two calls the clients make, following the REST API reference
(https://www.tensorflow.org/tfx/serving/api_rest):

- GET  /v1/models/<name>/metadata: the SignatureDefMap of the SavedModel as JSON,
  converted from the SavedModel's own protobuf as TF Serving does;
- POST /v1/models/<name>:predict: the row ("instances" -> "predictions") and
  columnar ("inputs" -> "outputs") forms, with outputs whose name ends in
  "_bytes" base64-encoded as {"b64": ...}.

Every request body is kept in `requests`, so tests can check what a client sent.
"""

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.protobuf import saved_model_pb2


class ServingStub:
    def __init__(self, name, path):
        self.name, self.path = name, path
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

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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


class GrpcServingStub:
    """The same stand-in for TF Serving's gRPC PredictionService (Predict with
    output_filter, and GetModelMetadata), served in-process on a free port."""

    def __init__(self, name, path):
        self.rest = ServingStub(name, path)
        self.requests = []

    def __enter__(self):
        import grpc
        from concurrent import futures
        from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc

        stub = self

        class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
            def Predict(self, request, context):
                stub.requests.append(request)
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
                signature_map = get_model_metadata_pb2.SignatureDefMap()
                for key, value in stub.rest.signature_defs.items():
                    signature_map.signature_def[key].CopyFrom(value)
                response = get_model_metadata_pb2.GetModelMetadataResponse()
                response.model_spec.name = stub.rest.name
                response.metadata["signature_def"].Pack(signature_map)
                return response

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Servicer(), self.server)
        self.address = f"127.0.0.1:{self.server.add_insecure_port('127.0.0.1:0')}"
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop(grace=None)
