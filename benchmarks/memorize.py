"""How fast a generator can fit: python benchmarks/memorize.py [--steps 300] [--lr 2.5e-3] [--beta-1 0]

A probe of the generators' capacity and conditioning, apart from any GAN dynamics:
each network regresses 64 real MNIST digits (padded to 32x32, ../shared/data/mnist-t10k)
from 64 fixed z by mean squared error, full batch, with Adam, and the script prints the
loss at the start and, every 100 steps, its mean over the last 10, beside the floor of
predicting the mean digit. Rows:

- dcgan: tfgan's DCGAN generator (batch norm);
- stylegan2: the StyleGAN2 generator of configs/stylegan2_mnist.yaml (noise off);
- stylegan2, free ws: its synthesis network alone, each digit's ws a variable of its own
  (GAN inversion's setting): what synthesis can fit whatever the mapping does.

Written to chase the StyleGAN2 configs' mode collapse (README, StyleGAN2: "Not yet done").
"""

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def digits(mnist_dir, num=64):
    from tfgan import config as config_lib
    from tfgan import data

    overrides = ["data.source=idx", f"data.path={os.path.join(mnist_dir, 't10k-images-idx3-ubyte.gz')}", "data.pad=2"]
    return data.load(config_lib.from_overrides(overrides).data, False, 0).samples[:num].astype(np.float32) / 127.5 - 1.0


def fit(name, targets, steps, lr, beta_1):
    """The losses at step 0 and each 100th; weights seeded, so a row is the same every run."""
    import tensorflow as tf

    from tfgan.networks.base import seeded_weights

    z = tf.random.stateless_normal([len(targets), 64], seed=[3, 0])
    with seeded_weights(0):
        return _fit(name, targets, steps, lr, beta_1, z)


def _fit(name, targets, steps, lr, beta_1, z):
    import keras
    import tensorflow as tf

    from tfgan.networks import dcgan, stylegan2

    if name == "dcgan":
        generator = dcgan.DCGANGenerator(targets.shape[1:], latent_dim=64, filters=64)
        variables, draw = None, lambda: generator(z, training=True)
    else:
        generator = stylegan2.StyleGAN2Generator(
            targets.shape[1:], latent_dim=64, w_dim=64, mapping_layers=2, channel_base=1024, channel_max=64, style_mixing=0.0,
        )
        if name == "stylegan2":
            variables, draw = None, lambda: generator(z, training=True, noise="none")
        else:
            ws = keras.Variable(generator.broadcast(generator.mapping(z)), name="ws")
            variables = generator.synthesis_network.trainable_variables + [ws]
            draw = lambda: generator.synthesis(ws, training=True, noise="none")  # noqa: E731
    draw()  # builds the networks (with the seeded initial weights)
    # Noise off: its strengths get no gradient, and Keras would warn of each.
    variables = [v for v in variables or generator.trainable_variables if "noise_strength" not in v.path]
    optimizer = keras.optimizers.Adam(lr, beta_1=beta_1, beta_2=0.99, epsilon=1e-8)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(draw() - targets))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    losses = [float(step()) for _ in range(steps + 1)]
    return [losses[0]] + [float(np.mean(losses[s - 9 : s + 1])) for s in range(100, steps + 1, 100)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=2.5e-3)
    parser.add_argument("--beta-1", type=float, default=0.0)
    parser.add_argument("--mnist-dir", default=os.path.join(ROOT, "..", "shared", "data", "mnist-t10k"))
    args = parser.parse_args()
    targets = digits(args.mnist_dir)
    floor = float(np.mean(np.square(targets - targets.mean(axis=0))))
    marks = list(range(0, args.steps + 1, 100))
    print(f"MSE fitting 64 digits, Adam({args.lr}, beta_1 {args.beta_1}, beta_2 0.99); the mean digit scores {floor:.4f}\n")
    print("| generator | " + " | ".join(f"step {s}" for s in marks) + " |")
    print("|---" * (len(marks) + 1) + "|")
    for name in ("dcgan", "stylegan2", "stylegan2, free ws"):
        losses = fit(name, targets, args.steps, args.lr, args.beta_1)
        print(f"| {name} | " + " | ".join(f"{loss:.4f}" for loss in losses) + " |", flush=True)


if __name__ == "__main__":
    main()
