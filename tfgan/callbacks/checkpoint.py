"""Checkpoints of what a trainee names (`Trainee.checkpoint_parts`; a GAN's: G, D, both
optimizers, the step counter and the hooks' state, `Hook.state()`: the EMA of G, path
length's running mean), via `tf.train.Checkpoint`.

The step is also the whole RNG state (z and the data order are drawn from
(seed, step)), so restoring it makes a resumed run continue bit for bit.

Nothing non-finite is saved: a save whose variables hold NaN or infinity raises
`Diverged` instead, so the last good checkpoint stays the latest.

Writes are atomic: TensorFlow writes the data under a temporary name and renames
it, and `CheckpointManager` then replaces the `checkpoint` index file with an
atomic rename, so a process killed mid-save leaves the previous checkpoint as
the latest. The last `keep` checkpoints are kept.
"""

import keras
import tensorflow as tf

from tfgan.callbacks.divergence import kept_checkpoint, named, non_finite_variables
from tfgan.errors import Diverged, UserError


def network_weights(model):
    """A network's variables, as the list a checkpoint holds, in `model.weights` order.

    Keras 3 leaves sub-layers kept in Python lists out of TensorFlow's object graph
    (keras-team/keras#18398), so `tf.train.Checkpoint(generator=model)` would miss,
    say, the batch-norm statistics of DCGAN's stages. The list holds every variable;
    its order is fixed by the architecture.
    """
    return list(model.weights)


class Checkpoints:
    """The checkpoints of one trainee (`tfgan.trainee.Trainee`: a GAN, a prior) in one directory."""

    def __init__(self, trainee, directory, keep=3):
        self.trainee = trainee
        parts = trainee.checkpoint_parts()
        # What is checked for NaN before a save: the weights and the optimizers' variables.
        self.variables = [v for name, part in parts.items() if name != "step" for v in (part if isinstance(part, list) else part.variables)]
        self.checkpoint = tf.train.Checkpoint(**parts)
        self.manager = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep=keep, checkpoint_name="ckpt")

    @property
    def latest(self):
        return self.manager.latest_checkpoint

    def save(self):
        """Saves at the current step (a no-op if that step is saved already)."""
        step = int(self.trainee.step.numpy())
        if self.latest and self.latest.endswith(f"ckpt-{step}"):
            return self.latest
        bad = non_finite_variables(self.variables)
        if bad:
            raise Diverged(f"training diverged: {named(bad)} are non-finite at step {step}; not saved; {kept_checkpoint(self)}")
        return self.manager.save(checkpoint_number=step)

    def restore_latest(self, directory=None):
        """Restores the newest checkpoint (in `directory`, default: this one); returns its step, or None."""
        path = tf.train.latest_checkpoint(directory) if directory else self.latest
        if path is None:
            return None
        try:
            status = self.checkpoint.restore(path)
            status.assert_existing_objects_matched()
            status.assert_consumed()
        except Exception as e:  # a damaged file surfaces as OpError, IndexError, ValueError, ...
            message = " ".join(str(e).split())[:300]
            raise UserError(
                f"checkpoint {path} cannot be restored into this model (corrupt, or written by a "
                f"different config): {message}. It was left untouched; start a new run_dir to train afresh."
            ) from None
        return int(self.trainee.step.numpy())


class CheckpointCallback(keras.callbacks.Callback):
    """Saves every `every` steps, at the end of an epoch (`every` is a multiple of it)."""

    def __init__(self, checkpoints, every):
        super().__init__()
        self.checkpoints = checkpoints
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        if int(self.checkpoints.trainee.step.numpy()) % self.every == 0:
            self.checkpoints.save()
