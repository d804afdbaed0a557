"""TensorBoard logging at the trainee's own step counter (a GAN's, a prior's).

Keras' `TensorBoard` callback counts batches from zero in every `fit` call, so a
resumed run would draw its curve over the old one. This callback writes at
`gan.step` instead, with `tf.summary`:

- scalars, at the end of every epoch (one epoch = `log.every` steps): the
  epoch means of the trainee's metrics, its optimizers' learning rates
  (`learning_rate/discriminator` and `/generator` for a GAN), and steps/s; in a run
  whose phases set resolutions, `resolution` and the fade-in `alpha` too;
- a grid of samples from a fixed z every `images_every` steps (for a
  conditional GAN one row per class; for 2D data a scatter plot over the real
  points; for a generator that reconstructs its input, rows of fixed real
  images each above their reconstructions), also written as PNG files beside
  the events; samples smaller than
  `image_size` (an early phase of progressive growing) are nearest-upsampled
  to it, so that the grids of a run line up;
- the resolved config, as text, once;
- with an `evaluate` function (the config's `eval:` block), its metrics as
  `eval/<name>` scalars every `eval_every` steps.
"""

import os
import time

import keras
import numpy as np
import tensorflow as tf

from tfgan import visualize


class TensorBoardLogger(keras.callbacks.Callback):
    def __init__(self, log_dir, config_yaml, images_every, num_images=64, real_points=None, centres=None, seed=0,
                 evaluate=None, eval_every=0, image_size=None, originals=None):
        super().__init__()
        self.log_dir = log_dir
        self.config_yaml = config_yaml
        self.images_every = images_every
        self.num_images = num_images
        self.real_points = real_points  # 2D data: the real sample to plot under the fakes
        self.centres = centres
        self.seed = seed
        self.evaluate, self.eval_every = evaluate, eval_every  # evaluate(gan) -> {metric: value}
        self.image_size = image_size
        self.originals = originals  # fixed real images in [-1, 1], for a generator that reconstructs them
        self.writer = None
        self.samples_dir = os.path.join(log_dir, "samples")

    def _step(self):
        return int(self.model.step.numpy())

    def on_train_begin(self, logs=None):
        if self.writer is None:
            self.writer = tf.summary.create_file_writer(self.log_dir)
            with self.writer.as_default(step=self._step()):
                tf.summary.text("config", f"```\n{self.config_yaml}\n```")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = (time.perf_counter(), self._step())

    def on_epoch_end(self, epoch, logs=None):
        step = self._step()
        seconds, start_step = time.perf_counter() - self._epoch_start[0], self._epoch_start[1]
        with self.writer.as_default(step=step):
            for name, value in (logs or {}).items():
                tf.summary.scalar(name, float(value))
            for name, optimizer in self.model.optimizers.items():
                tf.summary.scalar(f"learning_rate/{name}", _learning_rate(optimizer))
            if seconds > 0:
                tf.summary.scalar("steps_per_second", (step - start_step) / seconds)
            phase = self.model.phase
            if phase is not None and phase.resolution:
                tf.summary.scalar("resolution", phase.resolution)
                tf.summary.scalar("alpha", float(self.model.fade_alpha()))
        if step % self.images_every == 0:
            self.log_samples(step)
        if self.evaluate and step % self.eval_every == 0:
            self.log_evaluation(step)

    def on_train_end(self, logs=None):
        self.writer.flush()

    def log_evaluation(self, step):
        results = self.evaluate(self.model)
        with self.writer.as_default(step=step):
            for name, value in results.items():
                tf.summary.scalar(f"eval/{name}", float(value))
        self.writer.flush()

    def log_samples(self, step):
        pixels = self.sample_picture()
        with self.writer.as_default(step=step):
            tf.summary.image("samples", pixels[None])
        self.writer.flush()
        os.makedirs(self.samples_dir, exist_ok=True)
        visualize.write_png(os.path.join(self.samples_dir, f"step_{step:08d}.png"), pixels)

    def sample_picture(self):
        gan = self.model
        if self.originals is not None:
            return self._reconstructions(gan)
        if self.real_points is not None:
            samples = gan.generate(len(self.real_points), seed=self.seed).numpy()
            return visualize.scatter_plot(samples, self.real_points, self.centres)
        if gan.num_classes:
            labels = visualize.class_rows(self.num_images, gan.num_classes)
            images = gan.generate(len(labels), labels=labels, seed=self.seed)
            return visualize.image_grid(self._full_size(images.numpy()), rows=gan.num_classes)
        images = gan.generate(self.num_images, seed=self.seed).numpy()
        return visualize.image_grid(self._full_size(images), rows=int(np.ceil(np.sqrt(self.num_images))))

    def _reconstructions(self, gan):
        """Rows of originals, each followed by the row of their reconstructions."""
        columns = min(len(self.originals), int(np.ceil(np.sqrt(2 * len(self.originals)))))
        originals = self.originals[: len(self.originals) // columns * columns]  # whole rows
        reconstructed = np.asarray(gan.sampler(originals, training=False), np.float32)
        rows = [part[i : i + columns] for i in range(0, len(originals), columns) for part in (originals, reconstructed)]
        return visualize.image_grid(np.concatenate(rows), rows=len(rows))

    def _full_size(self, images):
        return visualize.upscale(images, self.image_size // images.shape[1]) if self.image_size else images


def _learning_rate(optimizer):
    rate = optimizer.learning_rate
    value = rate(optimizer.iterations) if callable(rate) else rate
    return float(keras.ops.convert_to_numpy(value))  # also a MirroredVariable under tf.distribute
