"""One config with overrides, trained on the MNIST test split and scored by the MNIST protocol of
benchmarks/quality.py: the screening runs behind docs/dcgan_tuning.md.

    python benchmarks/screen.py dcgan_mnist --set train.steps=5000 model.dcgan.d_norm=none
    python benchmarks/screen.py dcgan_mnist --set train.ema_decay=0.999 checkpoint.every=1000 --curve

Prints one JSON line per scored generator: Fréchet distance, confident digits (%), precision,
recall, classes covered, and the step and seconds into the run. `--curve` scores every checkpoint
the run kept (the EMA of G and, where the run keeps one, G itself), not only the last.
`--classifier` reuses a classifier that quality.py trained (benchmarks/results/mnist_classifier.keras)
instead of training one; the scores are only comparable within one classifier.
"""

import argparse
import glob
import json
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import mnist_protocol as protocol  # noqa: E402
import quality  # noqa: E402


def reference_features(mnist_dir, classifier_path):
    """(extractor, the real half's features) of an existing classifier, as protocol.setup draws them."""
    from tfgan import config as config_lib
    from tfgan import data
    from tfgan.evaluate import classifier, features

    overrides = ["data.source=idx", f"data.path={os.path.join(mnist_dir, 't10k-images-idx3-ubyte.gz')}",
                 f"data.labels_path={os.path.join(mnist_dir, 't10k-labels-idx1-ubyte.gz')}"]  # for model.conditional=true
    examples = data.load(config_lib.from_overrides(overrides).data, False, 0)
    extractor = features.classifier(classifier_path)
    real = classifier.scale(examples.samples[np.random.default_rng(0).permutation(len(examples.samples))])
    return extractor, extractor.extract(real[: protocol.MNIST_SAMPLES])[0], overrides


def checkpoint_generators(run_dir, last_only):
    """Yields (label, step, seconds into the run, generator) for the run's checkpoints."""
    import tensorflow as tf

    from tfgan.callbacks.checkpoint import network_weights
    from tfgan.hooks import GeneratorEMA

    start = os.path.getmtime(os.path.join(run_dir, "config.yaml"))  # written as the run starts
    steps = sorted(int(re.search(r"ckpt-(\d+)\.index$", f).group(1)) for f in glob.glob(os.path.join(run_dir, "checkpoints", "ckpt-*.index")))
    for step in steps[-1:] if last_only else steps:
        generator, elapsed = protocol.checkpoint(run_dir, step, start)  # the EMA where the run keeps one
        path = os.path.join(run_dir, "checkpoints", f"ckpt-{step}")
        if GeneratorEMA.CHECKPOINT_KEY not in {name.split("/")[0] for name, _ in tf.train.list_variables(path)}:
            yield "G", step, elapsed, generator
            continue
        yield "EMA of G", step, elapsed, generator
        tf.train.Checkpoint(generator=network_weights(generator)).restore(path).expect_partial()
        yield "G", step, elapsed, generator


def main():
    from tfgan import metrics
    from tfgan.evaluate import report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="a config of configs/, e.g. dcgan_mnist")
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], help="config overrides")
    parser.add_argument("--tag", help="the run's name under benchmarks/results/screen/ (default: from the overrides)")
    parser.add_argument("--curve", action="store_true", help="score every checkpoint kept, not only the last")
    parser.add_argument("--mnist-dir", default=os.path.join(os.path.dirname(HERE), "..", "shared", "data", "mnist-t10k"))
    parser.add_argument("--classifier", help="an existing classifier (.keras) instead of training one")
    args = parser.parse_args()
    if args.classifier:
        extractor, reference, data_overrides = reference_features(args.mnist_dir, args.classifier)
    else:
        setup = protocol.setup(args.mnist_dir)
        extractor, reference, data_overrides = setup["extractor"], setup["reference"], setup["data_overrides"]
    tag = args.tag or re.sub(r"[^\w.=-]+", "_", "_".join([args.config, *args.overrides]))[:120]
    run_dir = os.path.join(protocol.RESULTS, "screen", tag)
    _, config, seconds = quality.train(args.config, [*data_overrides, f"run_dir={run_dir}", "log.verbose=0", *args.overrides])
    for label, step, elapsed, generator in checkpoint_generators(run_dir, last_only=not args.curve):
        # data.pad cropped back off: StyleGAN2's MNIST is padded to 32x32, the classifier takes 28x28.
        fake, probabilities = extractor.extract(quality._cropped(generator, seed=11, pad=config.data.pad))
        s = protocol.scores(fake, probabilities, reference)
        requested = report.requested(generator, len(probabilities))  # the classes _cropped asked a cGAN for
        accuracy = {} if requested is None else {"requested_accuracy": round(100 * metrics.class_accuracy(probabilities, requested), 1)}
        print(json.dumps(dict(tag=tag, generator=label, step=step, seconds=round(elapsed), run_seconds=round(seconds),
                              fd=round(s["fd"], 2), confident=round(100 * s["confident"], 1), precision=round(s["precision"], 3),
                              recall=round(s["recall"], 3), covered=s["covered"], **accuracy)), flush=True)


if __name__ == "__main__":
    main()
