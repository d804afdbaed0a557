"""The generator of a training run, rebuilt from its run directory.

The architecture comes from `<run_dir>/generator.json` (written by `fit`), the
weights from the latest checkpoint. Where the run kept an exponential moving
average of G (`GeneratorEMA.CHECKPOINT_KEY` in the checkpoint), those weights are
the ones a user wants, and are loaded instead. A generator that grows (progressive
growing) is set to the resolution and fade-in alpha of the checkpoint's step in
the run's phase schedule: a run stopped mid-way exports what it trained so far.
"""

import contextlib
import json
import os

import keras
import tensorflow as tf

from tfgan import networks  # noqa: F401  (registers the network classes generator.json names)
from tfgan import rundir
from tfgan.callbacks.checkpoint import network_weights
from tfgan.errors import UserError
from tfgan.hooks import GeneratorEMA
from tfgan.networks.base import dtype_policy


def load_generator(run_dir, checkpoint=None):
    """Returns (generator, step, weights), where weights names the checkpointed G used.

    `checkpoint`: a checkpoint prefix of the run (`tf.train.get_checkpoint_state(...)
    .all_model_checkpoint_paths` lists those kept) instead of the latest."""
    if not os.path.isdir(run_dir):
        raise UserError(f"run directory not found: {run_dir}")
    spec = rundir.generator_spec_path(run_dir)
    if not os.path.exists(spec):
        raise UserError(f"{run_dir} is not a tfgan run directory (no generator.json); expected the run_dir of python -m tfgan.fit")
    path = checkpoint or tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    if path is None:
        raise UserError(f"{run_dir} has no checkpoint to export; train it first (python -m tfgan.fit)")
    with open(spec) as f:
        spec = json.load(f)
    # The export takes and returns float32 and computes in it, whatever policy
    # (mixed_float16, mixed_bfloat16) trained the run: the weights are float32.
    spec["config"]["dtype"] = "float32"
    with dtype_policy("float32"):
        generator = keras.saving.deserialize_keras_object(spec)
    step = tf.Variable(0, dtype=tf.int64)
    with _restoring(path, "generator"):
        stored = {name.split("/")[0] for name, _ in tf.train.list_variables(path)}
        weights = GeneratorEMA.CHECKPOINT_KEY if GeneratorEMA.CHECKPOINT_KEY in stored else "generator"
        status = tf.train.Checkpoint(step=step, **{weights: network_weights(generator)}).restore(path).expect_partial()
        status.assert_existing_objects_matched()
    step = int(step.numpy())
    if getattr(generator, "grows", False):
        phase = _schedule(run_dir).phase_at(step)
        generator.grow(phase.resolution)
        generator.alpha = phase.alpha(step)
    return generator, step, weights


def load_stylegan2(run_dir):
    """(generator, checkpoint step) of a run whose generator has mapping and synthesis halves
    (its EMA where kept): what tfgan.drag and tfgan.invert work on; UserError for another network."""
    from tfgan.networks.base import has_halves

    generator, step, _ = load_generator(run_dir)
    if not has_halves(generator):
        raise UserError(f"--run {run_dir} is not a stylegan2 run; DragGAN and inversion work on the W+ latent of model.network: stylegan2")
    return generator, step


def check_label(generator, label, required=True):
    """`label`, checked against a run's generator: a class of a conditional one (given, where
    `required`), and none for an unconditional one."""
    if label is None:
        if generator.num_classes and required:
            raise UserError("this run is conditional: pass --label, the image's class")
        return None
    if not generator.num_classes:
        raise UserError("--label was given, but this run is not conditional")
    if not 0 <= label < generator.num_classes:
        raise UserError(f"--label {label} is not a class of this run; expected 0 to {generator.num_classes - 1}")
    return label


def data_pad(run_dir):
    """The border (`data.pad`) the run's training added around each image: how tfgan.invert and
    the drag page fit a real image of the data's own size to the generator."""
    from tfgan import config

    return config.load(rundir.config_path(run_dir)).data.pad


def load_discriminator(run_dir, generator, checkpoint=None):
    """The run's D at its latest checkpoint (or `checkpoint`), rebuilt from its config.yaml for
    the data `generator` draws (its sample shape and classes): what scores an edited image."""
    import numpy as np

    from tfgan import config, data, training

    path = checkpoint or tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    try:
        run_config = config.load(rundir.config_path(run_dir))
    except UserError as e:
        raise UserError(f"{run_dir}: its config.yaml does not rebuild its discriminator ({e})") from None
    labels = np.zeros(1, np.int32) if generator.num_classes else None
    shape_of_data = data.Examples(np.zeros((1, *generator.sample_shape), np.uint8), labels, generator.num_classes)
    with dtype_policy("float32"):
        _, discriminator = training.build_networks(run_config, shape_of_data)
    discriminator.build_from_config(None)
    with _restoring(path, "discriminator"):
        status = tf.train.Checkpoint(discriminator=network_weights(discriminator)).restore(path).expect_partial()
        status.assert_existing_objects_matched()
    return discriminator


@contextlib.contextmanager
def _restoring(path, network):
    """Turns any failure to restore `network` from the checkpoint at `path` into a UserError."""
    try:
        yield
    except Exception as e:  # a damaged or foreign checkpoint: OpError, AssertionError, ...
        message = " ".join(str(e).split())[:300]
        raise UserError(f"checkpoint {path} does not hold this run's {network}: {message}") from None


def _schedule(run_dir):
    from tfgan import config

    try:
        return config.load(rundir.config_path(run_dir)).schedule
    except UserError as e:
        raise UserError(f"{run_dir}: its config.yaml gives no phase schedule for the growing generator ({e})") from None


def read_config(run_dir):
    path = rundir.config_path(run_dir)
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read()
