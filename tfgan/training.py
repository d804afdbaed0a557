"""A training run, assembled from a `Config`.

1. Pick the tf.distribute strategy; load the examples the config names (data
   shapes and class count come from them).
2. In the strategy's scope and under the dtype policy, build G and D for those
   shapes and the GAN around them; compile it (both optimizers built there). An
   architecture that is not a GAN (VQGAN's prior) builds its own
   `tfgan.trainee.Trainee` instead, and the rest is the same.
3. Restore the latest checkpoint if resuming; write the resolved config.
4. For each phase of the schedule (`tfgan.schedule`; one phase unless
   `train.phases` lists more) from the restored step on: enter it (resolution,
   learning rate, optimizer reset), then `fit` in epochs of `log.every` steps,
   with the TensorBoard and checkpoint callbacks, on data that continues after
   the examples shown so far. Ctrl-C saves a checkpoint before exiting.
5. Export the generator if `export.formats` asks for it (a new version each time).

In a multi-worker cluster every worker trains, but only the chief writes the
config, the TensorBoard events and the exports; the other workers save their
checkpoints (saving is a collective step) to a scratch directory they delete.
"""

import contextlib
import dataclasses
import json
import logging
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

from tfgan import architectures, atomic, callbacks, data, distribute, rundir
from tfgan.callbacks import signals
from tfgan.augment import DiffAugment
from tfgan import config as config_lib
from tfgan.config import Config
from tfgan.errors import Interrupted, Terminated, UserError
from tfgan.gan import GAN
from tfgan.hooks import GeneratorEMA, adds_penalty
from tfgan.networks import packing
from tfgan.networks.base import dtype_policy, seeded_weights
from tfgan.penalties import GradientPenalty, R1Penalty

log = logging.getLogger(__name__)


def build_networks(config: Config, examples: data.Examples):
    """G and D for the config's architecture (`tfgan.architectures`) and the data's shape and classes."""
    model = config.model
    architecture = architectures.get(model.network)
    if architecture.images_only and not examples.is_images:
        raise UserError(
            f"model.network {model.network} needs images, but data.source {config.data.source!r} gives "
            f"points of shape {examples.sample_shape}; use model.network=mlp"
        )
    d_shape = packing.packed_shape(examples.sample_shape, model.pack)  # D sees `pack` samples joined (PacGAN)
    try:
        generator, discriminator = architecture.build(config, examples, d_shape)
    except ValueError as e:  # a shape the architecture cannot build, named by the network
        raise UserError(str(e)) from None
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


def make_optimizer(optimizer, schedule="constant", updates=None, loss_scaling=False):
    """A Keras optimizer; `updates` is how many times it will be applied in the run."""
    rate = optimizer.learning_rate
    if schedule == "linear":
        # Evaluated at the optimizer's own iteration count, which the checkpoint keeps.
        rate = keras.optimizers.schedules.PolynomialDecay(rate, decay_steps=updates, end_learning_rate=0.0)
    kwargs = {"learning_rate": rate}
    if optimizer.name in ("adam", "adamw"):
        kwargs.update(beta_1=optimizer.beta_1, beta_2=optimizer.beta_2)
    if optimizer.name != "sgd":
        kwargs.update(epsilon=optimizer.epsilon)
    made = OPTIMIZERS[optimizer.name](**kwargs)
    # float16 gradients underflow without a (dynamic) loss scale; bfloat16 has float32's range.
    return keras.optimizers.LossScaleOptimizer(made) if loss_scaling else made


def lazy_corrected(optimizer, every):
    """`optimizer` (an `OptimizerConfig`) for a network regularized every `every`-th update only.

    StyleGAN2's lazy regularization (Karras et al. 2020, appendix B): where a
    penalty is evaluated every k-th update, the reference trains on it in an extra
    optimizer step, k + 1 steps per k minibatches, and keeps the optimizer's time
    scale by raising the learning rate and Adam's betas to c = k / (k + 1):
    lr * c, beta ** c. Here the penalty joins the main loss of its step instead
    (no extra step); the correction is kept as StyleGAN2-ADA's defaults assume it
    (`loss.lazy_correction: false` turns it off).
    """
    if every == 1:
        return optimizer
    c = every / (every + 1)
    return dataclasses.replace(optimizer, learning_rate=optimizer.learning_rate * c, beta_1=optimizer.beta_1**c, beta_2=optimizer.beta_2**c)


def optimizer_settings(config, hooks):
    """(D's, G's) `OptimizerConfig`, with the lazy regularizers' correction where they are lazy."""
    d_settings, g_settings = config.train.d_optimizer, config.train.g_optimizer
    if not config.loss.lazy_correction:
        return d_settings, g_settings
    d_every = max([hook.d_every for hook in hooks if adds_penalty(hook, "discriminator")], default=1)
    g_every = max([hook.g_every for hook in hooks if adds_penalty(hook, "generator")], default=1)
    return lazy_corrected(d_settings, d_every), lazy_corrected(g_settings, g_every)


def use_xla(config: Config, replicas):
    """`train.jit_compile`, with `auto` resolved by the rule benchmarks/speed.py measures:
    XLA speeds up the MLP step but slows DCGAN's convolutions on CPU. Keras 3 cannot
    run XLA under tf.distribute with several replicas (keras-team/keras#19005)."""
    jit = config.train.jit_compile
    if jit is True and replicas > 1:
        raise UserError(
            f"train.jit_compile: expected auto or false with {replicas} replicas; Keras 3 cannot "
            f"XLA-compile a step that tf.distribute splits over several devices (keras-team/keras#19005)"
        )
    if jit != "auto":
        return jit
    if replicas > 1:
        return False
    return architectures.get(config.model.network).xla_on_cpu or bool(tf.config.list_logical_devices("GPU"))


def precision(config: Config):
    """`train.mixed_precision`, with `auto` resolved: mixed_bfloat16 where the device computes
    bfloat16 natively (a GPU of compute capability 8.0 or more; a CPU with AVX512_BF16 or
    AMX-BF16, where it is 1.33x faster on DCGAN with the same curve step for step,
    docs/dcgan_tuning.md), else float32: elsewhere bfloat16 is emulated, and slower."""
    policy = config.train.mixed_precision
    if policy != "auto":
        return policy
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capable = all(tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0)) >= (8, 0) for gpu in gpus)
    else:
        capable = bool(_cpu_flags() & {"avx512_bf16", "amx_bf16"})
    return "mixed_bfloat16" if capable else "float32"


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as cpuinfo:  # Linux; elsewhere no flags, so float32
            return {flag for line in cpuinfo if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    except OSError:
        return set()


def build_gan(config: Config, examples: data.Examples, strategy=None):
    """The compiled GAN, its variables created in `strategy`'s scope (default: the current one)."""
    strategy = strategy or tf.distribute.get_strategy()
    _check_batch(config, strategy.num_replicas_in_sync)
    train, architecture = config.train, architectures.get(config.model.network)
    policy = precision(config)
    with strategy.scope(), dtype_policy(policy), seeded_weights(config.seed):
        generator, discriminator = build_networks(config, examples)
        hooks = architecture.hooks(config) + _hooks(config, examples)
        gan = GAN(
            generator, discriminator, d_steps=train.d_steps, seed=config.seed, hooks=hooks,
            loss_limit=train.loss_limit or None, name="gan",
        )
        scaling = policy == "mixed_float16"
        d_settings, g_settings = optimizer_settings(config, hooks)
        gan.compile(
            d_optimizer=make_optimizer(d_settings, train.lr_schedule, train.steps * train.d_steps, scaling),
            g_optimizer=make_optimizer(g_settings, train.lr_schedule, train.steps, scaling),
            loss=config.loss.name,
            label_smoothing=config.loss.label_smoothing,
            drift=config.loss.drift,
            jit_compile=use_xla(config, strategy.num_replicas_in_sync),
            steps_per_execution=train.steps_per_execution,
        )
    return gan


def build_trainee(config: Config, examples: data.Examples, strategy=None):
    """(what the run trains, compiled: a `tfgan.trainee.Trainee`, the examples it trains on): the
    GAN of the architecture's networks, or what its `trainer` builds (VQGAN's prior)."""
    strategy = strategy or tf.distribute.get_strategy()
    architecture = architectures.get(config.model.network)
    if architecture.trainer:
        _check_batch(config, strategy.num_replicas_in_sync)
        return architecture.train(config, examples, strategy)
    return build_gan(config, examples, strategy), examples


def r1_gamma(config, examples):
    """`loss.r1_gamma`, with `auto` resolved by StyleGAN2-ADA's rule 0.0002 res^2 / batch."""
    if config.loss.r1_gamma != "auto":
        return config.loss.r1_gamma
    return 0.0002 * examples.sample_shape[0] ** 2 / config.train.batch_size


def _hooks(config, examples):
    loss, hooks = config.loss, []
    if config.train.diff_augment:
        hooks.append(DiffAugment(config.train.diff_augment))
    if loss.gradient_penalty:
        hooks.append(GradientPenalty(loss.gradient_penalty, every=loss.gradient_penalty_every))
    if loss.r1_gamma:
        hooks.append(R1Penalty(r1_gamma(config, examples), loss.r1_every))
    if config.train.ema():
        hooks.append(GeneratorEMA(config.train.ema()))
    return hooks


def _check_batch(config, replicas):
    """Every batch of the run splits evenly over the replicas, and each share into
    D's packs (PacGAN) or groups (an architecture's `batch_multiple`)."""
    options = config.model.options
    multiple, why = config.model.pack, f"model.pack {config.model.pack}"
    if hasattr(options, "batch_multiple"):
        multiple, why = options.batch_multiple(), f"model.{config.model.network} groups of {options.batch_multiple()}"
    for key, batch in config_lib.batch_sizes(config):
        share = batch // replicas
        if batch % replicas or share % min(multiple, share):
            need = f"a multiple of {replicas * multiple} ({replicas} replicas x {why})" if multiple > 1 else f"a multiple of the {replicas} replicas"
            raise UserError(f"{key}: expected {need}, got {batch}")


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
    """Trains the run `config` describes; returns the GAN.

    The chief holds the run directory's lock throughout (`rundir.locked`), and
    writes nothing into it until the data, the networks and the batch are known
    to fit together, so a run that fails on its config leaves no half run behind.
    """
    chief = distribute.is_chief(config.distribute.strategy)
    with rundir.locked(config.run_dir) if chief else contextlib.nullcontext():
        if chief:
            rundir.check(config, resume)
            rundir.remove_leftovers(config)
        return _train(config, resume, chief)


def _train(config, resume, chief):
    strategy = distribute.make_strategy(config.distribute)
    log.info("loading the data (%s)", config.data.source)
    examples = data.load(config.data, config.model.conditional, config.seed)
    examples.check_step(max(phase.examples_per_step for phase in config.schedule.phases))
    trainee, train_examples = build_trainee(config, examples, strategy)
    log.info(
        "%d examples of shape %s%s%s; %s; %d replica(s); %s",
        len(examples), examples.sample_shape, f", {examples.num_classes} classes" if examples.num_classes else "",
        "" if isinstance(examples, data.Examples) else ", streamed from the files (larger than data.cache_mb)",
        trainee.describe(), strategy.num_replicas_in_sync, precision(config),
    )
    scratch = None if chief else tempfile.mkdtemp(prefix="tfgan-worker-")
    checkpoints = callbacks.Checkpoints(trainee, scratch or rundir.checkpoint_dir(config), config.checkpoint.keep)
    if resume:
        checkpoints.restore_latest(rundir.checkpoint_dir(config))
    fit_callbacks = [callbacks.DivergenceGuard(checkpoints), callbacks.CheckpointCallback(checkpoints, config.checkpoint.every)]
    logger = _logger(config, examples, trainee.generator) if chief else None  # checks the eval: block; writes nothing yet
    if chief:
        # Everything above could still refuse the config; only now does the run directory fill.
        rundir.write_config(config)
        atomic.write_text(rundir.generator_spec_path(config.run_dir), json.dumps(keras.saving.serialize_keras_object(trainee.generator)))
        fit_callbacks.insert(0, logger)
        if config.log.verbose:
            fit_callbacks.insert(0, callbacks.ProgressLogger(config.train.steps))
    fit_callbacks.append(signals.StopAtSignal())
    try:
        with signals.deferred():
            _fit(trainee, config, train_examples, fit_callbacks)
        checkpoints.save()
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM where the CLI turns it into `Terminated`
        raise Interrupted(int(trainee.step.numpy()), checkpoints.save(), terminated=isinstance(stop, Terminated)) from None
    except tf.errors.InvalidArgumentError as e:
        bad_file = _undecodable(e, examples, config, int(trainee.step.numpy()))
        if bad_file is None:
            raise
        # A streamed file that does not decode stops the run where it is, with its progress saved.
        saved = checkpoints.save()
        raise UserError(f"{bad_file}; saved {saved} at step {int(trainee.step.numpy())}: remove the file and --resume") from None
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    if logger and int(trainee.step.numpy()) % config.log.images_every:
        logger.log_samples(int(trainee.step.numpy()))  # the final samples, always
    if chief and config.export.formats:
        from tfgan import export

        path = export.export_run(
            config.run_dir, config.export.name or config.name, config.export.dir, config.export.formats,
            opset=config.export.opset,
        )
        log.info("exported the generator to %s", path)
    return trainee


def _logger(config, examples, generator):
    real_points = None if examples.is_images else examples.samples[:2500]
    originals = None
    if getattr(generator, "reconstructs", False):  # half the grid originals, half their reconstructions
        originals = examples.take(config.log.num_images // 2).samples.astype(np.float32) / 127.5 - 1.0  # streamed data too
    centres = data.mixtures.centres(config.data.source) if config.data.source in data.mixtures.NAMES else None
    return callbacks.TensorBoardLogger(
        rundir.tensorboard_dir(config), config.to_yaml(), config.log.images_every,
        config.log.num_images, real_points, centres, seed=config.seed, image_size=examples.sample_shape[0],
        evaluate=_evaluator(config, examples, generator), eval_every=config.eval.every, originals=originals,
    )


def _evaluator(config, examples, generator):
    """evaluate(gan) -> {metric: value} for the `eval:` block, or None where it is off."""
    if not config.eval.every:
        return None
    from tfgan.evaluate import features, report

    mixture = config.data.source if config.data.source in data.mixtures.NAMES else None
    names = config.eval.metrics or report.default_metrics(examples)
    report.check_metrics(names, examples, mixture, generator)  # before the first step, not at the first evaluation
    extractor = features.from_flag(config.eval.features) if set(names) & set(report.IMAGE_METRICS) else None
    if extractor:
        extractor.check(examples.sample_shape, "the data")
    cache = config.eval.cache or report.DEFAULT_CACHE

    def evaluate(gan):
        # The sampler (the EMA of G where kept) is what an export ships, so it is what is scored,
        # at the current fade-in alpha where it grows.
        gan.hold_alpha()
        return report.evaluate(gan.sampler, examples, names, extractor, config.eval.samples, config.seed, mixture, cache)

    return evaluate


def _fit(trainee, config, examples, fit_callbacks):
    schedule = config.schedule
    step = int(trainee.step.numpy())
    while True:
        phase = schedule.phase_at(step)  # (a finished run enters its last phase, to draw its samples)
        if phase != trainee.phase:
            # Resuming at a phase's first step starts it as the uninterrupted run did.
            enter_phase(trainee, config, phase, fresh=step == phase.start)
        if step >= schedule.total_steps:
            return
        for initial_epoch, epochs, steps_per_epoch in epoch_plan(step, phase.end, config.log.every):
            dataset = examples.dataset(
                phase.examples_per_step, config.seed, start_example=phase.examples_at(int(trainee.step.numpy())),
                deterministic=config.data.deterministic, resolution=phase.resolution,
            )
            trainee.fit(
                dataset, epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
                callbacks=fit_callbacks, verbose=1 if config.log.verbose == 2 else 0,  # 2: Keras' bar beside the ticks
                shuffle=False,  # the order is seeded already
            )
        step = int(trainee.step.numpy())


def _undecodable(error, examples, config, step):
    """'cannot decode image PATH (why)' when `error` is a streamed file's, else None."""
    checked = next((line for line in error.message.splitlines() if data.files.UNREADABLE in line), None)
    if checked:  # the decoder's check of the leading bytes names its file
        return checked.split("assertion failed:")[-1].replace("] [", " ").strip(" []")  # the Assert's parts, as one line
    if "DecodeImage" not in error.message or not hasattr(examples, "undecodable"):
        return None
    # A file that starts like an image but does not decode (truncated, say): decode_image
    # does not know its name, so look for it among the files the stream was about to read.
    return examples.undecodable(config.seed, config.schedule.examples_at(step))


def enter_phase(gan, config, phase, fresh):
    """Sets up `phase`: its networks' resolution, both learning rates, and, where
    `train.reset_optimizers` asks and the phase starts now (not on resuming inside
    it), fresh optimizer state, as the PGGAN reference resets Adam's at each new
    resolution."""
    phases = config.train.phases
    if phases:
        log.info(
            "phase %d: %s, batch %d, steps %d to %d", phase.index,
            f"{phase.resolution}x{phase.resolution}" if phase.resolution else "data size", phase.batch_size, phase.start, phase.end,
        )
    gan.enter_phase(phase)
    if not phases:
        return  # one phase: the optimizers keep the rate, or the schedule, they were made with
    # Where phases set rates (config.py then refuses lr_schedule: linear), each phase
    # sets both, so that a rate one phase set does not outlive it; otherwise the
    # optimizers keep the rate, or the schedule, they were made with.
    phase_rates = any(p.learning_rate is not None for p in phases)
    for optimizer, settings, corrected in zip((gan.d_optimizer, gan.g_optimizer), (config.train.d_optimizer, config.train.g_optimizer), optimizer_settings(config, gan.hooks)):
        if phase_rates:  # a phase's rate gets the lazy regularizers' correction too
            optimizer.learning_rate = (phase.learning_rate or settings.learning_rate) * corrected.learning_rate / settings.learning_rate
        if fresh and phase.index and config.train.reset_optimizers:
            reset_state(optimizer)


def reset_state(optimizer):
    """Zeroes an optimizer's moments and update count (not its learning rate, nor a loss scale)."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    for variable in inner.variables:
        if variable is not inner._learning_rate:
            variable.assign(tf.zeros_like(variable))
