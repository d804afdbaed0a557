"""Evaluating samples against the real data: the metrics a user asks for, by name.

Real-data features are computed once per (extractor, dataset) and cached as an
.npz file (written atomically), so repeated evaluations only embed the samples.
"""

import hashlib
import os

import numpy as np
import tensorflow as tf

from tfgan import atomic, latent, visualize
from tfgan import metrics as m
from tfgan.data import mixtures
from tfgan.errors import UserError
from tfgan.evaluate import DEFAULT_CACHE
from tfgan.metrics import IMAGE_METRICS, METRICS
from tfgan.networks.base import has_halves

PPL_EPSILON = 1e-4  # the step along the path; StyleGAN's


def default_metrics(examples):
    if not examples.is_images:
        return ["modes"]
    return [*IMAGE_METRICS[:4], *(["class_accuracy"] if examples.num_classes else [])]


def check_metrics(names, examples, mixture=None, generator=None):
    for name in names:
        if name not in METRICS:
            raise UserError(f"unknown metric {name!r}; expected one of: {', '.join(METRICS)}")
        if name == "modes" and mixture is None:
            raise UserError("metric 'modes' is for the 2D mixtures (ring, grid), not for this data")
        if name in IMAGE_METRICS and not examples.is_images:
            raise UserError(f"metric {name!r} needs images; for 2D mixtures use 'modes'")
        if name == "class_accuracy" and not examples.num_classes:
            raise UserError("metric 'class_accuracy' needs a conditional model and labelled data")
        if name == "ppl" and generator is not None and not has_halves(generator):
            raise UserError("metric 'ppl' needs a generator with mapping and synthesis halves (model.network: stylegan2)")


def _upscaling(made, data):
    """The factor that takes samples of shape `made` to `data` (an early phase of
    progressive growing makes images smaller by a power of two), or None."""
    if made == data:
        return 1
    if len(made) != 3 or len(data) != 3 or made[2] != data[2] or made[0] != made[1] or data[0] != data[1]:
        return None
    factor = data[0] // made[0]
    return factor if factor * made[0] == data[0] else None


def requested(generator, num):
    """The labels `num` samples ask a cGAN for: the classes in turn; None for a GAN."""
    return np.arange(num) % generator.num_classes if generator.num_classes else None


def draw(generator, num, seed=0, batch_size=500, psi=1.0):
    """(samples, requested labels): `num` samples from fixed noise, classes in turn for a cGAN;
    `psi`: a StyleGAN2 generator's truncation (toward each class's centre for a cGAN)."""
    z = latent.normal_tf(num, generator.latent_dim, seed)  # the z of GAN.generate and of exports
    labels = requested(generator, num)
    truncation = {}
    if psi != 1.0:  # the class centres once, not per batch
        truncation = {"psi": psi, "centres": generator.class_centres() if generator.num_classes else None}
    parts = []
    for start in range(0, num, batch_size):
        batch_labels = None if labels is None else tf.constant(labels[start : start + batch_size], tf.int32)
        parts.append(tf.cast(generator(z[start : start + batch_size], batch_labels, training=False, **truncation), tf.float32).numpy())
    return np.concatenate(parts), labels


def path_pairs(generator, num, seed=0, epsilon=PPL_EPSILON, batch_size=250):
    """(start, end) images [num, H, W, C] for the PPL in W at endpoints: synthesis of w and of
    w + epsilon (w' - w), w and w' the mapping of two z (of one class, classes in turn for a cGAN)."""
    z = latent.normal_tf(2 * num, generator.latent_dim, seed)
    labels = requested(generator, num)
    starts, ends = [], []
    for start in range(0, num, batch_size):
        stop = min(start + batch_size, num)
        batch_labels = None if labels is None else tf.constant(np.tile(labels[start:stop], 2), tf.int32)
        both = tf.concat([z[start:stop], z[num + start : num + stop]], axis=0)
        w, other = tf.split(generator.mapping(both, batch_labels, training=False, update_w_avg=False), 2)
        ws = generator.broadcast(tf.concat([w, w + epsilon * (other - w)], axis=0))
        images = tf.split(tf.cast(generator.synthesis(ws, training=False, noise="const"), tf.float32), 2)
        starts.append(images[0].numpy())
        ends.append(images[1].numpy())
    return np.concatenate(starts), np.concatenate(ends)


def real_features(extractor, examples, cache_dir=DEFAULT_CACHE, limit=10_000):
    """The first `limit` real examples' features, from the cache where they were computed before."""
    from tfgan.evaluate.classifier import scale

    num = min(limit, len(examples))
    digest = hashlib.sha1()  # of the images' bytes, a chunk at a time: a streamed dataset is never whole in memory
    for chunk in examples.chunks(num):
        digest.update(chunk.tobytes())
    path = os.path.join(cache_dir, f"real_{extractor.name}_{digest.hexdigest()[:12]}_{num}.npz") if cache_dir else None
    if path and os.path.exists(path):
        with np.load(path) as cached:
            return cached["features"]
    features = np.concatenate([extractor.extract(scale(chunk))[0] for chunk in examples.chunks(num)])
    if path:
        with atomic.replacing(path, make_dirs=True) as tmp:
            np.savez(tmp, features=features)
    return features


def evaluate_samples(samples, requested, examples, names, extractor=None, mixture=None, cache_dir=DEFAULT_CACHE):
    """{metric: value} for `samples` (float32 in [-1, 1], or 2D points) against `examples`."""
    check_metrics(names, examples, mixture)
    results = {}
    if "modes" in names:
        report = m.mode_report(samples, mixtures.centres(mixture), mixtures.std(mixture))
        results.update(modes_captured=report.modes_captured, high_quality=report.high_quality, reverse_kl=report.reverse_kl)
    if not set(names) & set(IMAGE_METRICS):
        return results
    _require_features(extractor)
    extractor.check(examples.sample_shape, "the data")
    extractor.check(samples.shape[1:], "the generator")
    fake, probabilities = extractor.extract(samples)
    if {"frechet_distance", "kid", "precision_recall"} & set(names):
        real = real_features(extractor, examples, cache_dir)
    if "frechet_distance" in names:
        results["frechet_distance"] = m.frechet_distance(m.GaussianStats.of(real), m.GaussianStats.of(fake))
    if "kid" in names:
        results["kid"], results["kid_std"] = m.kernel_inception_distance(real, fake)
    if "precision_recall" in names:
        # Equal counts on both sides: the k-NN radii shrink as a set grows (Kynkäänniemi et al.).
        count = min(len(real), len(fake), 5000)
        results["precision"], results["recall"] = m.precision_recall(real[:count], fake[:count])
    if ("classifier_score" in names or "class_accuracy" in names) and probabilities is None:
        raise UserError(f"the {extractor.name} features have no class probabilities")
    if "classifier_score" in names:
        results["classifier_score"], results["classifier_score_std"] = m.inception_score(probabilities)
    if "class_accuracy" in names:
        results["class_accuracy"] = m.class_accuracy(probabilities, requested)
    return results


def _require_features(extractor):
    if extractor is None:
        raise UserError("image metrics need features: --features classifier:PATH or --features inception")


def evaluate(generator, examples, names=None, extractor=None, num_samples=10_000, seed=0, mixture=None, cache_dir=DEFAULT_CACHE):
    """Draws `num_samples` from `generator` and evaluates them (see `evaluate_samples`)."""
    names = list(names or default_metrics(examples))
    check_metrics(names, examples, mixture, generator)
    factor = _upscaling(tuple(generator.sample_shape), examples.sample_shape)
    if factor is None:
        raise UserError(
            f"the generator makes samples of shape {tuple(generator.sample_shape)} but the data has "
            f"shape {examples.sample_shape}"
        )
    samples, requested = draw(generator, num_samples, seed)
    samples = visualize.upscale(samples, factor)
    results = evaluate_samples(samples, requested, examples, [n for n in names if n != "ppl"], extractor, mixture, cache_dir)
    if "ppl" in names:
        _require_features(extractor)
        extractor.check(generator.sample_shape, "the generator")
        start, end = path_pairs(generator, num_samples, seed)
        results["ppl"] = m.perceptual_path_length(extractor.extract(start)[0], extractor.extract(end)[0], PPL_EPSILON)
    return results
