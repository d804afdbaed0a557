"""VQGAN on MNIST in the classifier's feature space (benchmarks/quality.py --only vqgan).

Both stages train as shipped on the 10,000 digits (configs/vqgan_mnist.yaml, then
configs/vqgan_prior_mnist.yaml over that run's codes), unless --vqgan-run and
--vqgan-prior-run name runs trained apart. Stage 1's perceptual term uses a second
classifier (the protocol's recipe with seed 1, what `train-classifier --seed 1` makes),
so the autoencoder is not trained in the features that score it. Then:

- reconstructions by the autoencoder of the protocol classifier's 2,000 held-out
  digits (held out from the classifier; the VQGAN trained on all 10,000), padded to
  32x32 as the run's data was, the padding cropped off again: the classifier's
  accuracy on them (on the originals, for comparison), their Fréchet distance to the
  protocol's reference half (and the originals' own, the floor at this sample size),
  the share of the codebook the 2,000 grids use and its perplexity;
- 5,000 samples of the prior (500 a class for a conditional one) scored as every
  MNIST table is (`mnist_protocol.feature_row`), at the run's own temperature, top-k
  and top-p and at each further setting asked for (--vqgan-sampling; the first of
  them is the one pictured, checked for copies, timed and guided below);
- a copy check, since the prior trained on every digit there is: the share of the
  sampled code grids that equal a training digit's grid, and
  how many codes a sample's nearest training grid differs in, beside the same for
  2,000 real digits against the other 9,999;
- sampling speed with and without the key/value cache (benchmarks/prior_sampling.py's
  measurement, on the trained prior);
- guidance: 100 samples of the prior, start i of class i mod 10 steered toward class
  (i + 5) mod 10 (3 -> 8 among them) by `tfgan.guide`'s optimization for 200 steps,
  scored by the protocol's classifier; a start succeeds where it then calls the image
  the target. The second classifier judges the same images too, as a check that the
  guided digits are not merely adversarial to the first.

Writes docs/vqgan_mnist_recon.png (originals above reconstructions),
docs/vqgan_mnist_samples.png (a row per class) and
docs/vqgan_guidance.png (starts of class 3 steered to 8, from start to end).
"""

import os
import time

import numpy as np

import mnist_protocol
import prior_sampling

DOCS = os.path.join(os.path.dirname(mnist_protocol.HERE), "docs")
PAD = 2  # vqgan_mnist's data.pad: 28x28 digits in 32x32
GUIDE_STARTS, GUIDE_STEPS = 100, 200


def batched(function, inputs, size=500):
    return np.concatenate([np.asarray(function(inputs[i : i + size])) for i in range(0, len(inputs), size)])


def padded(images):
    """[-1, 1] digits [N, 28, 28, 1] padded to 32x32 with background, as the runs' data.pad: 2 pads them."""
    return np.pad(images, [(0, 0), (PAD, PAD), (PAD, PAD), (0, 0)], constant_values=-1.0)


def reconstructions(autoencoder, setup):
    """The reconstructions' table row; writes their picture."""
    import tensorflow as tf

    from tfgan import metrics, visualize
    from tfgan.evaluate import classifier
    from tfgan.networks import quantizer

    examples = setup["examples"]
    held_out = np.random.default_rng(0).permutation(len(examples.samples))[8000:]  # train_classifier's split for seed 0
    images, labels = classifier.scale(examples.samples[held_out]), examples.labels[held_out]
    originals = padded(images)
    codes = batched(autoencoder.encode, originals)
    rebuilt = mnist_protocol.crop(batched(autoencoder.decode, codes), PAD)
    extractor, reference = setup["extractor"], setup["reference"]
    features, probabilities = extractor.extract(rebuilt)
    original_features, original_probabilities = extractor.extract(images)
    counts = tf.constant(np.bincount(codes.ravel(), minlength=autoencoder.quantizer.num_codes).astype(np.float32))
    fd = lambda f: metrics.frechet_distance(metrics.GaussianStats.of(reference), metrics.GaussianStats.of(f))  # noqa: E731
    pictured = np.concatenate([originals[:8], batched(autoencoder.decode, codes[:8])])
    visualize.write_png(os.path.join(DOCS, "vqgan_mnist_recon.png"), visualize.image_grid(pictured, rows=2))
    return (f"| reconstructions of the 2,000 held-out digits | {fd(features):.2f} (the originals: {fd(original_features):.2f}) "
            f"| **{100 * (probabilities.argmax(1) == labels).mean():.2f}%** (the originals: "
            f"{100 * (original_probabilities.argmax(1) == labels).mean():.2f}%) | {100 * float(quantizer.usage(counts)):.1f}% "
            f"of {autoencoder.quantizer.num_codes} | {float(quantizer.perplexity(counts)):.1f} |")


def sampled_row(sampler, setup, label, sampling):
    """(the table row of 5,000 samples at `sampling` (temperature, top_k, top_p), the samples, their
    code grids, the labels asked for)."""
    import tensorflow as tf

    requested = np.arange(mnist_protocol.MNIST_SAMPLES) % 10 if sampler.num_classes else None
    labels = requested if requested is not None else np.zeros(mnist_protocol.MNIST_SAMPLES, np.int32)
    z = mnist_protocol.latents(sampler, mnist_protocol.MNIST_SAMPLES, seed=1).numpy()
    # The loop as a graph, as an export runs it; the grids kept for the copy check.
    draw = tf.function(lambda z, labels: sampler.sample_tokens(z, labels if sampler.num_classes else None, **sampling))
    begun = time.perf_counter()
    codes = batched(lambda rows: draw(tf.constant(z[rows]), tf.constant(labels[rows], tf.int32)), np.arange(mnist_protocol.MNIST_SAMPLES))
    samples = batched(sampler.autoencoder.decode, codes)
    seconds = time.perf_counter() - begun
    fake, probabilities = setup["extractor"].extract(mnist_protocol.crop(samples, PAD))
    setting = f"temperature {sampling['temperature']:g}, top-k {sampling['top_k'] or 'all'}, top-p {sampling['top_p']:g}"
    row = mnist_protocol.feature_row(f"{label}, {setting} ({seconds:.0f} s to sample)", fake, probabilities, setup["reference"],
                                     requested, setup["accuracy"])
    return row, samples, codes, requested


def nearest_differences(queries, pool, same=None):
    """For each grid of `queries` [Q, h, w], how many codes the nearest grid of `pool` [N, h, w] differs
    in; `same[i]`: the index in `pool` of query i itself, left out."""
    queries, pool = queries.reshape(len(queries), -1), pool.reshape(len(pool), -1)
    nearest = []
    for start in range(0, len(queries), 100):
        differences = (queries[start : start + 100, None] != pool[None]).sum(-1)
        if same is not None:
            differences[np.arange(len(differences)), same[start : start + 100]] = queries.shape[1] + 1
        nearest.append(differences.min(1))
    return np.concatenate(nearest)


def copy_check(codes, autoencoder, setup):
    """A line: how many sampled grids are a training digit's grid, and how near the nearest one is,
    beside how near real digits' grids are to each other (the prior trained on all 10,000 grids)."""
    from tfgan.evaluate import classifier

    training = batched(autoencoder.encode, padded(classifier.scale(setup["examples"].samples)))
    sampled = nearest_differences(codes, training)
    some = np.random.default_rng(0).permutation(len(training))[:2000]
    real = nearest_differences(training[some], training, same=some)
    return (f"copies: {100 * (sampled == 0).mean():.1f}% of the {len(codes):,} sampled grids are a training digit's grid; "
            f"a sample's nearest training grid differs in a median of {np.median(sampled):.0f} of {codes[0].size} codes "
            f"(a real digit's nearest other digit, over 2,000 of them: {np.median(real):.0f}; {100 * (real == 0).mean():.1f}% identical)")


def guidance(sampler, setup, second, sampling):
    """The guidance line; returns the frames of four starts of class 3 steered to 8."""
    import tensorflow as tf

    from tfgan.evaluate import features
    from tfgan.guide import optimize

    labels = np.arange(GUIDE_STARTS) % 10
    targets = (labels + 5) % 10
    z = tf.random.stateless_normal([GUIDE_STARTS, sampler.latent_dim], seed=[11, 0])
    codes = sampler.sample_tokens(z, tf.constant(labels, tf.int32), **sampling).numpy()
    extractor = setup["extractor"]

    def scorer(images):
        logits = extractor(images[:, PAD:-PAD, PAD:-PAD])[1]
        return tf.gather(tf.nn.log_softmax(logits, axis=-1), targets, batch_dims=1)

    begun = time.perf_counter()
    _, images, _, frames = optimize.guide(sampler.autoencoder, scorer, codes, GUIDE_STEPS, frames=6)
    seconds = time.perf_counter() - begun
    cropped = mnist_protocol.crop(images, PAD)
    judged = extractor.extract(cropped)[1].argmax(1)
    started = extractor.extract(mnist_protocol.crop(frames[0], PAD))[1].argmax(1)
    independent = features.classifier(second).extract(cropped)[1].argmax(1)
    line = (f"guidance: {100 * (judged == targets).mean():.0f}% of {GUIDE_STARTS} starts end at the target class "
            f"(the independent classifier agrees on {100 * (independent == targets).mean():.0f}%); {100 * (started == labels).mean():.0f}% "
            f"started as their class; {GUIDE_STEPS} steps, {seconds:.0f} s for all {GUIDE_STARTS} at once")
    threes = np.flatnonzero(labels == 3)[:4]
    return line, np.concatenate([np.stack([frame[i] for frame in frames]) for i in threes])


def report(setup, train, extra, stage1_run=None, prior_run=None, sampling=()):
    """Markdown: stage 1's row, stage 2's rows (the run's own sampling, then each (temperature, top_k,
    top_p) of `sampling`), the copy check, the cache's speed-up and guidance's success, the last three
    (and the samples' picture) at the first of `sampling` (the run's own where none is given).
    `train(config_name, overrides)` is quality.py's."""
    from tfgan import visualize
    from tfgan.export import run

    second, _ = mnist_protocol.train_classifier(setup["examples"], seed=1)
    runs = mnist_protocol.RESULTS
    if not stage1_run:
        stage1_run = os.path.join(runs, "vqgan_mnist_t10k")
        _, _, seconds = train("vqgan_mnist", [*setup["data_overrides"], f"run_dir={stage1_run}", f"model.vqgan.perceptual=classifier:{second}",
                                              "log.verbose=0", *extra])
        print(f"stage 1 trained in {seconds:.0f} s", flush=True)
    if not prior_run:
        prior_run = os.path.join(runs, "vqgan_prior_mnist_t10k")
        _, _, seconds = train("vqgan_prior_mnist", [*setup["data_overrides"], f"run_dir={prior_run}",
                                                    f"model.vqgan_prior.autoencoder={stage1_run}", "log.verbose=0", *extra])
        print(f"stage 2 trained in {seconds:.0f} s", flush=True)
    autoencoder, step, _ = run.load_generator(stage1_run)
    lines = [f"stage 1: {stage1_run} at step {step:,}", "", "| | Fréchet distance | classifier accuracy | codebook usage | perplexity |",
             "|---|---|---|---|---|", reconstructions(autoencoder, setup)]
    print(lines[-1], flush=True)

    sampler, step, _ = run.load_generator(prior_run)
    lines += ["", f"stage 2: {prior_run} at step {step:,}", "", mnist_protocol.HEADER, setup["floor"]]
    names = tuple(sampler.sampling)  # temperature, top_k, top_p
    settings = [dict(zip(names, values)) for values in dict.fromkeys([tuple(sampler.sampling.values()), *map(tuple, sampling)])]
    chosen = dict(zip(names, sampling[0])) if sampling else settings[0]  # pictured, checked for copies, timed and guided
    for i, setting in enumerate(settings):
        row, samples, codes, requested = sampled_row(sampler, setup, os.path.basename(prior_run) if i == 0 else "the same", setting)
        lines.append(row)
        print(row, flush=True)
        if setting == chosen:
            copies = copy_check(codes, sampler.autoencoder, setup)
            pictured = np.concatenate([samples[requested == k][:8] for k in range(10)]) if requested is not None else samples[:64]
            visualize.write_png(os.path.join(DOCS, "vqgan_mnist_samples.png"), visualize.image_grid(pictured, rows=10 if requested is not None else 8))
    lines += ["", copies, "", prior_sampling.speed(sampler, batch=64, repeats=3, **chosen)]
    line, strip = guidance(sampler, setup, second, chosen)
    visualize.write_png(os.path.join(DOCS, "vqgan_guidance.png"), visualize.image_grid(strip, rows=len(strip) // 6))
    return "\n".join([*lines, line])
