"""A GPT over token sequences (Radford et al. 2019; nanoGPT's layout), with a key/value cache.

VQGAN's stage 2 (Esser et al. 2021) models a code grid, flattened row by row, one
token at a time. `GPT(tokens, labels)` gives, at every position t, the logits of
token t given a leading start token and tokens[:t]: the start token is a class's
embedding (class-conditional, taming-transformers' "class token") or one learned
vector. Each block is pre-norm: x + attention(norm(x)), then x + MLP(norm(x)),
the MLP 4x wide with GELU; learned position embeddings; no dropout
(taming-transformers' GPT trains without it).

`CachedAttention` is Keras' `MultiHeadAttention` with a second way to call it:
one position at a time, keeping every earlier position's keys and values in a
cache, so that sampling T tokens costs T one-position passes rather than T
passes over the growing prefix (KerasHub's `CachedMultiHeadAttention` does the
same; it is not used here because KerasHub needs tensorflow-text). Written to
the cache with a one-hot mask rather than a scatter, so the loop stays in plain
TensorFlow ops that SavedModel and XLA take.
"""

import math

import keras
import tensorflow as tf
from keras import layers


@keras.saving.register_keras_serializable(package="tfgan")
class CachedAttention(layers.MultiHeadAttention):
    """`call` as Keras' (training, and uncached sampling with `use_causal_mask`);
    `call_cached(x, cache, index)` for position `index` alone."""

    def call_cached(self, x, cache, index):
        """x [B, 1, D] at position `index` (a scalar tensor); cache [B, 2, T, heads, head_dim],
        the keys and values of positions < index (zeros after). Returns (output [B, 1, D],
        the cache with this position's keys and values)."""
        length = tf.shape(cache)[2]
        query = self._query_dense(x) / math.sqrt(float(self._key_dim))  # [B, 1, heads, head_dim], scaled as Keras does
        at = tf.reshape(tf.one_hot(index, length, dtype=x.dtype), [1, -1, 1, 1])
        keys = cache[:, 0] + at * self._key_dense(x)  # position `index` was zeros
        values = cache[:, 1] + at * self._value_dense(x)
        scores = tf.einsum("bqhd,bkhd->bhqk", query, keys)
        seen = tf.reshape(tf.range(length) <= index, [1, 1, 1, -1])
        weights = tf.nn.softmax(tf.where(seen, scores, tf.cast(-1e9, scores.dtype)), axis=-1)
        attended = tf.einsum("bhqk,bkhd->bqhd", weights, values)
        return self._output_dense(attended), tf.stack([keys, values], axis=1)


@keras.saving.register_keras_serializable(package="tfgan")
class Block(layers.Layer):
    def __init__(self, dim, heads, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.heads = int(dim), int(heads)
        self.norm1 = layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.attention = CachedAttention(self.heads, self.dim // self.heads, name="attention")
        self.norm2 = layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.mlp_in = layers.Dense(4 * self.dim, activation="gelu", name="mlp_in")
        self.mlp_out = layers.Dense(self.dim, name="mlp_out")

    def call(self, x):
        h = self.norm1(x)
        x = x + self.attention(h, h, use_causal_mask=True)
        return x + self.mlp_out(self.mlp_in(self.norm2(x)))

    def call_cached(self, x, cache, index):
        attended, cache = self.attention.call_cached(self.norm1(x), cache, index)
        x = x + attended
        return x + self.mlp_out(self.mlp_in(self.norm2(x))), cache

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "heads": self.heads}


@keras.saving.register_keras_serializable(package="tfgan")
class GPT(keras.Model):
    """tokens [B, length] (int) and labels [B] -> logits [B, length, vocab_size]: position t
    predicts tokens[:, t] from the start token and tokens[:, :t]."""

    def __init__(self, vocab_size, length, num_classes=0, num_layers=4, heads=4, dim=128, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.length, self.num_classes = int(vocab_size), int(length), int(num_classes)
        self.num_layers, self.heads, self.dim = int(num_layers), int(heads), int(dim)
        if self.dim % self.heads:
            raise ValueError(f"The transformer's width {self.dim} must be a multiple of its {self.heads} heads")
        init = keras.initializers.RandomNormal(stddev=0.02)  # GPT-2's
        self.token_embedding = layers.Embedding(self.vocab_size, self.dim, embeddings_initializer=init, name="token_embedding")
        self.start_embedding = layers.Embedding(max(self.num_classes, 1), self.dim, embeddings_initializer=init, name="start_embedding")
        self.position_embedding = self.add_weight(shape=(self.length, self.dim), initializer=init, name="position_embedding")
        self.blocks = [Block(self.dim, self.heads, name=f"block{i}") for i in range(self.num_layers)]
        self.norm = layers.LayerNormalization(epsilon=1e-5, name="norm")
        self.head = layers.Dense(self.vocab_size, use_bias=False, kernel_initializer=init, name="head")

    def _start(self, labels, batch):
        labels = tf.zeros([batch], tf.int32) if labels is None or not self.num_classes else labels
        return self.start_embedding(labels)

    def call(self, tokens, labels=None, training=None):
        start = self._start(labels, tf.shape(tokens)[0])[:, None]
        x = tf.concat([start, self.token_embedding(tokens[:, :-1])], axis=1) + self.position_embedding
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))

    def empty_cache(self, batch):
        """Zeros for every block's keys and values: [layers, B, 2, length, heads, head_dim]."""
        return tf.zeros([self.num_layers, batch, 2, self.length, self.heads, self.dim // self.heads], self.compute_dtype)

    def next_logits(self, previous, labels, index, cache):
        """(logits [B, vocab] of the token at `index`, the cache with it): `previous` [B] is the
        token at index - 1 (ignored at index 0, where the start token goes in)."""
        batch = tf.shape(previous)[0]
        embedded = tf.where(index == 0, self._start(labels, batch), self.token_embedding(previous))
        x = (embedded + tf.gather(self.position_embedding, index))[:, None]
        caches = []
        for i, block in enumerate(self.blocks):
            x, layer_cache = block.call_cached(x, cache[i], index)
            caches.append(layer_cache)
        return self.head(self.norm(x))[:, 0], tf.stack(caches)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "length": self.length, "num_classes": self.num_classes,
                "num_layers": self.num_layers, "heads": self.heads, "dim": self.dim}

    def build_from_config(self, config):
        self(tf.zeros([1, self.length], tf.int32), tf.zeros([1], tf.int32) if self.num_classes else None)
