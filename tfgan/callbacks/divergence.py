"""Stops a run whose losses or weights stopped being finite, before anything saves them.

`GAN.train_step` records the first step with a non-finite loss in a variable,
on the device. This callback reads that variable, and checks every weight,
once per epoch (`log.every` steps), where Keras synchronises with the host
anyway to report the epoch's losses, so the hot loop never waits for it.
benchmarks/speed.py measures what the check costs.
"""

import keras
import tensorflow as tf

from tfgan.errors import Diverged


def non_finite_variables(variables):
    """The names of the floating-point variables among `variables` that hold NaN or infinity."""
    floats = [v for v in variables if tf.as_dtype(v.dtype).is_floating]
    if not floats:
        return []
    finite = _all_finite(floats)
    return [v.path if hasattr(v, "path") else v.name for v, ok in zip(floats, finite) if not ok]


def _all_finite(variables):
    # One op per variable, one read-back for all of them.
    return tf.stack([tf.reduce_all(tf.math.is_finite(tf.convert_to_tensor(v))) for v in variables]).numpy()


class DivergenceGuard(keras.callbacks.Callback):
    """Raises `Diverged` at the end of an epoch in which a loss or a weight became non-finite.

    Losses are checked at every step, on the device (`GAN.non_finite_step`); the
    weights once per epoch, here, because a ReLU turns NaN inputs into zeros and
    so can keep the losses finite while G's weights are already NaN.
    """

    def __init__(self, checkpoints):
        super().__init__()
        self.checkpoints = checkpoints

    def on_epoch_begin(self, epoch, logs=None):
        self._start = int(self.model.step.numpy())

    def on_epoch_end(self, epoch, logs=None):
        step = int(self.model.non_finite_step.numpy())
        if step >= 0:
            limit = self.model.loss_limit
            means = ", ".join(f"{k} {v:.3g}" for k, v in sorted((logs or {}).items()) if k.endswith("loss"))
            raise Diverged(
                f"training diverged at step {step}: a loss became NaN, infinite"
                + (f" or larger than train.loss_limit ({limit:g})" if limit is not None else "")
                + (f" (epoch means: {means})" if means else "")
                + f"; {kept_checkpoint(self.checkpoints)}. Lower the learning rates, or add a penalty (loss.r1_gamma)"
            )
        bad = non_finite_variables(self.checkpoints.variables)
        if bad:
            raise Diverged(
                f"training diverged between steps {self._start} and {int(self.model.step.numpy())}: {named(bad)} "
                f"became NaN or infinite; {kept_checkpoint(self.checkpoints)}. Lower the learning rates"
            )


def named(bad):
    return f"{len(bad)} variables ({', '.join(bad[:3])}{', ...' if len(bad) > 3 else ''})"


def kept_checkpoint(checkpoints):
    latest = checkpoints.latest if checkpoints else None
    return f"the last good checkpoint is {latest}" if latest else "no checkpoint was written"
