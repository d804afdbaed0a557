"""Tick lines: where a run is, how fast it goes and when it will end.

One line per epoch (`log.every` steps), through `logging` (the CLI prints the
"tfgan" logger's INFO lines on stdout), in the manner of StyleGAN2-ADA's ticks:

    step 2000/40000 (5%)  12.3 ms/step  2m01s elapsed  7m48s left  d_loss 1.23  g_loss 0.84

The time left extrapolates the latest epoch's speed, which leaves out the first
epoch's tracing and compiling once a second epoch has run.
"""

import logging
import time

import keras

log = logging.getLogger("tfgan.progress")


class ProgressLogger(keras.callbacks.Callback):
    def __init__(self, total_steps):
        super().__init__()
        self.total_steps = total_steps
        self._begin = None
        self._first_logged = False

    def on_train_begin(self, logs=None):
        if self._begin is None:  # one run may call fit several times (epoch_plan)
            self._begin = time.perf_counter()
            log.info("training from step %d to %d; the first steps also trace and compile", self._step(), self.total_steps)

    def on_train_batch_end(self, batch, logs=None):
        if not self._first_logged:  # once: how long the tracing and compiling took
            self._first_logged = True
            log.info("first step done after %s; a tick every epoch from here", duration(time.perf_counter() - self._begin))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = (time.perf_counter(), self._step())

    def on_epoch_end(self, epoch, logs=None):
        now, step = time.perf_counter(), self._step()
        seconds_per_step = (now - self._epoch[0]) / max(1, step - self._epoch[1])
        losses = "  ".join(f"{k} {v:.4g}" for k, v in sorted((logs or {}).items()) if k.endswith("loss"))
        log.info(
            "step %d/%d (%d%%)  %s/step  %s elapsed  %s left  %s",
            step, self.total_steps, 100 * step // self.total_steps, _short(seconds_per_step),
            duration(now - self._begin), duration(seconds_per_step * (self.total_steps - step)), losses,
        )

    def _step(self):
        return int(self.model.step.numpy())


def _short(seconds):
    return f"{seconds * 1000:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def duration(seconds):
    """1h02m, 7m48s, 12s."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
