"""Sample quality of the shipped configs: python benchmarks/quality.py [--only ring,grid,dcgan_mnist,cgan_mnist]

- ring and grid: train the shipped config on several seeds, draw 2,500 samples,
  and report modes captured, % high-quality samples (within 3 std of the nearest
  centre) and the reverse KL of the mode histogram, with the wall time per run.
- dcgan_mnist, cgan_mnist: train on the real MNIST test split (10,000 images,
  read from ../shared/data/mnist-t10k or --mnist-dir) and write a sample grid;
  for the cGAN, also the share of G(z, label) that a nearest-class-mean
  classifier assigns to the requested class.

Runs go under benchmarks/results/ (git-ignored). Prints a Markdown table.
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tfgan import config as config_lib  # noqa: E402

NUM_SAMPLES = 2500


def train(config_name, overrides):
    from tfgan import training

    config = config_lib.load(os.path.join(ROOT, "configs", f"{config_name}.yaml"), overrides)
    if os.path.exists(config.run_dir):
        import shutil

        shutil.rmtree(config.run_dir)
    start = time.perf_counter()
    gan = training.train(config)
    return gan, config, time.perf_counter() - start


def mixture(name, seeds, extra):
    from tfgan.data import mixtures
    from tfgan.metrics import mode_report

    rows = []
    for seed in seeds:
        run_dir = os.path.join(HERE, "results", f"{name}_seed{seed}")
        gan, config, seconds = train(name, [f"seed={seed}", f"run_dir={run_dir}", "log.verbose=0", *extra])
        samples = gan.generate(NUM_SAMPLES, seed=1000 + seed).numpy()
        report = mode_report(samples, mixtures.centres(name), mixtures.std(name))
        print(f"{name} seed {seed}: {report} ({seconds:.0f} s, {config.train.steps} steps)", flush=True)
        rows.append((report, seconds))
    modes = [r.modes_captured for r, _ in rows]
    quality = [100 * r.high_quality for r, _ in rows]
    kl = [r.reverse_kl for r, _ in rows]
    seconds = [s for _, s in rows]
    return (
        f"| {name} | {len(seeds)} | {np.mean(modes):.2f} (min {min(modes)}) / {rows[0][0].num_modes} "
        f"| {np.mean(quality):.1f} (min {min(quality):.1f}) | {np.mean(kl):.3f} | {max(seconds):.0f} s |"
    )


def mnist(name, mnist_dir, extra):
    """Trains `name` (dcgan_mnist or cgan_mnist) on the MNIST test split; writes a sample grid."""
    from tfgan import data, visualize

    run_dir = os.path.join(HERE, "results", f"{name}_t10k")
    gan, config, seconds = train(
        name,
        [
            "data.source=idx",
            f"data.path={os.path.join(mnist_dir, 't10k-images-idx3-ubyte.gz')}",
            f"data.labels_path={os.path.join(mnist_dir, 't10k-labels-idx1-ubyte.gz')}",
            f"run_dir={run_dir}",
            "log.verbose=0",
            *extra,
        ],
    )
    path = os.path.join(HERE, "results", f"{name}_samples.png")
    labels = np.repeat(np.arange(10), 8) if gan.num_classes else None
    images = gan.generate(80 if gan.num_classes else 64, labels=labels, seed=7).numpy()
    visualize.write_png(path, visualize.image_grid(images, rows=10 if gan.num_classes else 8))
    print(f"{name}: {config.train.steps} steps in {seconds:.0f} s; samples in {path}", flush=True)
    note = f"samples: {os.path.relpath(path, ROOT)}"
    if gan.num_classes:
        # Until tfgan trains its own classifier (the evaluation issue), a nearest-class-mean
        # classifier on the real digits judges whether G(z, label) draws the digit asked for.
        examples = data.load(config.data, True, 0)
        real = examples.samples.astype(np.float32) / 127.5 - 1.0
        means = np.stack([real[examples.labels == k].mean(0).ravel() for k in range(10)])
        asked = np.arange(2000) % 10
        fake = gan.generate(2000, labels=asked, seed=11).numpy()
        accuracy = np.mean(_nearest_mean(fake, means) == asked)
        ceiling = np.mean(_nearest_mean(real, means) == examples.labels)
        note += f"; requested-class accuracy {100 * accuracy:.1f}% (nearest class mean; {100 * ceiling:.1f}% on real digits)"
        print(f"{name}: {note}", flush=True)
    return f"| {name} (t10k) | 1 | {note} | | | {seconds:.0f} s |"


def _nearest_mean(images, means):
    flat = images.reshape(len(images), -1)
    distances = (flat**2).sum(1)[:, None] - 2 * flat @ means.T + (means**2).sum(1)[None]
    return distances.argmin(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="ring,grid,dcgan_mnist,cgan_mnist")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--mnist-dir", default=os.path.join(ROOT, "..", "shared", "data", "mnist-t10k"))
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], help="config overrides for every run")
    args = parser.parse_args()
    table = ["| config | seeds | modes captured | % high quality | reverse KL | time per run |", "|---|---|---|---|---|---|"]
    for name in args.only.split(","):
        if name in ("ring", "grid"):
            table.append(mixture(name, range(args.seeds), args.overrides))
        elif name in ("dcgan_mnist", "cgan_mnist"):
            table.append(mnist(name, args.mnist_dir, args.overrides))
        else:
            parser.error(f"unknown benchmark {name!r}; expected ring, grid, dcgan_mnist or cgan_mnist")
    print("\n".join(table))


if __name__ == "__main__":
    main()
