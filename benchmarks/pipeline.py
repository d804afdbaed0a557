"""Input pipeline throughput against what training consumes.

    python benchmarks/pipeline.py [--mnist-dir ../shared/data/mnist-t10k]

Reads the real MNIST test split (10,000 images) through tfgan's own pipeline
(`tfgan.data.load` + `Examples.dataset`: in-memory uint8, seeded order, parallel
gather-and-scale, prefetch) and counts examples per second, then trains the
fastest consumer tfgan ships for 28x28 data, the MLP GAN of configs/gan_mnist.yaml
(XLA; without its dropout and EMA), on the same data, and prints both and their ratio. Both run in this
process, one after the other, and for DCGAN's slower step the ratio is larger.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BATCH = 64


def examples_per_second(dataset, batches, batch_size, warmup=50):
    """How fast an iterator over `dataset` hands over `batches` batches, after `warmup`."""
    iterator = iter(dataset)
    for _ in range(warmup):  # fill the prefetch buffer, let AUTOTUNE settle
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def pipeline_rate(examples, batches, deterministic):
    return examples_per_second(examples.dataset(BATCH, seed=0, deterministic=deterministic), batches, BATCH)


def training_rate(config, examples, steps):
    from speed import timed_fit  # benchmarks/ is on sys.path when this script runs

    from tfgan import training

    gan = training.build_gan(config, examples)
    return timed_fit(gan, examples.dataset(BATCH, config.seed), steps) * BATCH


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist-dir", default=os.path.join(ROOT, "..", "shared", "data", "mnist-t10k"))
    parser.add_argument("--batches", type=int, default=2000)
    args = parser.parse_args()

    from tfgan import config as config_lib
    from tfgan import data

    config = config_lib.load(os.path.join(ROOT, "configs", "gan_mnist.yaml"), [
        "data.source=idx", f"data.path={os.path.join(args.mnist_dir, 't10k-images-idx3-ubyte.gz')}",
        f"train.batch_size={BATCH}",
        # The plain MLP (no dropout masks, no EMA): the fastest consumer tfgan has, as before gan_mnist was tuned.
        "model.mlp.d_dropout=0", "train.ema_decay=0",
    ])
    examples = data.load(config.data, False, config.seed)
    fed = {d: pipeline_rate(examples, args.batches, d) for d in (True, False)}
    eaten = training_rate(config, examples, steps=400)
    print("| pipeline | examples/s | x training's need |\n|---|---|---|")
    for deterministic, rate in fed.items():
        print(f"| tfgan pipeline, deterministic={str(deterministic).lower()} | {rate:,.0f} | {rate / eaten:.1f} |")
    print(f"| MLP GAN training (gan_mnist.yaml, batch {BATCH}) consumes | {eaten:,.0f} | 1.0 |")


if __name__ == "__main__":
    main()
