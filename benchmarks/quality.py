"""Sample quality of the shipped configs: python benchmarks/quality.py [--only ring,grid,mnist] [--seeds 10]

- ring and grid (the PacGAN protocol): train the shipped config on each seed,
  draw 2,500 samples, and report modes captured, % high-quality samples (within
  3 std of the nearest centre) and the reverse KL of the mode histogram, as
  mean ± standard error over the seeds, with the wall time per run.
- mnist: on the real MNIST test split (10,000 images, ../shared/data/mnist-t10k
  or --mnist-dir), trains tfgan's classifier (python -m tfgan.evaluate
  train-classifier: 80% to train, 20% held out for its accuracy), then
  dcgan_mnist (non-saturating loss), the same with the minimax loss, and
  cgan_mnist. For each: Fréchet distance and KID in the classifier's feature
  space between 5,000 samples and the 5,000 real images (a random
  half), next to the floor (the other half against the same), precision/recall,
  classes covered, and for the cGAN the requested-class accuracy. The two
  DCGAN runs log the Fréchet distance every 500 steps (the `eval:` block), which
  shows how each loss starts. Sample grids go to benchmarks/results/.

Runs go under benchmarks/results/ (git-ignored). Prints Markdown tables.
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
        f"| {name} | {len(seeds)} | {_mean_se(modes, 2)} (min {min(modes)}) / {rows[0][0].num_modes} "
        f"| {_mean_se(quality, 1)} (min {min(quality):.1f}) | {_mean_se(kl, 3)} (max {max(kl):.3f}) "
        f"| {min(seconds):.0f}–{max(seconds):.0f} s |"
    )


def _mean_se(values, digits):
    values = np.asarray(values, float)
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{values.mean():.{digits}f} ± {se:.{digits}f}"


# --- MNIST: the classifier's feature space ---

MNIST_SAMPLES = 5000
COVERED = 0.01  # a class is covered when at least 1% of the samples are classified as it


def mnist(mnist_dir, extra):
    from tfgan import data
    from tfgan.evaluate import classifier, features, report

    images = os.path.join(mnist_dir, "t10k-images-idx3-ubyte.gz")
    labels = os.path.join(mnist_dir, "t10k-labels-idx1-ubyte.gz")
    data_overrides = ["data.source=idx", f"data.path={images}", f"data.labels_path={labels}"]
    examples = data.load(config_lib.from_overrides(data_overrides).data, True, 0)
    start = time.perf_counter()
    model, accuracy = classifier.train_classifier(examples, epochs=5, held_out=0.2)
    path = os.path.join(HERE, "results", "mnist_classifier.keras")
    classifier.save_classifier(model, path, overwrite=True)
    print(f"classifier: held-out accuracy {100 * accuracy:.2f}% on 2,000 digits ({time.perf_counter() - start:.0f} s)", flush=True)
    extractor = features.classifier(path)
    # Two random halves: the file's first 5,000 digits come from other writers than its last 5,000.
    real = classifier.scale(examples.samples[np.random.default_rng(0).permutation(len(examples.samples))])
    reference, _ = extractor.extract(real[:MNIST_SAMPLES])
    held_out, held_out_probabilities = extractor.extract(real[MNIST_SAMPLES:])
    rows = [_feature_row("real: the other 5,000 images (the floor)", held_out, held_out_probabilities, reference, None, None)]
    curves = {}
    eval_block = ["eval.every=500", "eval.metrics=[frechet_distance]", f"eval.features=classifier:{path}", "eval.samples=2000",
                  f"eval.cache={os.path.join(HERE, 'results', 'cache')}"]
    for label, name, loss in (("dcgan_mnist", "dcgan_mnist", "non_saturating"), ("dcgan_mnist, minimax loss", "dcgan_mnist", "minimax"),
                              ("cgan_mnist", "cgan_mnist", None)):
        tag = label.replace(", minimax loss", "_minimax")
        overrides = [*data_overrides, f"run_dir={os.path.join(HERE, 'results', f'{tag}_t10k')}", "log.verbose=0", *extra]
        if loss:
            overrides += [f"loss.name={loss}", *eval_block]
        gan, config, seconds = train(name, overrides)
        samples, requested = report.draw(gan.sampler, MNIST_SAMPLES, seed=11)
        fake, probabilities = extractor.extract(samples)
        rows.append(_feature_row(f"`{label}` ({config.train.steps} steps, {seconds:.0f} s)", fake, probabilities, reference, requested, accuracy))
        _write_grid(gan, os.path.join(HERE, "results", f"{tag}_samples.png"))
        if loss:
            curves[label] = _eval_curve(config.run_dir)
        print(rows[-1], flush=True)
    table = ["| samples | Fréchet distance | KID | precision / recall | classes covered | requested-class accuracy |",
             "|---|---|---|---|---|---|", *rows]
    steps = sorted(next(iter(curves.values())))
    curve = ["| Fréchet distance at step | " + " | ".join(str(s) for s in steps) + " |", "|---" * (len(steps) + 1) + "|"]
    curve += [f"| {label} | " + " | ".join(f"{values[s]:.1f}" for s in steps) + " |" for label, values in curves.items()]
    return "\n".join(table) + "\n\n" + "\n".join(curve)


def _feature_row(label, fake, probabilities, reference, requested, ceiling):
    from tfgan import metrics

    fd = metrics.frechet_distance(metrics.GaussianStats.of(reference), metrics.GaussianStats.of(fake))
    kid, kid_std = metrics.kernel_inception_distance(reference, fake)
    precision, recall = metrics.precision_recall(reference, fake)
    shares = np.bincount(probabilities.argmax(1), minlength=10) / len(probabilities)
    covered = int((shares >= COVERED).sum())
    accuracy = "–"
    if requested is not None:
        accuracy = f"**{100 * metrics.class_accuracy(probabilities, requested):.1f}%** (classifier: {100 * ceiling:.1f}%)"
    return f"| {label} | {fd:.2f} | {kid:.3g} (std {kid_std:.2g}) | {precision:.3f} / {recall:.3f} | {covered}/10 | {accuracy} |"


def _write_grid(gan, path):
    from tfgan import visualize

    labels = np.repeat(np.arange(10), 8) if gan.num_classes else None
    images = gan.generate(80 if gan.num_classes else 64, labels=labels, seed=7).numpy()
    visualize.write_png(path, visualize.image_grid(images, rows=10 if gan.num_classes else 8))


def _eval_curve(run_dir):
    from tensorboard.backend.event_processing import event_accumulator

    import tensorflow as tf

    events = event_accumulator.EventAccumulator(os.path.join(run_dir, "tensorboard"), size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    return {e.step: float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors("eval/frechet_distance")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="ring,grid,mnist")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--mnist-dir", default=os.path.join(ROOT, "..", "shared", "data", "mnist-t10k"))
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], help="config overrides for every run")
    args = parser.parse_args()
    table = ["| config | seeds | modes captured | % high quality | reverse KL | time per run |", "|---|---|---|---|---|---|"]
    mixtures_run, mnist_table = False, None
    for name in args.only.split(","):
        if name in ("ring", "grid"):
            table.append(mixture(name, range(args.seeds), args.overrides))
            mixtures_run = True
        elif name == "mnist":
            mnist_table = mnist(args.mnist_dir, args.overrides)
        else:
            parser.error(f"unknown benchmark {name!r}; expected ring, grid or mnist")
    if mixtures_run:
        print("\n".join(table) + "\n")
    if mnist_table:
        print(mnist_table)


if __name__ == "__main__":
    main()
