"""2x up- and downsampling through the [1, 3, 3, 1] low-pass filter (StyleGAN2's upfirdn2d), in plain ops.

NVIDIA's StyleGAN2 resamples with a custom CUDA op (upfirdn2d), which neither
SavedModel nor ONNX can carry. The same arithmetic, written with pads, slices,
reshapes and a depthwise convolution, exports anywhere:

- `upsample`: zeros inserted between the pixels, then the separable filter
  [1, 3, 3, 1] / 8 with gain 4 (2 per axis), zero padding at the borders. Per axis,
  out[2i] = x[i-1] / 4 + 3 x[i] / 4 and out[2i+1] = 3 x[i] / 4 + x[i+1] / 4: each
  phase a depthwise convolution with three taps along the axis, the two interleaved.
  (Taking x[i-1], x[i], x[i+1] as slices instead, as this did first, is the same
  arithmetic, but on the CPU the slices' gradients took a third of the G step.)
- `blur`: the filter [1, 3, 3, 1] / 8 per axis (sum 1), stride 1, `pad` zeros each side.
- `downsample`: `blur` with padding 1, every second pixel kept:
  out[i] = (x[2i-1] + 3 x[2i] + 3 x[2i+1] + x[2i+2]) / 8.

All on NHWC tensors, in their own dtype.
"""

import numpy as np
import tensorflow as tf

TAPS = (1.0, 3.0, 3.0, 1.0)


# The taps on (x[i-1], x[i], x[i+1]) of output pixels 2i and 2i+1 along an axis.
_PHASES = ((0.25, 0.75, 0.0), (0.0, 0.75, 0.25))


def _upsample_axis(x, axis):
    """Doubles `axis` (1 or 2) of x: each phase a depthwise convolution with three taps along
    it, the two interleaved by a stack and a reshape (no transpose: under XLA the gradient
    of a transpose's gradient, which path length takes, fails inside a cond)."""
    channels = x.shape[-1]
    pad = [[0, 0]] * 4
    pad[axis] = [1, 1]
    padded = tf.pad(x, pad)
    shape = [1, 1, channels, 1]
    shape[axis - 1] = 3
    phases = [tf.nn.depthwise_conv2d(padded, tf.constant(np.broadcast_to(np.reshape(taps, shape[:2] + [1, 1]), shape), x.dtype),
                                     strides=[1, 1, 1, 1], padding="VALID") for taps in _PHASES]
    size = tf.unstack(tf.shape(x))
    size[axis] = 2 * size[axis]
    return tf.reshape(tf.stack(phases, axis=axis + 1), tf.stack(size))


def upsample(x):
    """[B, H, W, C] -> [B, 2H, 2W, C]."""
    return _upsample_axis(_upsample_axis(x, 1), 2)


def _kernel(channels, dtype):
    taps = np.asarray(TAPS) / np.sum(TAPS)
    kernel = np.outer(taps, taps)[:, :, None, None] * np.ones((1, 1, channels, 1))
    return tf.constant(kernel, dtype=dtype)


def blur(x, pad):
    """The 4x4 filter at stride 1 with `pad` zeros on every side: [B, H, W, C] -> [B, H + 2 pad - 3, ...]."""
    x = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    return tf.nn.depthwise_conv2d(x, _kernel(x.shape[-1], x.dtype), strides=[1, 1, 1, 1], padding="VALID")


def downsample(x):
    """[B, H, W, C] -> [B, H/2, W/2, C]."""
    x = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    return tf.nn.depthwise_conv2d(x, _kernel(x.shape[-1], x.dtype), strides=[1, 2, 2, 1], padding="VALID")
