"""A DragGAN edit of one image, a step at a time: what the command line, the web page
and the tests all drive.

The latent is W+ (ws [1, num_ws, w_dim]); only its first `layers` entries (the
coarse styles, which place things) are optimized, the rest stay as they were.
Each `step()` renders the image with its feature map F (a synthesis block's,
resized to the image), tracks every handle to where its content went (the
nearest match of its first feature within radius r2), then takes one Adam step
on the motion-supervision loss (radius r1; plus the mask term where a mask is
given), unless every handle is already within `stop_distance` of its target.
It returns what the page shows: the image the handles were tracked on, the
handles, their distances, and D's score of the image. A caller stops between
steps whenever it likes; nothing runs in the background.
"""

import dataclasses
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from tfgan import latent
from tfgan.drag import motion
from tfgan.networks.base import truncate

RADII_AT_512 = (3.0, 12.0)  # the reference's r1 (motion supervision) and r2 (tracking), in px of a 512 px image
STOP_AT_512 = 2.0  # the reference stops when every handle is this close, at 512 px
LAYERS = 6  # W+ entries optimized: the reference's
FEATURE_BLOCK = 5  # the reference's synthesis block: 128x128 in a 512 px generator, a quarter of the side
MASK_WEIGHT = 20.0  # lambda of the mask term (the paper's)
LEARNING_RATE = 2e-3  # Adam on W+ (the reference's)
PSI = 0.7  # truncation of a seed's start (the reference's)


def seed_ws(generator, seed, psi=PSI, label=None):
    """The W+ [1, num_ws, w_dim] of `seed`'s image: the z of `tfgan.generate --seed S --num 1`,
    its w truncated by psi (toward w_avg, or toward the class centre of `label`) at every layer."""
    z = latent.normal(1, generator.latent_dim, seed)
    labels = None if label is None else np.array([label], np.int32)
    ws = generator.broadcast(generator.mapping(z, labels, training=False))
    return truncate(ws, generator.truncation_centre(labels), psi).numpy()


def scaled(pixels_at_512, side):
    """A length of the reference's 512 px images at this image's side, at least 1 px."""
    return max(1.0, round(pixels_at_512 / 512 * side))


def discriminator_logit(discriminator, image, label=None):
    """D's logit for one image [H, W, C] (higher reads as more real); `label`: its class, for a
    conditional D."""
    labels = None if label is None else tf.constant([label], tf.int32)
    return tf.reshape(discriminator(tf.cast(image, tf.float32)[None], labels, training=False), [-1])[0]


def default_block(num_blocks):
    """The reference's block 5 where the generator has one below its last two; else the one
    before the last but one (16x16 of a 32 px generator), which still has spatial detail."""
    return min(FEATURE_BLOCK, max(num_blocks - 2, 0))


@dataclasses.dataclass
class Step:
    image: np.ndarray  # [H, W, C] in [-1, 1]: the image the handles were tracked on
    handles: np.ndarray  # [N, 2] (x, y), whole pixels
    distances: np.ndarray  # [N]: pixels from each handle to its target
    score: Optional[float]  # D's logit for the image (higher reads as more real); None without D
    steps: int  # optimization steps taken so far
    done: bool  # every handle within `stop_distance` of its target: no step was taken


class DragSession:
    """Drags `handles` [N, 2] toward `targets` [N, 2] ((x, y) pixels) in the image synthesis(ws).

    `generator`: a generator with mapping and synthesis halves (StyleGAN2's);
    `ws` [num_ws, w_dim] or [1, num_ws, w_dim]; `mask` [H, W], 1 where the image
    may change (the rest is held to its first features); `discriminator` (and, for
    a conditional one, `label`) scores each image; `noise`: synthesis's noise maps
    (an inverted image's, `tfgan.invert --noise`), else its fixed ones. Radii and the
    stop distance default to the reference's at 512 px, scaled to the image.
    """

    def __init__(self, generator, ws, handles, targets, *, discriminator=None, label=None, mask=None, layers=LAYERS,
                 feature_block=None, learning_rate=LEARNING_RATE, r1=None, r2=None, stop_distance=None, mask_weight=MASK_WEIGHT,
                 noise=None):
        self.generator, self.discriminator = generator, discriminator
        self.noise = "const" if noise is None else [tf.constant(np.asarray(m, np.float32)) for m in noise]
        self.side = int(generator.sample_shape[0])
        ws = np.asarray(ws, np.float32).reshape(1, generator.num_ws, generator.w_dim)
        self.layers = min(int(layers), generator.num_ws)
        self.free = tf.Variable(ws[:, : self.layers], name="free_ws")
        self.fixed = tf.constant(ws[:, self.layers :])
        self.handles = self._points(handles, "handle").round()
        self.targets = self._points(targets, "target")
        if self.handles.shape != self.targets.shape:
            raise ValueError(f"each handle needs a target: {len(self.handles)} handles, {len(self.targets)} targets")
        self.mask = None if mask is None else tf.constant(np.asarray(mask, np.float32))
        if self.mask is not None and tuple(self.mask.shape) != (self.side, self.side):
            raise ValueError(f"the mask is {tuple(self.mask.shape)}; expected the image's size, ({self.side}, {self.side})")
        self.mask_weight = float(mask_weight)
        self.stop_distance = float(stop_distance) if stop_distance is not None else scaled(STOP_AT_512, self.side)
        r1 = scaled(RADII_AT_512[0], self.side) if r1 is None else float(r1)
        r2 = scaled(RADII_AT_512[1], self.side) if r2 is None else float(r2)
        self.disc, self.search = tf.constant(motion.disc(r1)), tf.constant(motion.square(r2))
        _, maps = generator.synthesis(self.ws, training=False, noise=self.noise, features=True)
        self.feature_block = default_block(len(maps)) if feature_block is None else int(feature_block)
        self.initial = motion.resized(maps[self.feature_block], self.side)
        self.references = motion.sample(self.initial, tf.constant(self.handles))
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build([self.free])
        self.steps = 0
        self._step = tf.function(self._traced_step)
        self._logit = tf.function(lambda image: discriminator_logit(discriminator, image, label))

    def _points(self, points, what):
        points = np.asarray(points, np.float32).reshape(-1, 2)
        outside = (points < 0) | (points > self.side - 1)
        if outside.any():
            x, y = points[np.nonzero(outside.any(axis=1))[0][0]]
            raise ValueError(f"{what} ({x:g}, {y:g}) is outside the {self.side}x{self.side} image; expected x and y in [0, {self.side - 1}]")
        return points

    @property
    def ws(self):
        """The current W+ [1, num_ws, w_dim]."""
        return tf.concat([self.free, self.fixed], axis=1)

    def _traced_step(self, handles, targets):
        with tf.GradientTape() as tape:
            images, maps = self.generator.synthesis(self.ws, training=False, noise=self.noise, features=True)
            features = motion.resized(maps[self.feature_block], self.side)
            handles = motion.track(tf.stop_gradient(features), self.references, handles, self.search)
            # A handle that has arrived is left alone while the others still move.
            loss = motion.motion_loss(features, handles, targets, self.disc, arrived=self.stop_distance)
            if self.mask is not None:
                loss += self.mask_weight * motion.mask_loss(features, self.initial, self.mask)
        return images[0], handles, tape.gradient(loss, self.free)

    def step(self, update=True):
        """Tracks the handles in the current image and, unless they have arrived (or not
        `update`), takes one optimization step. The `Step` is of the image before that step."""
        image, handles, gradient = self._step(tf.constant(self.handles), tf.constant(self.targets))
        self.handles = handles.numpy()
        distances = np.linalg.norm(self.targets - self.handles, axis=1)
        done = bool((distances <= self.stop_distance).all())
        if update and not done:
            self.optimizer.apply_gradients([(gradient, self.free)])
            self.steps += 1
        return Step(image.numpy(), self.handles.copy(), distances, self.score(image), self.steps, done)

    def score(self, image):
        """D's logit for `image` [H, W, C], or None without a discriminator."""
        if self.discriminator is None:
            return None
        return float(self._logit(image))

    def run(self, max_steps):
        """Steps until every handle has arrived or `max_steps` steps are taken; returns the
        `Step` of the final image."""
        while True:
            last = self.steps >= max_steps
            result = self.step(update=not last)
            if result.done or last:
                return result
