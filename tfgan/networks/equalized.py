"""The layers of Karras et al.'s networks (PGGAN, and StyleGAN after it).

- `EqualizedDense`, `EqualizedConv2D`: the equalized learning rate. Weights are
  drawn from N(0, 1) and multiplied at run time by the He constant
  gain / sqrt(fan_in), so the effective weight has He's standard deviation while
  Adam, which normalises each weight's update by its own gradient scale, moves
  every layer at the same speed (Karras et al. 2018, section 4.1). A learning-rate
  multiplier m (StyleGAN's mapping network, 0.01) draws the weights from
  N(0, 1/m^2) and multiplies weights and biases by m at run time: the same
  initial function, trained m times slower. `EqualizedConv2D(down=True)` blurs
  with [1, 3, 3, 1] and convolves at stride 2 (StyleGAN2's D).
- `PixelNormalization`: each pixel's feature vector scaled to unit mean square
  (section 4.2), in G after every convolution.
- `MinibatchStddev`: appends one feature map holding the standard deviation of
  the features over groups of samples, averaged over features and pixels
  (section 3), before D's last convolution; D can then tell a batch of too-similar
  fakes from a batch of reals.

Each computes in its layer's dtype policy; the statistics of the minibatch
standard deviation in float32.
"""

import math

import keras
import tensorflow as tf
from keras import ops

from tfgan.networks import resample

HE_GAIN = math.sqrt(2.0)  # for (leaky) ReLU layers


@keras.saving.register_keras_serializable(package="tfgan")
class EqualizedDense(keras.layers.Layer):
    """`bias_init`: the biases' initial value (1 for StyleGAN's style affines, whose
    styles multiply the weights and so start near 1)."""

    def __init__(self, units, gain=HE_GAIN, lr_multiplier=1.0, bias_init=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.gain = int(units), float(gain)
        self.lr_multiplier, self.bias_init = float(lr_multiplier), float(bias_init)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.scale = self.gain * self.lr_multiplier / math.sqrt(fan_in)
        self.kernel = self.add_weight(
            shape=(fan_in, self.units), initializer=keras.initializers.RandomNormal(0.0, 1.0 / self.lr_multiplier), name="kernel",
        )
        self.bias = self.add_weight(shape=(self.units,), initializer=keras.initializers.Constant(self.bias_init), name="bias")

    def call(self, x):
        kernel = ops.cast(self.kernel * self.scale, self.compute_dtype)
        return ops.matmul(x, kernel) + ops.cast(self.bias * self.lr_multiplier, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(), "units": self.units, "gain": self.gain,
            "lr_multiplier": self.lr_multiplier, "bias_init": self.bias_init,
        }


@keras.saving.register_keras_serializable(package="tfgan")
class EqualizedConv2D(keras.layers.Layer):
    """A stride-1, 'same'-padded convolution with an equalized learning rate; with
    `down`, the input blurred and the convolution strided by 2 (output H/2 x W/2)."""

    def __init__(self, filters, kernel_size=3, gain=HE_GAIN, down=False, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.gain = int(filters), int(kernel_size), float(gain)
        self.down, self.use_bias = bool(down), bool(use_bias)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.scale = self.gain / math.sqrt(self.kernel_size * self.kernel_size * channels)
        self.kernel = self.add_weight(
            shape=(self.kernel_size, self.kernel_size, channels, self.filters),
            initializer=keras.initializers.RandomNormal(0.0, 1.0), name="kernel",
        )
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias") if self.use_bias else None

    def call(self, x):
        kernel = ops.cast(self.kernel * self.scale, self.compute_dtype)
        if self.down:
            # StyleGAN2's conv2d_resample: blur with (filter + kernel - 3) / 2 zeros each side, then a
            # stride-2 valid convolution; a 1x1 kernel is the plain blur-and-subsample.
            x = resample.downsample(x) if self.kernel_size == 1 else resample.blur(x, (self.kernel_size + 1) // 2)
            x = ops.conv(x, kernel, strides=1 if self.kernel_size == 1 else 2, padding="valid")
        else:
            x = ops.conv(x, kernel, padding="same")
        return x + ops.cast(self.bias, self.compute_dtype) if self.use_bias else x

    def compute_output_shape(self, input_shape):
        if self.down:
            return (input_shape[0], input_shape[1] // 2, input_shape[2] // 2, self.filters)
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {
            **super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size, "gain": self.gain,
            "down": self.down, "use_bias": self.use_bias,
        }


@keras.saving.register_keras_serializable(package="tfgan")
class PixelNormalization(keras.layers.Layer):
    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, x):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="tfgan")
class MinibatchStddev(keras.layers.Layer):
    """[B, H, W, C] -> [B, H, W, C + F]. Samples i, i + B/G, i + 2B/G, ... form a group
    of G (as the reference groups them); B must be a multiple of G, or smaller than it.
    `group_size` 0: one group of the whole minibatch (the paper's original statistic).
    `num_channels` F: the C channels split into F slices, one statistic each
    (StyleGAN2-ADA's mbstd_num_channels; C must be a multiple of F).

    `contiguous`: samples G i, ..., G i + G - 1 form a group instead. Then a batch
    split over replicas in shares of a multiple of G groups as the whole batch
    does on one device, so N replicas train what one does (StyleGAN2 here).
    """

    def __init__(self, group_size=4, contiguous=False, num_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.group_size, self.contiguous, self.num_channels = int(group_size), bool(contiguous), int(num_channels)

    def call(self, x):
        # Static dimensions where known: XLA needs the gradient's shapes at compile time,
        # and inside lazy R1's tf.cond it cannot fold tf.shape (or a transpose's
        # inverted permutation) into constants.
        shape = ops.shape(x)  # ints where static, tensors where not
        group = shape[0] if self.group_size == 0 else (
            min(self.group_size, shape[0]) if isinstance(shape[0], int) else tf.minimum(self.group_size, shape[0]))
        y = tf.cast(x, tf.float32)
        if self.contiguous:
            y, axis = tf.reshape(y, [-1, group, shape[1], shape[2], shape[3]]), 1  # [M, G, H, W, C]
        else:
            y, axis = tf.reshape(y, [group, -1, shape[1], shape[2], shape[3]]), 0  # [G, M, H, W, C]
        y = tf.sqrt(tf.reduce_mean(tf.square(y - tf.reduce_mean(y, axis=axis, keepdims=True)), axis=axis) + 1e-8)
        f = self.num_channels
        y = tf.reshape(y, [-1, shape[1], shape[2], f, shape[3] // f])  # [M, H, W, F, C/F]
        y = tf.cast(tf.reduce_mean(y, axis=[1, 2, 4])[:, None, None, :], x.dtype)  # [M, 1, 1, F]: F numbers per group
        if self.contiguous:
            y = tf.reshape(tf.broadcast_to(y[:, None], [shape[0] // group, group, 1, 1, f]), [-1, 1, 1, f])  # b gets group b // G's
        else:
            y = tf.reshape(tf.broadcast_to(y[None], [group, shape[0] // group, 1, 1, f]), [-1, 1, 1, f])  # back in the same order
        y = tf.broadcast_to(y, [shape[0], shape[1], shape[2], f])
        return tf.concat([x, y], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.num_channels)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "contiguous": self.contiguous, "num_channels": self.num_channels}
