"""tfgan's MNIST configs against the keras.io-style DCGAN at equal wall time (benchmarks/quality.py --only baseline).

The baseline is ../shared/bench/ref_keras_mnist.py: the keras.io DCGAN (G 7x7x256 -> 128 -> 64 -> 1 with
batch norm, D 64 -> 128 with dropout, Adam 2e-4 / 0.5, batch 64) trained for a number of seconds on the
same 10,000 digits. For each seed, `dcgan_mnist` trains as shipped, the baseline then trains for the
seconds dcgan_mnist took, and `gan_mnist` trains as shipped; all three are scored by
benchmarks/mnist_protocol.py, and the table gives each run's Fréchet distance over the baseline's of the
same seed. On seed 0 dcgan_mnist keeps a checkpoint every 1,000 steps and the baseline also
trains for 1/8, 1/4 and 1/2 of the time, which gives the Fréchet distance against CPU time of both.
"""

import os
import re
import subprocess
import sys

import numpy as np

import mnist_protocol as protocol

REFERENCE = os.path.join(protocol.HERE, "..", "..", "shared", "bench", "ref_keras_mnist.py")
CURVE_FRACTIONS = (0.125, 0.25, 0.5)


def train_reference(seconds, seed, out):
    """Trains the baseline for `seconds` and returns (its 5,000 samples, steps trained)."""
    result = subprocess.run([sys.executable, REFERENCE, "--seconds", f"{seconds:.0f}", "--seed", str(seed), "--out", out],
                            capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{REFERENCE} failed:\n{result.stderr[-2000:]}")
    steps = int(re.search(r"trained (\d+) steps", result.stdout).group(1))
    return np.load(out)["images"], steps


def equal_time(setup, seeds, train, extra, others=("gan_mnist",)):
    """Markdown: the table over `seeds`, the ratios, and the curve's table; writes the curve and the grids.
    dcgan_mnist trains first (the baseline gets the seconds it took), then the configs of `others`."""
    from tfgan import visualize
    from tfgan.evaluate import report

    extractor, reference = setup["extractor"], setup["reference"]

    def score(samples):
        return protocol.scores(*extractor.extract(protocol.crop(samples, 0)), reference)

    names = ("dcgan_mnist", *others)
    rows, ratios, curve = [], {name: [] for name in names}, {}
    for seed in seeds:
        found = {}
        for name in names:
            run_dir = os.path.join(protocol.RESULTS, f"{name}_seed{seed}_t10k")
            keep = ["checkpoint.every=1000", "checkpoint.keep=1000"] if seed == 0 and name == "dcgan_mnist" else []
            gan, config, seconds = train(name, [*setup["data_overrides"], f"run_dir={run_dir}", f"seed={seed}", "log.verbose=0", *keep, *extra])
            samples, _ = report.draw(gan.sampler, protocol.MNIST_SAMPLES, seed=11)
            found[name] = (score(samples), f"`{name}` ({config.train.steps:,} steps, {seconds:.0f} s)", seconds)
            if seed == 0:
                protocol.write_grid(gan, os.path.join(protocol.RESULTS, f"{name}_samples.png"))
                if name == "dcgan_mnist":
                    curve[name] = _checkpoint_curve(config.run_dir, config.train.steps, seconds, score)
        budget = found["dcgan_mnist"][2]
        images, steps = train_reference(budget, seed, os.path.join(protocol.RESULTS, f"baseline_seed{seed}.npz"))
        found["baseline"] = (score(images), f"keras.io-style DCGAN ({steps:,} steps, {budget:.0f} s)", budget)
        if seed == 0:
            visualize.write_png(os.path.join(protocol.RESULTS, "baseline_samples.png"), visualize.image_grid(images[:64], rows=8))
            curve["keras.io-style DCGAN"] = [(budget * f, score(train_reference(budget * f, seed, os.path.join(protocol.RESULTS, "baseline_curve.npz"))[0])["fd"])
                                             for f in CURVE_FRACTIONS] + [(budget, found["baseline"][0]["fd"])]
        for name in ("baseline", *names):
            s, label, _ = found[name]
            ratio = s["fd"] / found["baseline"][0]["fd"]
            if name != "baseline":
                ratios[name].append(ratio)
            rows.append(f"| {seed} | {label} | {s['fd']:.2f} | **{ratio:.2f}** | {s['kid']:.3g} (std {s['kid_std']:.2g}) | {s['precision']:.3f} / {s['recall']:.3f} "
                        f"| {100 * s['confident']:.1f}% | {s['covered']}/10 |")
            print(rows[-1], flush=True)
    real = setup["floor"].split("|")
    table = ["| seed | samples | Fréchet distance | ÷ baseline's | KID | precision / recall | confident digits | classes covered |",
             "|---|---|---|---|---|---|---|---|", f"| – | real: the other 5,000 images (the floor) | {real[2].strip()} | – | {'|'.join(real[3:7])} |", *rows]
    summary = [f"{name}: Fréchet distance ÷ the baseline's at equal time, per seed: {', '.join(f'{r:.2f}' for r in values)} "
               f"(mean {np.mean(values):.2f})" for name, values in ratios.items()]
    sections = ["\n".join(table), "\n".join(summary)]
    if curve:  # seed 0 was among the seeds
        _plot(curve, os.path.join(protocol.RESULTS, "fd_vs_time.png"))
        sections.append("\n".join(["| run | (seconds, Fréchet distance) |", "|---|---|",
                                   *(f"| {name} | " + ", ".join(f"({t:.0f}, {fd:.1f})" for t, fd in points) + " |" for name, points in curve.items())]))
        sections.append("curve: benchmarks/results/fd_vs_time.png")
    return "\n\n".join(sections)


def _checkpoint_curve(run_dir, steps, seconds, score):
    """[(seconds into the run, Fréchet distance)] of the run's checkpoints (every 1,000 steps)."""
    start = os.path.getmtime(os.path.join(run_dir, "config.yaml"))  # written as the run starts
    points = []
    for step in range(1000, steps + 1, 1000):
        generator, elapsed = protocol.checkpoint(run_dir, step, start)
        z = protocol.latents(generator, protocol.MNIST_SAMPLES, seed=11)
        samples = np.concatenate([generator(z[j : j + 500], training=False).numpy() for j in range(0, protocol.MNIST_SAMPLES, 500)])
        points.append((elapsed, score(samples)["fd"]))
    return points


def _plot(curve, path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(5, 3.2), dpi=100)
    for name, points in curve.items():
        axes.plot(*zip(*points), marker="o", markersize=3, label=name)
    axes.set_xlabel("seconds of training (2-core CPU)")
    axes.set_ylabel("Fréchet distance (tfgan's classifier)")
    axes.set_yscale("log")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
