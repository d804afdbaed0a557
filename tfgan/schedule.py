"""The phase schedule of a run: which resolution, batch size and learning rate at which step.

A run is a list of phases (`train.phases`). Each phase shows D a number of real
images while a new resolution fades in (`fade_images`), then a number while it
stabilises (`stable_images`), at its own batch size and learning rate. A run
without phases is one phase of `train.steps` steps at `train.batch_size`.

Everything here is a pure function of the step, so a resumed run finds its
phase, its fade-in alpha and its place in the data from the restored step
counter alone:

- a phase of `fade_images` + `stable_images` images at `batch_size` x `d_steps`
  images per step takes ceil(images / images_per_step) steps for each part,
  rounded up to whole `steps_per_execution` calls;
- alpha rises linearly from 0 at the phase's first step to 1 after its fade
  steps (Karras et al. 2018, section 3; the reference's `lod` falls the same way);
- the data stream continues at the number of examples shown before the step
  (`examples_at`), which differs from step x batch once batch sizes change.

Imports no TensorFlow: `--dry-run` prints the table before TensorFlow starts.
"""

import dataclasses
import math
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Phase:
    index: int
    resolution: Optional[int]  # image size while the phase runs (None: the data's, unchanged)
    batch_size: int  # examples per D minibatch
    examples_per_step: int  # batch_size x d_steps: real examples one step shows D
    fade_steps: int  # steps over which alpha rises from 0 to 1
    stable_steps: int  # steps after it, at alpha 1
    learning_rate: Optional[float]  # both optimizers' rate (None: as configured)
    start: int  # the phase's first step
    start_example: int  # real examples shown before the phase

    @property
    def steps(self):
        return self.fade_steps + self.stable_steps

    @property
    def end(self):
        return self.start + self.steps

    @property
    def fades(self):
        return self.fade_steps > 0

    def alpha(self, step):
        """The fade-in alpha at `step` (1 outside a fade); GAN.fade_alpha computes it in the graph."""
        if not self.fade_steps:
            return 1.0
        return min(max((step - self.start) / self.fade_steps, 0.0), 1.0)

    def examples_at(self, step):
        return self.start_example + (step - self.start) * self.examples_per_step


class Schedule:
    def __init__(self, phases):
        if not phases:
            raise ValueError("A schedule needs at least one phase.")
        self.phases = tuple(phases)

    @classmethod
    def from_config(cls, train):
        """The schedule a `TrainConfig` describes: its `phases`, or one phase of `steps`."""
        d_steps, multiple = train.d_steps, train.steps_per_execution
        if not train.phases:
            return cls([Phase(0, None, train.batch_size, train.batch_size * d_steps, 0, train.steps, None, 0, 0)])
        phases, start, start_example = [], 0, 0
        for index, spec in enumerate(train.phases):
            batch = spec.batch_size or train.batch_size
            per_step = batch * d_steps
            fade, stable = (_steps(images, per_step, multiple) for images in (spec.fade_images, spec.stable_images))
            phase = Phase(index, spec.resolution, batch, per_step, fade, stable, spec.learning_rate, start, start_example)
            phases.append(phase)
            start, start_example = phase.end, phase.examples_at(phase.end)
        return cls(phases)

    @property
    def total_steps(self):
        return self.phases[-1].end

    def phase_at(self, step):
        """The phase that runs `step` (the last phase for the final step)."""
        for phase in self.phases:
            if step < phase.end:
                return phase
        return self.phases[-1]

    def examples_at(self, step):
        return self.phase_at(step).examples_at(step)

    def table(self):
        """The schedule as text, one line per phase, as `--dry-run` prints it."""
        header = ("phase", "resolution", "batch", "fade images", "stable images", "steps", "first step", "learning rate")
        rows = [header]
        for p in self.phases:
            rows.append((
                str(p.index), f"{p.resolution}x{p.resolution}" if p.resolution else "data",
                str(p.batch_size), f"{p.fade_steps * p.examples_per_step:,}", f"{p.stable_steps * p.examples_per_step:,}",
                f"{p.steps:,}", f"{p.start:,}", "as configured" if p.learning_rate is None else f"{p.learning_rate:g}",
            ))
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def _steps(images, images_per_step, multiple):
    """Steps that show at least `images` images, in whole multiples of `multiple` steps."""
    return math.ceil(math.ceil(images / images_per_step) / multiple) * multiple
