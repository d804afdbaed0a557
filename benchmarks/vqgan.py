"""VQGAN on MNIST in the classifier's feature space (issue 17's benchmark).

    python benchmarks/vqgan.py --stage1-run RUN [--prior-run RUN] [--guide-starts 100] [--guide-steps 200]
                               [--mnist-dir ../shared/data/mnist-t10k]

With benchmarks/mnist_protocol.py's classifier (5 epochs on 8,000 digits of the test
split, seed 0) and its feature space:

- reconstructions by the stage-1 run's autoencoder of the classifier's 2,000
  held-out digits (held out from the classifier; the VQGAN trained on all 10,000),
  padded to 32x32 as the run's data was, the padding cropped off again: the
  classifier's accuracy on them (against the digits' labels; on the originals, for
  comparison), their Fréchet distance to the protocol's reference half (and the
  originals' own, the floor at this sample size), the share of the codebook the
  2,000 grids use and its perplexity;
- with a prior run, 5,000 samples (500 a class for a conditional one) scored as every
  MNIST table is (`mnist_protocol.feature_row`), and guidance: `--guide-starts`
  samples of the prior, start i of class i mod 10 steered toward class (i + 5) mod
  10 (3 -> 8 among them) by `tfgan.guide`'s optimization for `--guide-steps` steps,
  scored by the same classifier; a start succeeds where it then calls the image the
  target. A second classifier (seed 1, the same data) judges the same images too,
  as a check that the guided digits are not merely adversarial to the first.

Writes docs/vqgan_mnist_recon.png (originals above reconstructions), and with a
prior docs/vqgan_mnist_samples.png (a row per class) and docs/vqgan_guidance.png
(starts of class 3 steered to 8, from start to end).
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnist_protocol  # noqa: E402

DOCS = os.path.join(os.path.dirname(mnist_protocol.HERE), "docs")
PAD = 2  # vqgan_mnist's data.pad: 28x28 digits in 32x32


def batched(function, inputs, size=500):
    return np.concatenate([np.asarray(function(inputs[i : i + size])) for i in range(0, len(inputs), size)])


def reconstructions(autoencoder, protocol, images, labels):
    import tensorflow as tf

    from tfgan import metrics
    from tfgan.networks import quantizer

    padded = np.pad(images, [(0, 0), (PAD, PAD), (PAD, PAD), (0, 0)], constant_values=-1.0)
    codes = batched(autoencoder.encode, padded)
    rebuilt = mnist_protocol.crop(batched(autoencoder.decode, codes), PAD)
    extractor, reference = protocol["extractor"], protocol["reference"]
    features, probabilities = extractor.extract(rebuilt)
    original_features, original_probabilities = extractor.extract(images)
    counts = tf.constant(np.bincount(codes.ravel(), minlength=autoencoder.quantizer.num_codes).astype(np.float32))
    fd = lambda f: metrics.frechet_distance(metrics.GaussianStats.of(reference), metrics.GaussianStats.of(f))  # noqa: E731
    print(f"| reconstructions of the 2,000 held-out digits | {fd(features):.2f} (the originals: {fd(original_features):.2f}) "
          f"| **{100 * (probabilities.argmax(1) == labels).mean():.2f}%** (the originals: "
          f"{100 * (original_probabilities.argmax(1) == labels).mean():.2f}%) | {100 * float(quantizer.usage(counts)):.1f}% "
          f"of {autoencoder.quantizer.num_codes} | {float(quantizer.perplexity(counts)):.1f} |", flush=True)
    return padded[:8], batched(autoencoder.decode, codes[:8])


def guidance(sampler, protocol, starts, steps, second):
    import tensorflow as tf

    from tfgan.guide import optimize

    labels = np.arange(starts) % 10
    targets = (labels + 5) % 10
    z = tf.random.stateless_normal([starts, sampler.latent_dim], seed=[11, 0])
    codes = sampler.sample_tokens(z, tf.constant(labels, tf.int32)).numpy()
    extractor = protocol["extractor"]

    def scorer(images):
        logits = extractor(images[:, PAD:-PAD, PAD:-PAD])[1]
        return tf.gather(tf.nn.log_softmax(logits, axis=-1), targets, batch_dims=1)

    begun = time.perf_counter()
    _, images, _, frames = optimize.guide(sampler.autoencoder, scorer, codes, steps, frames=6)
    seconds = time.perf_counter() - begun
    cropped = mnist_protocol.crop(images, PAD)
    judged = extractor.extract(cropped)[1].argmax(1)
    started = extractor.extract(mnist_protocol.crop(frames[0], PAD))[1].argmax(1)
    independent = second.extract(cropped)[1].argmax(1)
    print(f"guidance: {100 * (judged == targets).mean():.0f}% of {starts} starts end at the target class "
          f"(the independent classifier agrees on {100 * (independent == targets).mean():.0f}%); {100 * (started == labels).mean():.0f}% "
          f"started as their class; {steps} steps, {seconds:.0f} s for all {starts} at once", flush=True)
    threes = np.flatnonzero(labels == 3)[:4]
    return np.concatenate([np.stack([frame[i] for frame in frames]) for i in threes])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage1-run", required=True)
    parser.add_argument("--prior-run")
    parser.add_argument("--guide-starts", type=int, default=100)
    parser.add_argument("--guide-steps", type=int, default=200)
    parser.add_argument("--mnist-dir", default=os.path.join(os.path.dirname(mnist_protocol.HERE), "..", "shared", "data", "mnist-t10k"))
    args = parser.parse_args()
    os.makedirs(mnist_protocol.RESULTS, exist_ok=True)
    protocol = mnist_protocol.setup(args.mnist_dir)

    from tfgan import config as config_lib
    from tfgan import data, visualize
    from tfgan.evaluate import classifier, features
    from tfgan.export import run

    examples = data.load(config_lib.from_overrides(protocol["data_overrides"]).data, True, 0)
    held_out = np.random.default_rng(0).permutation(len(examples.samples))[8000:]  # train_classifier's split for seed 0
    images, labels = classifier.scale(examples.samples[held_out]), examples.labels[held_out]
    autoencoder, step, _ = run.load_generator(args.stage1_run)
    print(f"stage 1: {args.stage1_run} at step {step}\n")
    print("| | Fréchet distance | classifier accuracy | codebook usage | perplexity |\n|---|---|---|---|---|")
    originals, rebuilt = reconstructions(autoencoder, protocol, images, labels)
    visualize.write_png(os.path.join(DOCS, "vqgan_mnist_recon.png"), visualize.image_grid(np.concatenate([originals, rebuilt]), rows=2))
    if not args.prior_run:
        return
    sampler, step, _ = run.load_generator(args.prior_run)
    print(f"\nstage 2: {args.prior_run} at step {step}\n\n{mnist_protocol.HEADER}\n{protocol['floor']}")
    import tensorflow as tf

    requested = np.arange(mnist_protocol.MNIST_SAMPLES) % 10 if sampler.num_classes else None
    z = mnist_protocol.latents(sampler, mnist_protocol.MNIST_SAMPLES, seed=1).numpy()
    draw = tf.function(lambda z, labels: sampler(z, labels))  # the sampling loop as a graph, as an export runs it
    labels = requested if requested is not None else np.zeros(len(z), np.int32)
    begun = time.perf_counter()
    samples = batched(lambda rows: draw(tf.constant(z[rows]), tf.constant(labels[rows], tf.int32) if requested is not None else None),
                      np.arange(mnist_protocol.MNIST_SAMPLES))
    seconds = time.perf_counter() - begun
    fake, probabilities = protocol["extractor"].extract(mnist_protocol.crop(samples, PAD))
    print(mnist_protocol.feature_row(f"{os.path.basename(args.prior_run)} ({seconds:.0f} s to sample)", fake, probabilities,
                                     protocol["reference"], requested, protocol["accuracy"]), flush=True)
    rows = np.concatenate([samples[requested == k][:8] for k in range(10)]) if requested is not None else samples[:64]
    visualize.write_png(os.path.join(DOCS, "vqgan_mnist_samples.png"), visualize.image_grid(rows, rows=10 if requested is not None else 8))
    second_model, _ = classifier.train_classifier(examples, epochs=5, held_out=0.2, seed=1)
    second_path = os.path.join(mnist_protocol.RESULTS, "mnist_classifier_seed1.keras")
    classifier.save_classifier(second_model, second_path, overwrite=True)
    strip = guidance(sampler, protocol, args.guide_starts, args.guide_steps, features.classifier(second_path))
    visualize.write_png(os.path.join(DOCS, "vqgan_guidance.png"), visualize.image_grid(strip, rows=len(strip) // 6))


if __name__ == "__main__":
    main()
