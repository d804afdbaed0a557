"""Generator inference throughput of the exports: python benchmarks/export_speed.py

For the MLP GAN and DCGAN generators of the shipped gan_mnist and dcgan_mnist
configs (28x28x1; weights do not change the speed), export both formats, then
time, in this one process, the SavedModel's serving_default in TensorFlow and
model.onnx in ONNX Runtime, at batch 1 and batch 64. Each figure is the best of
`--repeats` timed runs of `--calls` calls, after warm-up; the ratio is ONNX
Runtime's throughput over TensorFlow's. Prints a Markdown table.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tfgan import config as config_lib  # noqa: E402


def generator_for(config_name):
    from tfgan import data, training

    config = config_lib.load(os.path.join(os.path.dirname(HERE), "configs", f"{config_name}.yaml"))
    shape_only = data.Examples(np.zeros((1, 28, 28, 1), np.uint8), None, 0)  # MNIST's shape, no download
    return training.build_networks(config, shape_only)[0]


def best_rate(call, batch, calls, repeats):
    for _ in range(5):
        call()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        best = max(best, calls * batch / (time.perf_counter() - start))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import onnxruntime
    import tensorflow as tf

    from tfgan import export

    rows = ["| generator | batch | SavedModel (TF), samples/s | ONNX Runtime, samples/s | ONNX / TF |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for label, config_name in (("MLP GAN", "gan_mnist"), ("DCGAN", "dcgan_mnist")):
            generator = generator_for(config_name)
            path = export.export(generator, os.path.join(tmp, config_name))
            signature = tf.saved_model.load(path).signatures["serving_default"]
            session = onnxruntime.InferenceSession(os.path.join(path, export.ONNX_FILE), providers=["CPUExecutionProvider"])
            for batch in (1, 64):
                z = np.random.default_rng(0).standard_normal((batch, generator.latent_dim)).astype(np.float32)
                z_tf = tf.constant(z)
                tf_rate = best_rate(lambda: signature(z=z_tf)["images"].numpy(), batch, args.calls, args.repeats)
                ort_rate = best_rate(lambda: session.run(None, {"z": z}), batch, args.calls, args.repeats)
                rows.append(f"| {label} | {batch} | {tf_rate:,.0f} | {ort_rate:,.0f} | {ort_rate / tf_rate:.2f} |")
                print(rows[-1], flush=True)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
