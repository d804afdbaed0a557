"""Step time per phase of progressive growing: does a 4x4 step cost what a 4x4 network costs?

    python benchmarks/pggan.py [--repeats 3] [--steps 60] [--config configs/pggan_mnist.yaml]

Builds the config's GAN (on the real MNIST test split padded to 32x32 where
../shared/data/mnist-t10k holds it, else on random 32x32 images: the arithmetic is
the same) and times training steps in every phase, in the stable part (alpha 1)
and, for the phases that grow, in the fade-in (alpha < 1, where G, D and the real
images blend two resolutions). Each phase is timed as `fit` runs it: the step
function traced for that phase alone. The phases are timed in turn, `--repeats`
rounds, and the script prints the median ms/step of each, and each phase's ratio
to the 4x4 phase taken within each round (these machines are noisy).
"""

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MNIST = os.path.join(ROOT, "..", "shared", "data", "mnist-t10k", "t10k-images-idx3-ubyte.gz")
sys.path.insert(0, HERE)


def build(config_path):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tempfile

    import numpy as np

    from tfgan import config as config_lib
    from tfgan import data, training

    overrides = ["train.jit_compile=auto"]
    if os.path.exists(MNIST):
        overrides += ["data.source=idx", f"data.path={MNIST}"]
        config = config_lib.load(config_path, overrides)
        examples = data.load(config.data, False, config.seed)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "images.npz")
            np.savez(path, x=np.random.default_rng(0).integers(0, 256, (2048, 28, 28, 1), dtype=np.uint8))
            config = config_lib.load(config_path, overrides + ["data.source=npz", f"data.path={path}"])
            examples = data.load(config.data, False, config.seed)
    return config, examples, training.build_gan(config, examples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=os.path.join(ROOT, "configs", "pggan_mnist.yaml"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60, help="timed steps per phase and round")
    args = parser.parse_args()
    from speed import timed_fit

    from tfgan import training

    config, examples, gan = build(args.config)
    parts = []  # (label, phase, step to time from)
    for phase in config.schedule.phases:
        if phase.fades:
            parts.append((f"{phase.resolution}x{phase.resolution} fade", phase, phase.start))
        parts.append((f"{phase.resolution}x{phase.resolution} stable", phase, phase.start + phase.fade_steps))
    times = {label: [] for label, _, _ in parts}
    for round_ in range(args.repeats):
        for label, phase, step in parts:
            gan.step.assign(step)
            training.enter_phase(gan, config, phase, fresh=False)
            dataset = examples.dataset(phase.examples_per_step, config.seed, resolution=phase.resolution)
            times[label].append(1000.0 / timed_fit(gan, dataset, args.steps))
            print(f"round {round_ + 1}: {label} {times[label][-1]:.1f} ms/step", flush=True)
    base = parts[0][0]
    print(f"{'phase':>14}  {'ms/step':>8}  {'/ ' + base:>14}  (median of {args.repeats}; batch {config.train.batch_size})")
    for label, _, _ in parts:
        ratios = [t / b for t, b in zip(times[label], times[base])]
        print(f"{label:>14}  {statistics.median(times[label]):8.1f}  {statistics.median(ratios):13.2f}x")


if __name__ == "__main__":
    main()
