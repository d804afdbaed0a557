"""A training run, assembled from a `Config`.

1. Load the examples the config names (data shapes and class count come from them).
2. Build G and D for those shapes, and the GAN around them; compile it.
3. Restore the latest checkpoint if resuming; write the resolved config.
4. `fit` in epochs of `log.every` steps, with the TensorBoard and checkpoint
   callbacks, until `train.steps`. Ctrl-C saves a checkpoint before exiting.
5. Export the generator if `export.formats` asks for it (a new version each time).
"""

import json

import keras

from tfgan import callbacks, data, networks, rundir
from tfgan.config import Config
from tfgan.errors import Interrupted, UserError
from tfgan.gan import GAN
from tfgan.hooks import GeneratorEMA
from tfgan.networks import packing


def build_networks(config: Config, examples: data.Examples):
    """G and D for the config's architecture and the data's shape and classes."""
    model, shape, classes = config.model, examples.sample_shape, examples.num_classes
    generator_cls, discriminator_cls = networks.get(model.network)
    d_shape = packing.packed_shape(shape, model.pack)  # D sees `pack` samples joined (PacGAN)
    if model.network == "dcgan":
        if not examples.is_images:
            raise UserError(
                f"model.network dcgan needs images, but data.source {config.data.source!r} gives "
                f"points of shape {shape}; use model.network=mlp"
            )
        try:
            generator = generator_cls(shape, model.latent_dim, model.filters, classes, model.label_encoding, name="generator")
            discriminator = discriminator_cls(d_shape, model.filters, classes, conditioning_mode=model.d_conditioning, name="discriminator")
        except ValueError as e:
            raise UserError(str(e)) from None
        return generator, _packed(discriminator, model.pack)
    generator = generator_cls(
        shape, model.latent_dim, model.g_hidden, model.activation,
        output_activation="tanh" if examples.is_images else "linear",
        num_classes=classes, label_encoding=model.label_encoding, name="generator",
    )
    discriminator = discriminator_cls(
        d_shape, model.d_hidden, model.activation, classes,
        conditioning_mode=model.d_conditioning, name="discriminator",
    )
    return generator, _packed(discriminator, model.pack)


def _packed(discriminator, pack):
    if pack == 1:
        return discriminator
    return packing.PackedDiscriminator(discriminator, pack, name="packed_discriminator")


OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
    "sgd": keras.optimizers.SGD,
}


def make_optimizer(optimizer, schedule="constant", updates=None):
    """A Keras optimizer; `updates` is how many times it will be applied in the run."""
    rate = optimizer.learning_rate
    if schedule == "linear":
        # Evaluated at the optimizer's own iteration count, which the checkpoint keeps.
        rate = keras.optimizers.schedules.PolynomialDecay(rate, decay_steps=updates, end_learning_rate=0.0)
    kwargs = {"learning_rate": rate}
    if optimizer.name in ("adam", "adamw"):
        kwargs.update(beta_1=optimizer.beta_1, beta_2=optimizer.beta_2)
    return OPTIMIZERS[optimizer.name](**kwargs)


def build_gan(config: Config, examples: data.Examples):
    keras.utils.set_random_seed(config.seed)  # the networks' initial weights
    generator, discriminator = build_networks(config, examples)
    train = config.train
    hooks = [GeneratorEMA(train.ema_decay)] if train.ema_decay else []
    gan = GAN(generator, discriminator, d_steps=train.d_steps, seed=config.seed, hooks=hooks, name="gan")
    gan.compile(
        d_optimizer=make_optimizer(train.d_optimizer, train.lr_schedule, train.steps * train.d_steps),
        g_optimizer=make_optimizer(train.g_optimizer, train.lr_schedule, train.steps),
        loss=config.loss.name,
        label_smoothing=config.loss.label_smoothing,
        jit_compile=train.jit_compile,
        steps_per_execution=train.steps_per_execution,
    )
    return gan


def epoch_plan(start, total, every):
    """`fit` calls as (initial_epoch, epochs, steps_per_epoch) that take the step
    counter from `start` to `total` with epochs ending on multiples of `every`."""
    plan, step = [], start
    if step % every and step < total:
        length = min(every - step % every, total - step)
        plan.append((step // every, step // every + 1, length))
        step += length
    if total - step >= every:
        full = (total - step) // every
        plan.append((step // every, step // every + full, every))
        step += full * every
    if step < total:
        plan.append((step // every, step // every + 1, total - step))
    return plan


def train(config: Config, resume=False):
    """Trains the run `config` describes; returns the GAN."""
    rundir.check(config, resume)
    examples = data.load(config.data, config.model.conditional, config.seed)
    gan = build_gan(config, examples)
    checkpoints = callbacks.Checkpoints(gan, rundir.checkpoint_dir(config), config.checkpoint.keep)
    if resume:
        checkpoints.restore_latest()
    rundir.write_config(config)
    rundir.write_atomic(rundir.generator_spec_path(config.run_dir), json.dumps(keras.saving.serialize_keras_object(gan.generator)))

    real_points = None if examples.is_images else examples.samples[:2500]
    centres = data.mixtures.centres(config.data.source) if config.data.source in data.mixtures.NAMES else None
    logger = callbacks.TensorBoardLogger(
        rundir.tensorboard_dir(config), config.to_yaml(), config.log.images_every,
        config.log.num_images, real_points, centres, seed=config.seed,
    )
    fit_callbacks = [logger, callbacks.CheckpointCallback(checkpoints, config.checkpoint.every)]
    examples_per_step = config.train.batch_size * config.train.d_steps
    start = int(gan.step.numpy())
    try:
        for initial_epoch, epochs, steps_per_epoch in epoch_plan(start, config.train.steps, config.log.every):
            dataset = examples.dataset(examples_per_step, config.seed, start_step=int(gan.step.numpy()))
            gan.fit(
                dataset, epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
                callbacks=fit_callbacks, verbose=config.log.verbose, shuffle=False,  # the order is seeded already
            )
    except KeyboardInterrupt:
        raise Interrupted(int(gan.step.numpy()), checkpoints.save()) from None
    checkpoints.save()
    if int(gan.step.numpy()) % config.log.images_every:
        logger.log_samples(int(gan.step.numpy()))  # the final samples, always
    if config.export.formats:
        from tfgan import export

        path = export.export_run(
            config.run_dir, config.export.name or config.name, config.export.dir, config.export.formats,
            opset=config.export.opset,
        )
        print(f"tfgan.fit: exported the generator to {path}")
    return gan
