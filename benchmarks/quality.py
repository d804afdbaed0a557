"""Sample quality of the shipped configs: python benchmarks/quality.py [--only ring,grid,dcgan_mnist]

- ring and grid: train the shipped config on several seeds, draw 2,500 samples,
  and report modes captured, % high-quality samples (within 3 std of the nearest
  centre) and the reverse KL of the mode histogram, with the wall time per run.
- dcgan_mnist: train DCGAN on the real MNIST test split (10,000 images, read
  from ../shared/data/mnist-t10k or --mnist-dir) and write a sample grid.

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


def dcgan_mnist(mnist_dir, extra):
    from tfgan import visualize

    run_dir = os.path.join(HERE, "results", "dcgan_mnist_t10k")
    gan, config, seconds = train(
        "dcgan_mnist",
        [
            "data.source=idx",
            f"data.path={os.path.join(mnist_dir, 't10k-images-idx3-ubyte.gz')}",
            f"data.labels_path={os.path.join(mnist_dir, 't10k-labels-idx1-ubyte.gz')}",
            f"run_dir={run_dir}",
            "log.verbose=0",
            *extra,
        ],
    )
    path = os.path.join(HERE, "results", "dcgan_mnist_samples.png")
    visualize.write_png(path, visualize.image_grid(gan.generate(64, seed=7).numpy(), rows=8))
    print(f"dcgan_mnist: {config.train.steps} steps in {seconds:.0f} s; samples in {path}", flush=True)
    return f"| dcgan_mnist (t10k) | 1 | samples: {os.path.relpath(path, ROOT)} | | | {seconds:.0f} s |"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="ring,grid,dcgan_mnist")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--mnist-dir", default=os.path.join(ROOT, "..", "shared", "data", "mnist-t10k"))
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], help="config overrides for every run")
    args = parser.parse_args()
    table = ["| config | seeds | modes captured | % high quality | reverse KL | time per run |", "|---|---|---|---|---|---|"]
    for name in args.only.split(","):
        if name in ("ring", "grid"):
            table.append(mixture(name, range(args.seeds), args.overrides))
        elif name == "dcgan_mnist":
            table.append(dcgan_mnist(args.mnist_dir, args.overrides))
        else:
            parser.error(f"unknown benchmark {name!r}; expected ring, grid or dcgan_mnist")
    print("\n".join(table))


if __name__ == "__main__":
    main()
