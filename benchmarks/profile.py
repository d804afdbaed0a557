"""What bounds a training step: FLOPs, the CPU's matmul rate, and the TensorBoard profiler.

    python benchmarks/profile.py [--arch dcgan|mlp|dcgan_own] [--steps 20] [--logdir /tmp/tfgan_profile]
                                 [--set key=value ...]

For the step that `benchmarks/speed.py` times (same networks, batch 64, 28x28):

1. counts the step's floating-point operations from its traced graph (every
   MatMul and convolution, forward and backward, with their static shapes);
2. measures the rate this machine reaches on a large float32 matmul: the
   practical peak of its vector units, with both cores busy;
3. times the step, so that FLOPs x steps/s is the rate the step reaches;
4. records `--steps` steps with the TensorBoard profiler (`tensorboard --logdir
   LOGDIR`, Profile tab) and prints where the time goes, by op type, from the
   profiler's own framework_op_stats (needs `pip install tensorboard-plugin-profile`).
"""

import argparse
import glob
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import speed  # noqa: E402  (the timed setup, reused as is)

CONV_OPS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")


def step_flops(gan, batch_shape):
    """FLOPs of one train_step, from its graph: 2 x multiply-adds of every matmul and convolution."""
    import numpy as np
    import tensorflow as tf

    graph = tf.function(gan.train_step).get_concrete_function(tf.TensorSpec(batch_shape, tf.float32)).graph
    total = 0
    for op in graph.get_operations():
        if op.type == "MatMul":
            a, b = op.inputs[0].shape, op.inputs[1].shape
            rows = a[1] if op.get_attr("transpose_a") else a[0]
            inner = a[0] if op.get_attr("transpose_a") else a[1]
            cols = b[0] if op.get_attr("transpose_b") else b[1]
            total += 2 * rows * inner * cols
        elif op.type in CONV_OPS:
            # The same convolution read three ways: y = conv(x, w), dx, dw. Each costs
            # 2 * |y| * kh * kw * c_in, with w of shape [kh, kw, c_in, c_out].
            filters = op.inputs[1].shape if op.type != "Conv2DBackpropFilter" else op.outputs[0].shape
            y = op.outputs[0].shape if op.type == "Conv2D" else op.inputs[2].shape
            total += 2 * int(np.prod(y)) * filters[0] * filters[1] * filters[2]
    return total


def matmul_rate(n=2048, repeats=20):
    import tensorflow as tf

    a = tf.random.normal([n, n])

    @tf.function
    def chain(x):
        for _ in range(repeats):
            x = tf.matmul(x, a) * (1.0 / n)  # rescaled so the values stay finite
        return x

    chain(a).numpy()
    start = time.perf_counter()
    chain(a).numpy()
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def op_time_by_type(logdir):
    """Self time per op type (ms per step is left to the caller) from the profiler's xplane."""
    from xprof.convert import raw_to_tool_data

    xspace = sorted(glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb")))[-1]
    data, _ = raw_to_tool_data.xspace_to_tool_data([xspace], "framework_op_stats", {})
    table = json.loads(data)
    table = table[0] if isinstance(table, list) else table
    columns = [c["id"] for c in table["cols"]]
    by_type = {}
    for row in table["rows"]:
        values = dict(zip(columns, (cell["v"] for cell in row["c"])))
        if values.get("host_or_device") not in (None, "Host"):
            continue
        kind = values["type"]
        if kind == "IDLE":  # the profiler's name for threads waiting, not an op
            continue
        by_type[kind] = by_type.get(kind, 0.0) + values["total_self_time"]  # microseconds
    return by_type


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="dcgan", choices=["mlp", "dcgan", "dcgan_own"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--logdir", default="/tmp/tfgan_profile")
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[])
    args = parser.parse_args()

    import tensorflow as tf

    gan, dataset, config = speed.build(args.arch, args.overrides)
    flops = step_flops(gan, [speed.BATCH * gan.d_steps, 28, 28, 1])
    rate = speed.timed_fit(gan, dataset, max(args.steps, 30))
    peak = matmul_rate()
    print(f"{args.arch}: {flops / 1e9:.2f} GFLOP per step, {rate:.2f} steps/s "
          f"-> {flops * rate / 1e9:.0f} GFLOP/s; float32 matmul on this machine: {peak / 1e9:.0f} GFLOP/s "
          f"(step at {100 * flops * rate / peak:.0f}% of it); xla {gan.jit_compile}")

    tf.profiler.experimental.start(args.logdir)
    gan.fit(dataset, steps_per_epoch=args.steps, epochs=1, verbose=0)
    tf.profiler.experimental.stop()
    try:
        by_type = op_time_by_type(args.logdir)
    except ImportError:
        print(f"profile written to {args.logdir}; pip install tensorboard-plugin-profile for the op table")
        return
    total = sum(by_type.values())
    print(f"\nop self time over {args.steps} steps ({total / 1e3 / args.steps:.1f} ms/step in ops):")
    print("| op type | ms/step | share |\n|---|---|---|")
    for kind, micros in sorted(by_type.items(), key=lambda kv: -kv[1])[:15]:
        print(f"| {kind} | {micros / 1e3 / args.steps:.2f} | {100 * micros / total:.1f}% |")


if __name__ == "__main__":
    main()
