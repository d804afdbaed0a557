"""GAN inversion: the W+ latent (and noise maps) under which a StyleGAN2 generator
draws a given image, as StyleGAN2-ADA's `projector.py` finds it.

Adam (beta 0.9, 0.999) from the centre of W (w_avg, or the class centre of a
conditional generator's label) on the distance to the image: the pixels' mean
squared error plus, given a feature extractor (`tfgan.evaluate.features`: the
offline classifier, or InceptionV3 where its weights can be had; LPIPS's VGG, the
reference's distance, cannot be downloaded here), the squared distance of the
features. The learning rate ramps up over the first 5% of steps and down by a
cosine over the last 25%; w is jittered by noise of 5% of W's spread that fades
out over the first 75% (the reference's, which keeps the search from settling
early). The first half of the steps move one w for every layer (W), the rest each
layer's own (W+), from there. The noise maps move too, held near white noise by
the reference's regularizer (autocorrelation at every scale, weight 1e5) and
renormalized after each step.

Its randomness (the jitter) is drawn statelessly from (seed, step): the same call
gives the same latent.
"""

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from tfgan.networks.base import CENTRE_SAMPLES, CENTRE_SEED

LEARNING_RATE = 0.1
RAMP_UP, RAMP_DOWN = 0.05, 0.25  # shares of the steps
JITTER, JITTER_FADE = 0.05, 0.75  # w's noise: share of W's spread, faded out over this share of the steps
NOISE_REGULARIZATION = 1e5
W_SHARE = 0.5  # the share of the steps in W before W+


@dataclasses.dataclass
class Projection:
    ws: np.ndarray  # [1, num_ws, w_dim]
    noise: list  # [1, r, r, 1] per noise layer, or None where the noise maps were not optimized
    image: np.ndarray  # [H, W, C] in [-1, 1]: synthesis of ws (with the noise maps)
    psnr: float  # of `image` against the target, in dB (images on a 0-1 scale)


def psnr(a, b):
    """Peak signal-to-noise ratio of two images in [-1, 1], on a 0-1 scale: 10 log10(1 / MSE)."""
    mse = float(np.mean(np.square((np.asarray(a, np.float64) - np.asarray(b, np.float64)) / 2.0)))
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def learning_rate(t, base=LEARNING_RATE):
    """The reference's schedule at t = step / steps: a linear ramp up, a cosine ramp down."""
    down = 0.5 - 0.5 * math.cos(min(1.0, (1.0 - t) / RAMP_DOWN) * math.pi)
    return base * down * min(1.0, t / RAMP_UP)


def noise_regularization(maps):
    """Sum over maps and scales (halved down to 8x8) of the squared mean autocorrelation
    with a one-pixel shift along each axis: 0 for white noise, large for a map drawing the image."""
    total = 0.0
    for x in maps:
        while True:
            total += tf.square(tf.reduce_mean(x * tf.roll(x, shift=1, axis=1))) + tf.square(tf.reduce_mean(x * tf.roll(x, shift=1, axis=2)))
            if x.shape[1] <= 8:
                break
            x = tf.nn.avg_pool2d(x, 2, 2, "VALID")
    return total


def w_statistics(generator, label=None, samples=CENTRE_SAMPLES):
    """(centre [w_dim], spread): where the search starts, the mean w (of `label`'s class for a
    conditional generator), and the root mean squared distance of w from it."""
    z = tf.random.stateless_normal([samples, generator.latent_dim], seed=CENTRE_SEED)
    labels = None if label is None else tf.fill([samples], tf.constant(label, tf.int32))
    w = tf.cast(generator.mapping(z, labels, training=False, update_w_avg=False), tf.float32)
    centre = tf.reduce_mean(w, axis=0)
    return centre, float(tf.sqrt(tf.reduce_sum(tf.square(w - centre)) / samples))


def project(generator, target, steps=1000, label=None, features=None, feature_weight=1.0, optimize_noise=False, seed=0, log=None):
    """`Projection` of `target` [H, W, C] in [-1, 1] into W+ of `generator`.

    `features`: a callable images -> feature tensor (or None: pixels alone), e.g. an
    `Extractor`'s first output. `log(step, loss)` is called every 100 steps.
    """
    target = tf.constant(np.asarray(target, np.float32)[None])
    centre, spread = w_statistics(generator, label)
    target_features = None if features is None else tf.stop_gradient(features(target))
    w = tf.Variable(centre[None, None, :], name="w")  # one w for every layer, then each layer's own
    ws = tf.Variable(tf.zeros([1, generator.num_ws, generator.w_dim]), name="ws")
    noise = [tf.Variable(m, name=f"noise_{i}") for i, m in enumerate(generator.noise_maps())] if optimize_noise else []
    optimizer = keras.optimizers.Adam(LEARNING_RATE, beta_1=0.9, beta_2=0.999)
    optimizer.build([w, ws, *noise])

    def distance(images):
        loss = tf.reduce_mean(tf.square(images - target))
        if features is not None:
            loss += feature_weight * tf.reduce_sum(tf.square(features(images) - target_features))
        return loss

    @tf.function
    def gradients(latent, jitter, in_w):
        with tf.GradientTape() as tape:
            current = generator.broadcast(latent[:, 0]) if in_w else latent
            images = generator.synthesis(current + jitter, training=False, noise=noise or "const")
            loss = distance(images)
            if noise:
                loss += NOISE_REGULARIZATION * noise_regularization(noise)
        return loss, tape.gradient(loss, [latent, *noise])

    w_steps = int(round(steps * W_SHARE))
    for step in range(steps):
        t = step / steps
        optimizer.learning_rate.assign(learning_rate(t))
        if step == w_steps:
            ws.assign(generator.broadcast(w[:, 0]))
        latent, in_w = (w, True) if step < w_steps else (ws, False)
        scale = spread * JITTER * max(0.0, 1.0 - t / JITTER_FADE) ** 2
        jitter = scale * tf.random.stateless_normal([1, 1, generator.w_dim], seed=[seed, step])
        loss, grads = gradients(latent, jitter, in_w)
        optimizer.apply_gradients(zip(grads, [latent, *noise]))
        for m in noise:  # back to zero mean, unit variance: the noise the layers were trained on
            m.assign((m - tf.reduce_mean(m)) * tf.math.rsqrt(tf.reduce_mean(tf.square(m - tf.reduce_mean(m)))))
        if log and (step + 1) % 100 == 0:
            log(step + 1, float(loss))
    final = ws if steps > w_steps else generator.broadcast(w[:, 0])
    final = tf.convert_to_tensor(final)
    maps = [tf.convert_to_tensor(m) for m in noise] or "const"
    image = generator.synthesis(final, training=False, noise=maps)[0].numpy()
    return Projection(final.numpy(), [m.numpy() for m in noise] if noise else None, image, psnr(image, target[0]))
