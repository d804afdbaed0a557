"""DCGAN (Radford et al. 2015, https://arxiv.org/abs/1511.06434).

The guidelines, as the paper states them:
- strided convolutions in D and transposed convolutions in G, no pooling;
- batch norm everywhere except G's output layer and D's input layer;
- ReLU in G with a tanh output, LeakyReLU(0.2) in D;
- weights from N(0, 0.02); Adam(2e-4, beta_1=0.5) (set in the configs).

The number of 2x up/down-sampling stages is derived from the image size, so the
same classes serve 28x28 (7 -> 14 -> 28), 32x32 (4 -> 8 -> 16 -> 32) and 64x64
(4 -> ... -> 64), grey or colour. A size they cannot build raises an error
naming the size, rather than the shape mismatch deep inside `fit` that a
64x64 network fed 28x28 MNIST gives in the usual tutorial.
"""

import keras
import tensorflow as tf
from keras import ops

from tfgan.networks import conditioning
from tfgan.networks.base import Discriminator, Generator, spectral, stateless_dropout

_MIN_BASE = 4  # the smallest feature map: G's projection and D's last conv
D_NORMS = ("batch", "layer", "none")  # D's normalization after its first convolution


def num_stages(image_shape):
    """How many 2x stages take a >=4x4 base map to `image_shape` [H, W, C]."""
    if len(image_shape) != 3:
        raise ValueError(
            f"DCGAN networks need images of shape [height, width, channels]. "
            f"Received: image_shape={tuple(image_shape)}"
        )
    height, width = image_shape[0], image_shape[1]
    stages = 0
    while (
        height % 2 ** (stages + 1) == 0
        and width % 2 ** (stages + 1) == 0
        and min(height, width) // 2 ** (stages + 1) >= _MIN_BASE
    ):
        stages += 1
    if stages == 0:
        raise ValueError(
            f"DCGAN cannot build {height}x{width} images: height and width must be "
            f"divisible by 2 with at least a {_MIN_BASE}x{_MIN_BASE} map left "
            f"(e.g. 28, 32 or 64). Set data.resolution to a supported size."
        )
    return stages


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def _batch_norm(name, synchronized):
    # momentum 0.9 / epsilon 1e-5: the running statistics PyTorch's DCGAN keeps,
    # so that inference-mode samples track the generator closely. `synchronized`:
    # statistics over the global batch under tf.distribute, not each replica's share.
    return keras.layers.BatchNormalization(
        momentum=0.9,
        epsilon=1e-5,
        gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02),
        synchronized=synchronized,
        name=name,
    )


@keras.saving.register_keras_serializable(package="tfgan")
class DCGANGenerator(Generator):
    """z [B, latent_dim] (+ labels [B]) -> images [B, H, W, C] in [-1, 1]."""

    def __init__(
        self,
        sample_shape,
        latent_dim=100,
        filters=64,
        num_classes=0,
        label_encoding="embedding",
        sync_batch_norm=False,
        base_kernel=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sample_shape = tuple(int(s) for s in sample_shape)
        self.latent_dim = int(latent_dim)
        self.filters = int(filters)
        self.base_kernel = int(base_kernel)
        self.num_classes = int(num_classes)
        self.label_encoding = label_encoding
        self.sync_batch_norm = bool(sync_batch_norm)
        stages = num_stages(self.sample_shape)
        height, width, channels = self.sample_shape
        self.base_shape = (height // 2**stages, width // 2**stages, self.filters * 2 ** (stages - 1))
        if self.num_classes:
            self.label_code = conditioning.label_encoder(
                self.num_classes, label_encoding, self.latent_dim, "label_code"
            )
        self.project = keras.layers.Dense(
            self.base_shape[0] * self.base_shape[1] * self.base_shape[2],
            use_bias=False,
            kernel_initializer=_init(),
            name="project",
        )
        self.project_norm = _batch_norm("project_norm", self.sync_batch_norm)
        self.up = []  # (convolution, batch norm) pairs, each followed by ReLU
        if self.base_kernel:
            # The keras.io DCGAN's extra layer: a convolution at the base resolution before
            # any upsampling; on MNIST it buys more per step than it costs (docs/dcgan_tuning.md).
            self.up.append(
                (
                    keras.layers.Conv2D(
                        self.base_shape[2], self.base_kernel, padding="same", use_bias=False,
                        kernel_initializer=_init(), name="base_conv",
                    ),
                    _batch_norm("base_conv_norm", self.sync_batch_norm),
                )
            )
        for i in range(1, stages):  # every stage but the last halves the filters
            self.up.append(
                (
                    keras.layers.Conv2DTranspose(
                        self.base_shape[2] // 2**i, 4, 2, padding="same", use_bias=False,
                        kernel_initializer=_init(), name=f"up_{i}",
                    ),
                    _batch_norm(f"up_{i}_norm", self.sync_batch_norm),
                )
            )
        self.to_image = keras.layers.Conv2DTranspose(
            channels, 4, 2, padding="same", activation="tanh",
            kernel_initializer=_init(), name="to_image",
        )

    def call(self, z, labels=None, training=None):
        conditioning.require_labels(self, labels)
        if self.num_classes:
            z = ops.concatenate([z, conditioning.encode(self.label_code, labels)], axis=-1)
        h = self.project_norm(self.project(z), training=training)
        h = ops.reshape(ops.relu(h), (-1, *self.base_shape))  # [B, h0, w0, F]
        for conv, norm in self.up:
            h = ops.relu(norm(conv(h), training=training))
        return self.to_image(h)  # [B, H, W, C]

    def get_config(self):
        return {
            **super().get_config(),
            "sample_shape": self.sample_shape,
            "latent_dim": self.latent_dim,
            "filters": self.filters,
            "num_classes": self.num_classes,
            "label_encoding": self.label_encoding,
            "sync_batch_norm": self.sync_batch_norm,
            "base_kernel": self.base_kernel,
        }


@keras.saving.register_keras_serializable(package="tfgan")
class DCGANDiscriminator(Discriminator):
    """images [B, H, W, C] (+ labels [B]) -> logits [B, 1]."""

    def __init__(
        self,
        sample_shape,
        filters=64,
        num_classes=0,
        label_encoding="one_hot",
        conditioning_mode="concat",
        label_dim=10,
        sync_batch_norm=False,
        spectral_norm=False,
        norm="batch",
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        conditioning.check_choice("conditioning_mode", conditioning_mode, conditioning.D_CONDITIONINGS)
        conditioning.check_choice("norm", norm, D_NORMS)
        self.sample_shape = tuple(int(s) for s in sample_shape)
        self.filters = int(filters)
        self.spectral_norm = bool(spectral_norm)
        self.norm = norm
        self.dropout = float(dropout)
        self.num_classes = int(num_classes)
        self.label_encoding = label_encoding
        self.conditioning_mode = conditioning_mode
        self.label_dim = int(label_dim)
        self.sync_batch_norm = bool(sync_batch_norm)
        stages = num_stages(self.sample_shape)
        top_filters = self.filters * 2 ** (stages - 1)
        if self.num_classes and conditioning_mode == "concat":
            # The label code is broadcast to extra input channels.
            self.label_code = conditioning.label_encoder(
                self.num_classes, label_encoding, self.label_dim, "label_code"
            )
        if self.num_classes and conditioning_mode == "projection":
            self.label_code = keras.layers.Embedding(self.num_classes, top_filters, name="label_projection")
        self.down = []
        for i in range(stages):
            conv = spectral(keras.layers.Conv2D(
                self.filters * 2**i, 4, 2, padding="same", use_bias=(i == 0 or norm == "none"),
                kernel_initializer=_init(), name=f"down_{i}",
            ), self.spectral_norm)
            self.down.append((conv, None if i == 0 else self._normalization(f"down_{i}_norm")))  # none at D's input
        self.flatten = keras.layers.Flatten()
        logit = keras.layers.Dense(1, kernel_initializer=_init(), dtype="float32", name="logit")  # float32 logits
        self.logit = spectral(logit, self.spectral_norm)

    def _normalization(self, name):
        # Batch norm couples the samples of a batch; gradient penalties need each
        # sample judged on its own, hence layer norm (WGAN-GP) or none (SN-GAN).
        if self.norm == "batch":
            return _batch_norm(name, self.sync_batch_norm)
        if self.norm == "layer":
            return keras.layers.LayerNormalization(name=name)
        return None

    @property
    def stochastic(self):
        """With dropout, D draws masks in training from the seed `tfgan.GAN` hands it."""
        return self.dropout > 0

    def call(self, x, labels=None, training=None, seed=None):
        conditioning.require_labels(self, labels)
        if self.num_classes and self.conditioning_mode == "concat":
            code = conditioning.encode(self.label_code, labels)  # [B, K]
            height, width = self.sample_shape[0], self.sample_shape[1]
            code = ops.broadcast_to(code[:, None, None, :], (ops.shape(x)[0], height, width, code.shape[-1]))
            x = ops.concatenate([x, code], axis=-1)
        h = x
        for i, (conv, norm) in enumerate(self.down):
            h = conv(h)
            if norm is not None:
                h = norm(h, training=training)
            h = ops.leaky_relu(h, negative_slope=0.2)
            if self.dropout and training and seed is not None:
                h = stateless_dropout(h, self.dropout, tf.random.experimental.stateless_fold_in(seed, i))
        logits = self.logit(self.flatten(h))  # [B, 1]
        if self.num_classes and self.conditioning_mode == "projection":
            features = ops.mean(h, axis=(1, 2))  # [B, F]
            code = conditioning.encode(self.label_code, labels)
            logits = logits + ops.cast(ops.sum(code * features, axis=-1, keepdims=True), logits.dtype)
        return logits

    def get_config(self):
        return {
            **super().get_config(),
            "sample_shape": self.sample_shape,
            "filters": self.filters,
            "num_classes": self.num_classes,
            "label_encoding": self.label_encoding,
            "conditioning_mode": self.conditioning_mode,
            "label_dim": self.label_dim,
            "sync_batch_norm": self.sync_batch_norm,
            "spectral_norm": self.spectral_norm,
            "norm": self.norm,
            "dropout": self.dropout,
        }


def build(config, examples, d_shape):
    """(G, D) for `model.network: dcgan` (tfgan.architectures)."""
    model, options, sync = config.model, config.model.dcgan, config.distribute.sync_batch_norm
    generator = DCGANGenerator(
        examples.sample_shape, model.latent_dim, options.g_filters or options.filters, examples.num_classes, model.label_encoding,
        sync_batch_norm=sync, base_kernel=options.g_base_kernel, name="generator",
    )
    discriminator = DCGANDiscriminator(
        d_shape, options.filters, examples.num_classes, conditioning_mode=model.d_conditioning, sync_batch_norm=sync,
        spectral_norm=model.spectral_norm, norm=options.d_norm, dropout=options.d_dropout, name="discriminator",
    )
    return generator, discriminator
