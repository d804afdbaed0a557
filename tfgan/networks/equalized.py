"""The layers of Karras et al.'s networks (PGGAN, and StyleGAN after it).

- `EqualizedDense`, `EqualizedConv2D`: the equalized learning rate. Weights are
  drawn from N(0, 1) and multiplied at run time by the He constant
  gain / sqrt(fan_in), so the effective weight has He's standard deviation while
  Adam, which normalises each weight's update by its own gradient scale, moves
  every layer at the same speed (Karras et al. 2018, section 4.1).
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

HE_GAIN = math.sqrt(2.0)  # for (leaky) ReLU layers


@keras.saving.register_keras_serializable(package="tfgan")
class EqualizedDense(keras.layers.Layer):
    def __init__(self, units, gain=HE_GAIN, **kwargs):
        super().__init__(**kwargs)
        self.units, self.gain = int(units), float(gain)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.scale = self.gain / math.sqrt(fan_in)
        self.kernel = self.add_weight(shape=(fan_in, self.units), initializer=keras.initializers.RandomNormal(0.0, 1.0), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, x):
        kernel = ops.cast(self.kernel * self.scale, self.compute_dtype)
        return ops.matmul(x, kernel) + ops.cast(self.bias, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gain": self.gain}


@keras.saving.register_keras_serializable(package="tfgan")
class EqualizedConv2D(keras.layers.Layer):
    """A stride-1, 'same'-padded convolution with an equalized learning rate."""

    def __init__(self, filters, kernel_size=3, gain=HE_GAIN, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.gain = int(filters), int(kernel_size), float(gain)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.scale = self.gain / math.sqrt(self.kernel_size * self.kernel_size * channels)
        self.kernel = self.add_weight(
            shape=(self.kernel_size, self.kernel_size, channels, self.filters),
            initializer=keras.initializers.RandomNormal(0.0, 1.0), name="kernel",
        )
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    def call(self, x):
        kernel = ops.cast(self.kernel * self.scale, self.compute_dtype)
        return ops.conv(x, kernel, padding="same") + ops.cast(self.bias, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size, "gain": self.gain}


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
    """[B, H, W, C] -> [B, H, W, C + 1]. Samples i, i + B/G, i + 2B/G, ... form a group
    of G (as the reference groups them); B must be a multiple of G, or smaller than it.
    `group_size` 0: one group of the whole minibatch (the paper's original statistic)."""

    def __init__(self, group_size=4, **kwargs):
        super().__init__(**kwargs)
        self.group_size = int(group_size)

    def call(self, x):
        shape = tf.shape(x)
        group = shape[0] if self.group_size == 0 else tf.minimum(self.group_size, shape[0])
        y = tf.reshape(tf.cast(x, tf.float32), [group, -1, shape[1], shape[2], shape[3]])  # [G, M, H, W, C]
        y = tf.sqrt(tf.reduce_mean(tf.square(y - tf.reduce_mean(y, axis=0, keepdims=True)), axis=0) + 1e-8)
        y = tf.reduce_mean(y, axis=[1, 2, 3], keepdims=True)  # [M, 1, 1, 1]: one number per group
        y = tf.tile(tf.cast(y, x.dtype), [group, shape[1], shape[2], 1])  # back to [B, H, W, 1], in the same order
        return tf.concat([x, y], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size}
