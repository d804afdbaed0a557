"""The GAN: one `keras.Model` that trains a generator against a discriminator.

`train_step` is Algorithm 1 of Goodfellow et al. (2014):

1. For `d_steps` iterations: take a real minibatch and a minibatch of G(z), and
   update D on the discriminator loss, with G fixed.
2. Take fresh z and update G on the generator loss through the *updated* D,
   with D fixed.
3. Let the hooks act (EMA of G, ...), and count the step.

Every variant (conditional, DCGAN, WGAN-GP, progressive growing, StyleGAN, ...)
is this algorithm with other networks, another loss and hooks: a regulariser
adds a penalty through `Hook.discriminator_penalty`, augmentation goes through
`Hook.augment`, EMA through `Hook.after_generator_step`, the fade-in of
progressive growing's real images through `Hook.real_images`. What the networks'
layers add themselves (`add_loss`, weight regularizers: Keras's `model.losses`)
joins each network's own loss, as in Keras's `train_step`.

A run in phases (`tfgan.schedule`) enters each with `enter_phase`: networks
that grow (`grows = True`) take the phase's resolution, and every call of them
gets the fade-in `alpha`, computed in the graph from the step counter.

Randomness is stateless: z for step `s` is drawn from a seed made of
(`seed`, `s`), so a resumed run draws exactly the noise the uninterrupted run
would have, and the step counter is the whole RNG state. So are a hook's draws
(`hook_seed`), a stochastic generator's (`stochastic = True`: StyleGAN's
noise inputs and style mixing), which `run_generator` hands a `seed`, and a
stochastic discriminator's (dropout), which `run_discriminator` hands one.
"""

import contextlib

import keras
import tensorflow as tf

from tfgan import hooks as hooks_lib
from tfgan import losses as losses_lib
from tfgan import terms
from tfgan.callbacks.checkpoint import network_weights
from tfgan.replicas import global_batch_mean, replica_share
from tfgan.trainee import Trainee

_AUGMENT_STREAM = 0x617567  # seeds augmentation apart from the latent noise
_GENERATOR_STREAM = 0x47454E  # a stochastic generator's own draws
_DISCRIMINATOR_STREAM = 0x444953  # a stochastic discriminator's (dropout), plus the call's number
_HOOK_STREAM = 0x484F4F4B  # plus the hook's index: each hook's draws


@keras.saving.register_keras_serializable(package="tfgan")
class GAN(Trainee):
    """A generator and a discriminator trained by the two-phase update.

    Args:
        generator: a `keras.Model` called as `generator(z, labels, training=...)`,
            with attributes `latent_dim`, `num_classes` and `sample_shape`.
        discriminator: a `keras.Model` called as `discriminator(x, labels, training=...)`
            that returns logits.
        d_steps: discriminator updates per generator update. Each one sees its own
            real minibatch, so a batch fed to `fit` holds `d_steps` minibatches.
        seed: seeds the latent noise, together with the step counter.
        hooks: `tfgan.hooks.Hook`s that add penalties, augment or act after a step.
        check_finite: record in `non_finite_step` the first step whose losses are
            not finite (or larger than `loss_limit` in magnitude). The check runs
            on the device inside the step, and nothing reads it back until someone
            asks (`tfgan.callbacks.DivergenceGuard` does, once per epoch), so it
            adds no host synchronisation.
        loss_limit: a loss larger than this in magnitude counts as divergence too
            (None: only NaN and infinity). A D whose logits reach such sizes has
            saturated: G gets no gradient and the run is dead, though finite.
    """

    def __init__(self, generator, discriminator, d_steps=1, seed=0, hooks=(), check_finite=True, loss_limit=None, **kwargs):
        super().__init__(seed=seed, check_finite=check_finite, loss_limit=loss_limit, **kwargs)
        if int(d_steps) < 1:
            raise ValueError(f"Received an invalid value for `d_steps`, expected an integer >= 1. Received: d_steps={d_steps}")
        self.generator = generator
        self.discriminator = discriminator
        self.d_steps = int(d_steps)
        self.calls_per_step = self.d_steps + 1  # D's updates and G's each draw their own seeds
        self.hooks = list(hooks)
        # self._call_site: which update of the step is being traced: D's i-th, or G's (d_steps)
        self._build_networks()
        for hook in self.hooks:
            hook.attach(self)
        # Tracked as sub-models, so that `model.save` keeps them (the EMA of G).
        self.hook_networks = [network for hook in self.hooks for network in hook.networks()]

    def _build_networks(self):
        # Creating the weights now lets `compile` build the optimizers up front,
        # which MirroredStrategy in Keras 3 requires, and lets a checkpoint be
        # restored before the first step.
        # A packed discriminator (PacGAN) judges `pack` samples at a time.
        batch = getattr(self.discriminator, "pack", 1)
        reconstructs = getattr(self.generator, "reconstructs", False)
        inputs = tf.zeros([batch, *(self.generator.sample_shape if reconstructs else [self.latent_dim])])
        labels = tf.zeros([batch], tf.int32) if self.num_classes else None
        self.discriminator(self.generator(inputs, labels, training=False), labels, training=False)
        # Built: otherwise `fit` under a tf.distribute strategy traces `call` on
        # a data batch to build the model, and the data are not G's input.
        self.built = True

    def compile(self, d_optimizer, g_optimizer, loss="non_saturating", label_smoothing=0.0, drift=0.0, **kwargs):
        """`drift`: adds drift * D(x)^2 on real data to D's loss (PGGAN's epsilon-drift, 0.001 there)."""
        super().compile(**kwargs)
        self.d_optimizer = keras.optimizers.get(d_optimizer)
        self.g_optimizer = keras.optimizers.get(g_optimizer)
        self.loss_fn = losses_lib.get(loss)
        if label_smoothing and not self.loss_fn.smoothable:
            raise ValueError(
                f"label_smoothing applies to the cross-entropy and least-squares losses, not "
                f"{self.loss_fn.name!r}. Received: label_smoothing={label_smoothing}"
            )
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"Received an invalid value for `label_smoothing`, expected 0 <= s < 1. Received: label_smoothing={label_smoothing}")
        self.label_smoothing = float(label_smoothing)
        if drift < 0:
            raise ValueError(f"Received an invalid value for `drift`, expected >= 0. Received: drift={drift}")
        self.drift = float(drift)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)
        names = ["d_loss", "g_loss", "d_real", "d_fake", "d_fake_after"]
        self.penalty_names = {}  # (hook index, network) -> the name its penalty is logged as
        for network in ("discriminator", "generator"):
            for i, hook in enumerate(self.hooks):
                if hooks_lib.adds_penalty(hook, network):
                    name = hook.name if hook.name not in names else f"{hook.name}_{i}"
                    self.penalty_names[i, network] = name
                    names.append(name)
        for hook in self.hooks:
            names += [name for name in hook.logged if name not in names]
        self.reweighing = any(hooks_lib.overrides(hook, "adversarial_weight") for hook in self.hooks)
        if self.reweighing:
            names.append("adversarial_weight")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    @property
    def metrics(self):
        # Listed here so that `fit` resets them at the start of every epoch.
        return list(getattr(self, "trackers", {}).values())

    def call(self, z, labels=None, training=False):
        return self.generator(z, labels, training=training)

    # --- What the run driver reads (tfgan.trainee) ---

    @property
    def optimizers(self):
        return {"discriminator": self.d_optimizer, "generator": self.g_optimizer}

    def checkpoint_parts(self):
        """G's and D's weights, the hooks' state (the EMA of G, ...), both optimizers, the step."""
        parts = {"generator": network_weights(self.generator), "discriminator": network_weights(self.discriminator)}
        for hook in self.hooks:
            for name, variables in hook.state().items():
                if name in parts or name in ("d_optimizer", "g_optimizer", "step"):
                    raise ValueError(f"Two parts of the GAN keep checkpoint state under {name!r}; hook {hook.name} must name its state apart.")
                parts[name] = list(variables)
        return {**parts, "d_optimizer": self.d_optimizer, "g_optimizer": self.g_optimizer, "step": self.step}

    def describe(self):
        return f"G has {self.generator.count_params():,} parameters, D {self.discriminator.count_params():,}"

    # --- Calling the networks ---

    def run_generator(self, generator, z, labels, training):
        """`generator(z, labels)`, given the fade-in alpha where it grows, and in training
        a seed for this step and call site where it draws noise of its own."""
        kwargs = self._phase_arguments(generator)
        if training and getattr(generator, "stochastic", False):
            kwargs["seed"] = self.random_seed(_GENERATOR_STREAM)
        return generator(z, labels, training=training, **kwargs)

    def run_discriminator(self, samples, labels, training=True, call=0):
        """D's logits on `samples`, given the fade-in alpha where D grows, and in training a
        seed for this step, call site and `call` (the real batch 0, the fake 1) where D draws
        noise of its own (`stochastic`: dropout). Hooks that call D use this."""
        kwargs = self._phase_arguments(self.discriminator)
        if training and getattr(self.discriminator, "stochastic", False):
            kwargs["seed"] = self.random_seed(_DISCRIMINATOR_STREAM + call)
        return self.discriminator(samples, labels, training=training, **kwargs)

    def _networks(self):
        return [self.generator, self.discriminator, *self.hook_networks]

    # --- Sampling ---

    def hook_seed(self, hook):
        """`random_seed` of a stream of `hook`'s own."""
        return self.random_seed(_HOOK_STREAM + self.hooks.index(hook))

    def generator_input(self, real, phase):
        """What G takes at this step and phase: z (`latent_noise`), or the real minibatch
        itself for a generator that `reconstructs` its input (an autoencoder: VQGAN's, whose
        reconstructions D judges against the originals)."""
        if getattr(self.generator, "reconstructs", False):
            return real
        return self.latent_noise(tf.shape(real)[0], phase)

    def latent_noise(self, batch_size, phase):
        """z for this replica's share of the global batch at this step and phase.

        The global batch of z is drawn from (seed, step, phase) and sliced, so the
        same global batch gets the same z whatever the number of replicas.
        """
        seed = self._seed(0, phase)
        return replica_share(lambda n: tf.random.stateless_normal([n, self.latent_dim], seed=seed), batch_size)

    @property
    def sampler(self):
        """The generator to sample from: a hook's (the EMA of G) where one offers it, else G."""
        offered = [sampler for sampler in (hook.sampler() for hook in self.hooks) if sampler is not None]
        return offered[-1] if offered else self.generator

    # --- Training ---

    def train_step(self, data):
        images, labels = _unpack(data, self.num_classes)
        real_batches = _split(images, self.d_steps)
        label_batches = _split(labels, self.d_steps) if labels is not None else [None] * self.d_steps
        losses = [self._train_discriminator(real_batches[i], label_batches[i], phase=i) for i in range(self.d_steps)]
        losses.append(self._train_generator(real_batches[-1], label_batches[-1]))
        for hook in self.hooks:
            logged = hook.after_generator_step(self)
            for name in hook.logged:  # what the hook measured this step (a codebook's usage)
                self.trackers[name].update_state(logged[name])
        self.count_step(losses)
        return self.results(self.trackers)

    def _train_discriminator(self, real, labels, phase):
        self._call_site = phase
        fake = self.run_generator(self.generator, self.generator_input(real, phase), labels, training=True)
        for hook in self.hooks:
            real = hook.real_images(self, real)
        self._check_shapes(real, fake)
        real_in, fake_in = self._augment(real, stream=2 * phase), self._augment(fake, stream=2 * phase + 1)
        with tf.GradientTape() as tape:
            real_logits, fake_logits, added = self._judge(real_in, fake_in, labels)
            per_example = self.loss_fn.discriminator_loss(real_logits, fake_logits, self.label_smoothing) + added
            if self.drift:
                per_example += losses_lib.drift_penalty(real_logits, self.drift)
            per_example += self._penalties("discriminator", lambda hook: hook.discriminator_penalty(self, real_in, fake_in, labels))
            loss = global_batch_mean(per_example)
            scaled = self.d_optimizer.scale_loss(loss)  # loss scaling under float16
        _apply(self.d_optimizer, tape.gradient(scaled, self.discriminator.trainable_variables), self.discriminator.trainable_variables)
        self.trackers["d_loss"].update_state(per_example)
        self.trackers["d_real"].update_state(self.loss_fn.d_output(real_logits))
        self.trackers["d_fake"].update_state(self.loss_fn.d_output(fake_logits))
        return loss

    def _judge(self, real, fake, labels):
        """D's float32 logits on the real and the fake batch, each batch in its own call, and
        D's own loss terms (`terms.own_losses`) as if one call had seen both batches: the mean
        of the two calls' (the weight regularizers, in both, count once)."""
        real_logits = tf.cast(self.run_discriminator(real, labels), tf.float32)
        on_real = terms.own_losses(self.discriminator)
        fake_logits = tf.cast(self.run_discriminator(fake, labels, call=1), tf.float32)
        return real_logits, fake_logits, (on_real + terms.own_losses(self.discriminator)) / 2.0

    def _train_generator(self, real, labels):
        """G's update on the step's last real minibatch: its input, for a generator that
        `reconstructs` it; for the others only what a hook compares with (z is fresh)."""
        self._call_site = self.d_steps
        inputs = self.generator_input(real, phase=self.d_steps)
        with tf.GradientTape() as tape:
            # A hook that weighs the adversarial term by gradients of the terms (VQGAN's adaptive
            # weight) needs them through this forward pass: a second, persistent tape records it.
            with tf.GradientTape(persistent=True) if self.reweighing else contextlib.nullcontext() as terms_tape:
                fake = self._augment(self.run_generator(self.generator, inputs, labels, training=True), stream=2 * self.d_steps)
                added = terms.own_losses(self.generator)  # read before a hook calls G again
                fake_logits = tf.cast(self.run_discriminator(fake, labels), tf.float32)
                adversarial = self.loss_fn.generator_loss(fake_logits)
                penalties = self._penalty_terms("generator", lambda hook: hook.generator_penalty(self, real, fake, labels))
                means = {name: global_batch_mean(term) for name, term in {"adversarial": adversarial, **penalties}.items()} if self.reweighing else None
            if self.reweighing:
                with tape.stop_recording():
                    weight = self._adversarial_weight(terms_tape, means)
                adversarial = weight * adversarial
            per_example = sum(penalties.values(), adversarial + added)
            loss = global_batch_mean(per_example)
            scaled = self.g_optimizer.scale_loss(loss)
        _apply(self.g_optimizer, tape.gradient(scaled, self.generator.trainable_variables), self.generator.trainable_variables)
        self.trackers["g_loss"].update_state(per_example)
        self.trackers["d_fake_after"].update_state(self.loss_fn.d_output(fake_logits))
        return loss

    def _penalties(self, network, penalty):
        """The sum of the hooks' `penalty(hook)` terms on `network`'s loss, each logged under its name."""
        return sum(self._penalty_terms(network, penalty).values(), 0.0)

    def _penalty_terms(self, network, penalty):
        """{name: [B] term}: the hooks' `penalty(hook)` terms on `network`'s loss, each logged under its name."""
        found = {}
        for i, hook in enumerate(self.hooks):
            if (i, network) in self.penalty_names:
                name = self.penalty_names[i, network]
                found[name] = tf.cast(penalty(hook), tf.float32)
                self.trackers[name].update_state(found[name])
        return found

    def _adversarial_weight(self, terms_tape, means):
        """The product of the hooks' `adversarial_weight`s (a constant of the step: no gradient
        flows through it), logged as `adversarial_weight`."""
        def gradient(names, variable):
            # The sum of the terms' gradients: their sum itself, made after the tape closed, is not on it.
            names = (names,) if isinstance(names, str) else names
            return tf.add_n([terms.global_gradient(terms_tape, means[name], variable) for name in names])

        weight = tf.ones([])
        for hook in self.hooks:
            factor = hook.adversarial_weight(self, {name: tf.stop_gradient(mean) for name, mean in means.items()}, gradient)
            if factor is not None:
                weight *= tf.cast(factor, tf.float32)
        weight = tf.stop_gradient(weight)
        self.trackers["adversarial_weight"].update_state(weight)
        return weight

    def _augment(self, images, stream):
        """The hooks' augmentations, each given a stateless seed of its own: one per
        call site (`stream`) and step, so a resumed run augments as the uninterrupted one."""
        counter = tf.cast(self.step, tf.int64) * (2 * self.d_steps + 1) + stream
        for i, hook in enumerate(self.hooks):
            seed = tf.stack([tf.constant(self.seed + _AUGMENT_STREAM + i, tf.int64), counter])
            images = hook.augment(self, images, seed)
        return images

    def _check_shapes(self, real, fake):
        real_shape, fake_shape = tuple(real.shape[1:]), tuple(fake.shape[1:])
        if None not in real_shape and real_shape != fake_shape:
            raise ValueError(
                f"The generator makes samples of shape {fake_shape} but the data has shape "
                f"{real_shape}. Build the networks for the data's shape."
            )

    # --- Serialization ---
    # `model.save("gan.keras")` keeps G, D, the hooks' networks (the EMA of G), the step counter, both
    # optimizers' state and this compile config; `keras.models.load_model` gives
    # back a GAN that continues training. (Runs use checkpoints and tfgan.export.)

    def get_compile_config(self):
        if not self.compiled:
            return None
        keras_config = super().get_compile_config()  # how Keras runs the step (jit, steps per execution)
        return {
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
            "loss": self.loss_fn.name,
            "label_smoothing": self.label_smoothing,
            "drift": self.drift,
            **{key: keras_config[key] for key in ("jit_compile", "steps_per_execution", "run_eagerly")},
        }

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer"):
            config[key] = keras.optimizers.deserialize(config[key])
        self.compile(**config)  # builds both optimizers, so that their saved state loads into them

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "d_steps": self.d_steps,
            "seed": self.seed,
            "hooks": [keras.saving.serialize_keras_object(h) for h in self.hooks],
            "check_finite": self.check_finite,
            "loss_limit": self.loss_limit,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        config["hooks"] = [keras.saving.deserialize_keras_object(h) for h in config.get("hooks", [])]
        return cls(**config)


def _unpack(data, num_classes):
    images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
    if num_classes and labels is None:
        raise ValueError(
            f"The GAN is conditional on {num_classes} classes but the data has no labels. "
            f"Feed (images, labels) batches."
        )
    return images, (labels if num_classes else None)


def _split(batch, parts):
    """`parts` minibatches, taking every `parts`-th example.

    Strided rather than contiguous: a distributed dataset hands each replica a
    contiguous slice of the global batch, so with strides minibatch `i` holds the
    same examples, in the same order, on any number of replicas.
    """
    if parts == 1:
        return [batch]
    size = batch.shape[0]
    if size is not None and size % parts:
        raise ValueError(
            f"With d_steps={parts} each batch holds {parts} real minibatches, so its size must "
            f"be divisible by {parts}. Received a batch of {size}."
        )
    grouped = tf.reshape(batch, tf.concat([[-1, parts], tf.shape(batch)[1:]], axis=0))
    return tf.unstack(grouped, num=parts, axis=1)


def _apply(optimizer, grads, variables):
    """One update of the variables the loss reached. A growing network's blocks for
    later resolutions get no gradient yet; they keep their weights and their
    optimizer state (rather than Keras warning of them at every trace)."""
    optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
