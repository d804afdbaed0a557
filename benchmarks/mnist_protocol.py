"""The MNIST protocol of benchmarks/quality.py: tfgan's classifier, the real digits' features, and one
table row per set of samples, so that every MNIST table (DCGAN, PGGAN, StyleGAN2, the keras.io
baseline) scores the same way.

The classifier (python -m tfgan.evaluate train-classifier: 5 epochs on 8,000 digits of the test
split, accuracy on the other 2,000) gives the feature space. 5,000 samples are compared with a
random half of the real digits; the floor is the other half against the same.
"""

import os
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")

MNIST_SAMPLES = 5000
COVERED = 0.01  # a class is covered when at least 1% of the samples are classified as it
CONFIDENT = 0.9  # a sample is a confident digit when the classifier's top class has more than this
HEADER = ("| samples | Fréchet distance | KID | precision / recall | confident digits | classes covered | requested-class accuracy |\n"
          "|---|---|---|---|---|---|---|")


def setup(mnist_dir):
    """The protocol's data overrides, classifier (path and extractor), real features and floor row."""
    from tfgan import config as config_lib
    from tfgan import data
    from tfgan.evaluate import classifier, features

    images = os.path.join(mnist_dir, "t10k-images-idx3-ubyte.gz")
    labels = os.path.join(mnist_dir, "t10k-labels-idx1-ubyte.gz")
    data_overrides = ["data.source=idx", f"data.path={images}", f"data.labels_path={labels}"]
    examples = data.load(config_lib.from_overrides(data_overrides).data, True, 0)
    path, accuracy = train_classifier(examples, seed=0)
    extractor = features.classifier(path)
    # Two random halves: the file's first 5,000 digits come from other writers than its last 5,000.
    real = classifier.scale(examples.samples[np.random.default_rng(0).permutation(len(examples.samples))])
    reference, _ = extractor.extract(real[:MNIST_SAMPLES])
    held_out, held_out_probabilities = extractor.extract(real[MNIST_SAMPLES:])
    floor = feature_row("real: the other 5,000 images (the floor)", held_out, held_out_probabilities, reference)
    return dict(data_overrides=data_overrides, examples=examples, path=path, extractor=extractor, reference=reference, accuracy=accuracy,
                floor=floor, mnist_dir=mnist_dir)


def train_classifier(examples, seed):
    """(path, held-out accuracy) of the protocol's classifier trained with `seed` (which also picks its
    2,000 held-out digits): seed 0 scores every table; another seed gives an independent judge."""
    from tfgan.evaluate import classifier

    start = time.perf_counter()
    model, accuracy = classifier.train_classifier(examples, epochs=5, held_out=0.2, seed=seed)
    path = os.path.join(RESULTS, "mnist_classifier.keras" if seed == 0 else f"mnist_classifier_seed{seed}.keras")
    classifier.save_classifier(model, path, overwrite=True)
    print(f"classifier (seed {seed}): held-out accuracy {100 * accuracy:.2f}% on 2,000 digits ({time.perf_counter() - start:.0f} s)", flush=True)
    return path, accuracy


def scores(fake, probabilities, reference):
    """The protocol's numbers for one set of samples' features and class probabilities."""
    from tfgan import metrics

    kid, kid_std = metrics.kernel_inception_distance(reference, fake)
    precision, recall = metrics.precision_recall(reference, fake)
    shares = np.bincount(probabilities.argmax(1), minlength=10) / len(probabilities)
    return dict(
        fd=metrics.frechet_distance(metrics.GaussianStats.of(reference), metrics.GaussianStats.of(fake)),
        kid=kid, kid_std=kid_std, precision=precision, recall=recall,
        confident=float((probabilities.max(1) > CONFIDENT).mean()),
        covered=int((shares >= COVERED).sum()),
    )


def feature_row(label, fake, probabilities, reference, requested=None, ceiling=None):
    from tfgan import metrics

    s = scores(fake, probabilities, reference)
    accuracy = "–"
    if requested is not None:
        accuracy = f"**{100 * metrics.class_accuracy(probabilities, requested):.1f}%** (classifier: {100 * ceiling:.1f}%)"
    return (f"| {label} | {s['fd']:.2f} | {s['kid']:.3g} (std {s['kid_std']:.2g}) | {s['precision']:.3f} / {s['recall']:.3f} "
            f"| {100 * s['confident']:.1f}% | {s['covered']}/10 | {accuracy} |")


def crop(samples, pad):
    """Samples clipped to [-1, 1] (what a PNG of them shows), `pad` pixels cut off every side."""
    return np.clip(samples, -1.0, 1.0)[:, pad : samples.shape[1] - pad, pad : samples.shape[2] - pad]


def elapsed(run_dir, step, start):
    return os.path.getmtime(os.path.join(run_dir, "checkpoints", f"ckpt-{step}.index")) - start


def checkpoint(run_dir, step, start):
    """(generator at the checkpoint of `step` (its EMA where the run keeps one), seconds from `start` to that checkpoint)."""
    from tfgan.export import run

    generator, _, _ = run.load_generator(run_dir, checkpoint=os.path.join(run_dir, "checkpoints", f"ckpt-{step}"))
    return generator, elapsed(run_dir, step, start)


def latents(generator, num, seed):
    import tensorflow as tf

    return tf.random.stateless_normal([num, generator.latent_dim], seed=[seed, 0])


def write_grid(gan, path):
    from tfgan import visualize

    labels = np.repeat(np.arange(10), 8) if gan.num_classes else None
    images = gan.generate(80 if gan.num_classes else 64, labels=labels, seed=7).numpy()
    visualize.write_png(path, visualize.image_grid(images, rows=10 if gan.num_classes else 8))


def _scalars(run_dir, tag):
    from tensorboard.backend.event_processing import event_accumulator

    import tensorflow as tf

    events = event_accumulator.EventAccumulator(os.path.join(run_dir, "tensorboard"), size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    return [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]


def eval_curve(run_dir):
    """{step: Fréchet distance} as the run's `eval:` block logged it."""
    return dict(_scalars(run_dir, "eval/frechet_distance"))


def logged_ms_per_step(run_dir):
    """The median of the steps/s the run logged per epoch (the first, with tracing, left out), as ms per step."""
    rates = [rate for _, rate in _scalars(run_dir, "steps_per_second")[1:]]
    return 1000 / float(np.median(rates))
