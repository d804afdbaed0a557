"""VQGAN's stage 2 as a run: a transformer prior trained on a trained autoencoder's code grids.

Not a GAN, but a `tfgan.trainee.Trainee`, so `python -m tfgan.fit` runs it as it
runs a GAN (config, run directory, TensorBoard, checkpoints, resume, export):

- `build_trainee` loads the stage-1 run named by `model.vqgan_prior.autoencoder`,
  encodes the data's images to code grids once (the examples the prior trains on,
  in the data's seeded order), and builds the sampler (`VQGANSampler`: the GPT
  and the frozen autoencoder), the model every export and grid draws from;
- `PriorModel.train_step` is a plain Keras step: cross-entropy of each grid's
  tokens, flattened row by row, against the GPT's logits, averaged over the global
  batch; its logs are `loss` (nats per token) and `accuracy` (the share of tokens
  that are the most likely one).
"""

import keras
import numpy as np
import tensorflow as tf

from tfgan import data
from tfgan.callbacks.checkpoint import network_weights
from tfgan.data.pipeline import scale
from tfgan.errors import UserError
from tfgan.networks.base import dtype_policy, seeded_weights
from tfgan.replicas import global_batch_mean
from tfgan.trainee import Trainee


@keras.saving.register_keras_serializable(package="tfgan")
class PriorModel(Trainee):
    """Trains `sampler.prior` on code grids [B, h, w] (with labels [B] where conditional)."""

    def __init__(self, sampler, seed=0, check_finite=True, loss_limit=None, **kwargs):
        super().__init__(seed=seed, check_finite=check_finite, loss_limit=loss_limit, **kwargs)
        self.generator = sampler
        self.prior = sampler.prior
        self.built = True

    def compile(self, optimizer, **kwargs):
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.prior.trainable_variables)  # up front: MirroredStrategy needs it, and a restore
        self.trackers = {"loss": keras.metrics.Mean(name="loss"), "accuracy": keras.metrics.SparseCategoricalAccuracy(name="accuracy")}

    @property
    def metrics(self):
        return list(getattr(self, "trackers", {}).values())

    @property
    def optimizers(self):
        return {"prior": self.optimizer}

    def checkpoint_parts(self):
        # The sampler's weights whole (the frozen autoencoder's too): what `tfgan.export` restores.
        return {"generator": network_weights(self.generator), "optimizer": self.optimizer, "step": self.step}

    def describe(self):
        return (f"the prior has {self.prior.count_params():,} parameters over {self.prior.length} tokens of "
                f"{self.prior.vocab_size} codes (the autoencoder's {self.generator.autoencoder.count_params():,}, frozen)")

    def call(self, z, labels=None, training=False):
        return self.generator(z, labels, training=training)

    def train_step(self, data):
        codes, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        labels = labels if self.num_classes else None
        tokens = tf.reshape(codes, [tf.shape(codes)[0], -1])
        with tf.GradientTape() as tape:
            logits = tf.cast(self.prior(tokens, labels, training=True), tf.float32)
            per_token = keras.losses.sparse_categorical_crossentropy(tokens, logits, from_logits=True)
            per_example = tf.reduce_mean(per_token, axis=1)
            loss = global_batch_mean(per_example)
            scaled = self.optimizer.scale_loss(loss)  # loss scaling under float16
        variables = self.prior.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        self.trackers["loss"].update_state(per_example)
        self.trackers["accuracy"].update_state(tokens, logits)  # every grid has as many tokens: the mean over grids too
        self.count_step([loss])
        return self.results(self.trackers)

    def get_config(self):
        return {**super().get_config(), "sampler": keras.saving.serialize_keras_object(self.generator), "seed": self.seed,
                "check_finite": self.check_finite, "loss_limit": self.loss_limit}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(keras.saving.deserialize_keras_object(config.pop("sampler")), **config)


def load_autoencoder(run_dir):
    """The trained autoencoder of a `model.network: vqgan` run (its latest checkpoint)."""
    from tfgan.export.run import load_generator

    autoencoder, step, _ = load_generator(run_dir)
    if not getattr(autoencoder, "reconstructs", False):
        raise UserError(f"model.vqgan_prior.autoencoder: {run_dir} trained a {type(autoencoder).__name__}, not a "
                        f"VQGAN autoencoder (model.network: vqgan)")
    return autoencoder, step


def encode(autoencoder, examples, batch_size=500):
    """The code grids [N, h, w] (int32) of `examples`' images, with their labels: what the prior trains on."""
    samples = examples.take()  # in memory (a streamed dataset is decoded whole)
    grids = [autoencoder.encode(scale(tf.constant(chunk))).numpy() for chunk in samples.chunks(len(samples), batch_size)]
    return data.Examples(np.concatenate(grids).astype(np.int32), samples.labels, samples.num_classes)


def build_trainee(config, examples, strategy):
    """(the compiled `PriorModel`, the code grids it trains on) for `model.network: vqgan_prior`."""
    from tfgan.networks.vqgan_prior import build_sampler
    from tfgan.training import make_optimizer, precision, use_xla

    options = config.model.vqgan_prior
    with strategy.scope():  # the frozen autoencoder's variables too, beside the prior's
        autoencoder, _ = load_autoencoder(options.autoencoder)
        if tuple(autoencoder.sample_shape) != tuple(examples.sample_shape):
            raise UserError(f"the data's images are {examples.sample_shape}, but the autoencoder {options.autoencoder} "
                            f"was trained on {autoencoder.sample_shape}; give the data block of its config")
        policy = precision(config)
        with seeded_weights(config.seed), dtype_policy(policy):
            model = PriorModel(build_sampler(options, autoencoder, examples.num_classes), seed=config.seed,
                               loss_limit=config.train.loss_limit or None, name="prior_model")
        optimizer = make_optimizer(config.train.g_optimizer, config.train.lr_schedule, config.train.steps, policy == "mixed_float16")
        model.compile(optimizer, steps_per_execution=config.train.steps_per_execution,
                      jit_compile=use_xla(config, strategy.num_replicas_in_sync))
    return model, encode(autoencoder, examples)
