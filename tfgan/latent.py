"""z from a seed: one definition for every place that samples a trained generator.

`GAN.generate`, the evaluation sampler, the SavedModel's `generate` signature
and `python -m tfgan.generate` (which runs ONNX models without TensorFlow) all
turn a seed into z here, so the same seed gives the same images from a run, a
SavedModel and an ONNX file.

The draw is a counter-based generator that NumPy and TensorFlow compute alike:
element k of the row-major [num, latent_dim] array is a Box-Muller normal of
two uniforms, which are the SplitMix64 hashes of counters 2k and 2k+1 under a
key hashed from the seed. Row n depends only on (seed, n), not on num, so the
first 8 of 64 samples are the 8 samples of num=8. The sums are done in float64
and rounded to float32, so the two implementations agree to the last bit but
for rare ties of float64 rounding in log/cos (tests allow 1e-6).

Latent noise *during training* is drawn by `tf.random.stateless_normal` keyed by
(seed, step), which is faster on accelerators; it is never shown to users.
"""

import math

import numpy as np

_GOLDEN = 0x9E3779B97F4A7C15  # SplitMix64's increment
_MIX = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
_KEY_STREAM = 0x7A5EED  # keeps the key of seed s apart from the counters of seed s


def normal(num, latent_dim, seed=0):
    """z [num, latent_dim] float32, with NumPy."""
    counters = np.arange(2 * num * latent_dim, dtype=np.uint64)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        bits = _splitmix(_key(seed) + (counters + np.uint64(1)) * np.uint64(_GOLDEN))
    uniform = ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53  # in (0, 1): log is finite
    u1, u2 = uniform[0::2], uniform[1::2]
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)
    return z.astype(np.float32).reshape(num, latent_dim)


def normal_tf(num, latent_dim, seed=0):
    """z [num, latent_dim] float32, with TensorFlow ops (in a graph: `num` and `seed` may be tensors)."""
    import tensorflow as tf

    seed = tf.cast(seed, tf.int64)
    key = _splitmix_tf(tf.bitcast(seed, tf.uint64) + tf.constant(_KEY_STREAM * _GOLDEN % 2**64, tf.uint64), tf)
    size = tf.cast(2 * num * latent_dim, tf.int64)
    counters = tf.bitcast(tf.range(size, dtype=tf.int64), tf.uint64)
    bits = _splitmix_tf(key + (counters + tf.constant(1, tf.uint64)) * tf.constant(_GOLDEN, tf.uint64), tf)
    top = tf.bitwise.right_shift(bits, tf.constant(11, tf.uint64))
    uniform = (tf.cast(top, tf.float64) + 0.5) * 2.0**-53
    u1, u2 = uniform[0::2], uniform[1::2]
    z = tf.sqrt(-2.0 * tf.math.log(u1)) * tf.cos(2.0 * math.pi * u2)
    return tf.reshape(tf.cast(z, tf.float32), [num, latent_dim])


def _key(seed):
    with np.errstate(over="ignore"):
        return _splitmix(np.uint64(int(seed) % 2**64) + np.uint64(_KEY_STREAM * _GOLDEN % 2**64))


def _splitmix(x):
    """SplitMix64's finalizer (Steele, Lea and Flood 2014), on uint64 arrays."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(_MIX[0])
        x = (x ^ (x >> np.uint64(27))) * np.uint64(_MIX[1])
        return x ^ (x >> np.uint64(31))


def _splitmix_tf(x, tf):
    shift = lambda v, n: tf.bitwise.right_shift(v, tf.constant(n, tf.uint64))  # noqa: E731
    x = tf.bitwise.bitwise_xor(x, shift(x, 30)) * tf.constant(_MIX[0], tf.uint64)
    x = tf.bitwise.bitwise_xor(x, shift(x, 27)) * tf.constant(_MIX[1], tf.uint64)
    return tf.bitwise.bitwise_xor(x, shift(x, 31))
