"""The contract every generator and discriminator keeps.

A generator is called `G(z, labels=None, training=None)` and has `latent_dim`,
`num_classes` and `sample_shape`; a discriminator is called
`D(samples, labels=None, training=None)` and returns logits. The base classes
also rebuild a deserialized network's weights (`build_from_config`).

Mixed precision: networks are built under a Keras dtype policy
(`dtype_policy("mixed_bfloat16")`), which their layers pick up; a
discriminator's last layer computes in float32 so that logits, and the losses
on them, keep float32 precision.
"""

import contextlib
import math
import random

import keras
import tensorflow as tf
from keras import ops

from tfgan.replicas import replica_share


@contextlib.contextmanager
def dtype_policy(name):
    """Layers created inside use the Keras dtype policy `name`; the previous one returns after."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@contextlib.contextmanager
def seeded_weights(seed):
    """Networks built inside get initial weights that depend on `seed` alone.

    Keras gives each unseeded initializer a seed drawn from Python's `random`
    when the layer is made. Seeding `random` for the block, and handing the
    caller's state back after, fixes the weights without the process-wide side
    effects of `keras.utils.set_random_seed` (NumPy's, TensorFlow's and Python's
    generators all reseeded for the rest of the program).
    """
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def spectral(layer, enabled):
    """`layer` wrapped in Keras' SpectralNormalization where `enabled` (SN-GAN, Miyato et al. 2018).

    The wrapper computes in the layer's own dtype, so a float32 logit layer keeps
    float32 logits under mixed precision.
    """
    if not enabled:
        return layer
    return keras.layers.SpectralNormalization(layer, dtype=layer.dtype_policy, name=f"{layer.name}_sn")


def stateless_dropout(x, rate, seed):
    """`x` with a share `rate` of its entries zeroed and the rest scaled up to keep the mean.

    Keras' Dropout draws from a stateful seed generator; this mask comes from
    `seed` (the step's), drawn for the global batch and sliced as the latent
    noise is, so that a resumed run and N replicas drop what one run drops.
    The mask is drawn as random bytes, four from each 32 random bits, which
    costs a third of drawing floats (DCGAN's dropout was a fifth of its step
    time on CPU); so the rate is rounded to a multiple of 1/256 (0.3: 77/256)."""
    dropped = min(round(rate * 256), 255)
    keep_probability = 1.0 - dropped / 256.0
    per_example = math.prod(x.shape[1:])

    def draw(n):
        words = n * ((per_example + 3) // 4)  # each example's bytes start at a word, so no slicing
        bits = tf.random.stateless_uniform([words], seed=seed, minval=None, maxval=None, dtype=tf.uint32)
        random_bytes = tf.reshape(tf.bitcast(bits, tf.uint8), [n, -1])[:, :per_example]
        return tf.reshape(random_bytes >= dropped, [n, *x.shape[1:]])

    keep = replica_share(draw, ops.shape(x)[0])
    return ops.where(keep, x / keep_probability, ops.zeros_like(x))


def _labels(num_classes):
    return ops.zeros((1,), "int32") if num_classes else None


class Generator(keras.Model):
    reconstructs = False  # True: G takes a real image, not z (an autoencoder; `GAN.generator_input`)

    def build_from_config(self, config):
        shape = self.sample_shape if self.reconstructs else (self.latent_dim,)
        self(ops.zeros((1, *shape)), _labels(self.num_classes), training=False)


class Discriminator(keras.Model):
    def build_from_config(self, config):
        self(ops.zeros((1, *self.sample_shape)), _labels(self.num_classes), training=False)


def has_halves(generator):
    """Whether `generator` has StyleGAN's mapping and synthesis halves (`MappingSynthesisGenerator`'s)."""
    return callable(getattr(generator, "mapping", None)) and callable(getattr(generator, "synthesis", None))


CENTRE_SAMPLES = 2000  # z per class of a class centre: its mean w to about 1/45 of w's spread
CENTRE_SEED = (99, 0)  # the same z for every class and every call: a centre is a function of the weights


def truncate(ws, centre, psi, cutoff=None):
    """The truncation trick: ws [B, num_ws, w_dim] pulled toward `centre` (w_avg [w_dim], or a
    class centre per sample [B, 1, w_dim]), centre + psi (w - centre), in the first `cutoff`
    entries (None: all). psi 1 changes nothing; psi 0 gives the centre."""
    psi = ops.cast(psi, ws.dtype)
    truncated = centre + psi * (ws - centre)
    return truncated if cutoff is None else style_mix(truncated, ws, cutoff)


def style_mix(ws, other, cutoff):
    """ws [B, num_ws, w_dim] whose entries from `cutoff` on are `other`'s: the first `cutoff`
    layers (coarse: pose, shape) keep `ws`'s styles, the rest (fine: texture, stroke) take `other`'s."""
    layers = ops.reshape(ops.arange(ws.shape[1]) < cutoff, (1, -1, 1))
    return ops.where(layers, ws, other)


class MappingSynthesisGenerator(Generator):
    """A generator in two halves (StyleGAN's): `mapping(z, labels) -> w` [B, w_dim], and
    `synthesis(ws) -> images`, where ws [B, num_ws, w_dim] gives each layer its own w (W+).

    `G(z, labels)` is synthesis of the same w at every layer, as for any generator;
    the halves are what truncation, style mixing, GAN inversion and point editing
    work on. Subclasses set `mapping_network` (a layer with `w_avg`, the running mean
    of w) and `synthesis_network` (a layer with `num_ws`), and `style_mixing`.

    Truncation (`psi`) pulls w toward w_avg, or, for a labelled sample of a
    conditional G, toward its class's centre (`class_centres`).

    In training, given a `seed` (`tfgan.GAN` hands one to every `stochastic`
    generator), it draws its noise statelessly from it: style mixing (with
    probability `style_mixing`, the layers from a random crossover on take the w of
    a second z) and the per-layer noise inputs. Without a seed its noise is fixed
    (`noise="const"`), so that sampling and exports are deterministic.
    """

    stochastic = True
    style_mixing = 0.0

    @property
    def num_ws(self):
        return self.synthesis_network.num_ws

    @property
    def w_dim(self):
        return self.mapping_network.w_dim

    @property
    def w_avg(self):
        return self.mapping_network.w_avg

    def mapping(self, z, labels=None, training=None, update_w_avg=True):
        return self.mapping_network(z, labels, training=training, update_w_avg=update_w_avg)

    def class_centres(self, samples=CENTRE_SAMPLES):
        """[num_classes, w_dim]: each class's mean w, over the same `samples` fixed z for every class.

        What truncation pulls a labelled sample toward, as StyleGAN-XL's per-class
        w_avg does. The global w_avg is a blend of every class's w, so pulling a 2
        toward it pulls it toward the other digits: on conditional MNIST psi 0.9
        toward w_avg lowered requested-class accuracy (95.9% -> 95.4%) where
        toward its class's centre it raised it (96.3% -> 98.1%). Computed from the
        mapping as it stands, not tracked in training: every checkpoint has them.
        """
        z = tf.random.stateless_normal([samples, self.latent_dim], seed=CENTRE_SEED)
        means = [  # in float32: a bfloat16 mean of 2,000 w would keep 3 digits
            ops.mean(ops.cast(self.mapping(z, ops.full([samples], label, "int32"), training=False, update_w_avg=False), "float32"), axis=0)
            for label in range(self.num_classes)
        ]
        return ops.stack(means)

    def truncation_centre(self, labels=None, centres=None):
        """What truncation pulls ws toward: w_avg, or given labels (a conditional G) each one's
        class centre [B, 1, w_dim], from `centres` (`class_centres()`, computed if None)."""
        if labels is None or not self.num_classes:
            return self.w_avg
        centres = self.class_centres() if centres is None else centres
        return ops.expand_dims(ops.take(centres, ops.cast(labels, "int32"), axis=0), 1)

    def broadcast(self, w):
        """w [B, w_dim] -> ws [B, num_ws, w_dim]. A broadcast, not a repeat: XLA compiles
        the gradient of a repeat inside path length's tf.cond only with constant shapes."""
        batch, w_dim = ops.shape(w)
        return ops.broadcast_to(ops.expand_dims(w, 1), (batch, self.num_ws, w_dim))

    def synthesis(self, ws, training=None, seed=None, noise="auto", features=False):
        """images [B, H, W, C] from ws; with `features`, (images, [each block's feature map]).
        `noise`: random (needs `seed`), const, none, auto (random given a seed, else const), or
        a list of maps [B or 1, r, r, 1], one per noise layer (`noise_maps()` gives the const ones)."""
        return self.synthesis_network(ws, training=training, seed=seed, noise=noise, features=features)

    def noise_maps(self):
        """The fixed noise maps [1, r, r, 1] of `noise="const"`, one per noise layer."""
        return [ops.convert_to_tensor(layer.noise_const) for layer in self.synthesis_network.noise_layers]

    def call(self, z, labels=None, training=None, seed=None, psi=1.0, cutoff=None, noise="auto", centres=None):
        """`psi`, `cutoff`: truncation (see `truncate`, `truncation_centre`); `centres`: the class
        centres to truncate toward, where computed once for many calls (an export bakes them in)."""
        ws = self.broadcast(self.mapping(z, labels, training=training))
        if training and seed is not None and self.style_mixing:
            ws = self._mix_at_random(ws, z, labels, seed)
        if not (isinstance(psi, (int, float)) and psi == 1.0):
            ws = truncate(ws, ops.cast(self.truncation_centre(labels, centres), ws.dtype), psi, cutoff)
        return self.synthesis(ws, training=training, seed=None if seed is None else _fold(seed, 1), noise=noise)

    def _mix_at_random(self, ws, z, labels, seed):
        """StyleGAN's mixing regularization: with probability `style_mixing` the layers from a
        crossover drawn in [1, num_ws) on take the w of a second z (the same one for the batch)."""
        draws = [_fold(seed, 2 + i) for i in range(3)]
        other_z = replica_share(lambda n: tf.random.stateless_normal([n, self.latent_dim], seed=draws[0], dtype=z.dtype), tf.shape(z)[0])
        other = self.broadcast(self.mapping(other_z, labels, training=True, update_w_avg=False))
        crossover = tf.random.stateless_uniform([], seed=draws[1], minval=1, maxval=self.num_ws, dtype=tf.int32)
        mixes = tf.random.stateless_uniform([], seed=draws[2]) < self.style_mixing
        return style_mix(ws, other, tf.where(mixes, crossover, self.num_ws))


def _fold(seed, data):
    return tf.random.experimental.stateless_fold_in(seed, data)
