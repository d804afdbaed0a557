"""What tfgan's run driver trains: a `keras.Model` with a step counter, stateless seeds,
a phase, and the parts a checkpoint holds.

`tfgan.training` runs any `Trainee` the same way: `fit` in epochs of `log.every`
steps with the TensorBoard, checkpoint, divergence and progress callbacks,
resume from the latest checkpoint, export at the end. `tfgan.GAN` is one (its
`train_step` the two-phase update); `tfgan.prior.PriorModel` is another (VQGAN's
stage 2: a transformer trained with cross-entropy on code grids). A subclass
gives:

- `train_step`, which counts `step` (`count_step`);
- `generator`: the model an export ships and `generator.json` describes; its
  `sampler` (an EMA of it, say) is what TensorBoard's grid and evaluation draw;
- `optimizers`: {name: optimizer}, logged as `learning_rate/<name>`;
- `checkpoint_parts()`: {name: trackable or list of variables}, `step` among them;
- `describe()`: one line of what is trained, for the run's log.

Randomness is stateless: `random_seed(stream)` is made of (seed + stream, step,
call site), so a resumed run draws what the uninterrupted one would have.
"""

import keras
import tensorflow as tf

from tfgan import latent


class Trainee(keras.Model):
    calls_per_step = 1  # call sites a step draws seeds at (a GAN: d_steps D updates and G's)

    def __init__(self, seed=0, check_finite=True, loss_limit=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)
        self.check_finite = bool(check_finite)
        self.loss_limit = None if loss_limit is None else float(loss_limit)
        self.step = self.add_weight(shape=(), dtype="int64", initializer="zeros", trainable=False,
                                    aggregation="only_first_replica", name="step")
        # -1 while every loss has been finite; not checkpointed (a checkpoint is
        # never written after it is set). A NaN on any replica reaches every
        # replica's weights through the gradient all-reduce, so replica 0's view
        # is at most one step late.
        self.non_finite_step = self.add_weight(
            shape=(), dtype="int64", initializer=keras.initializers.Constant(-1), trainable=False,
            aggregation="only_first_replica", name="non_finite_step",
        )
        self.phase = None  # the tfgan.schedule.Phase being trained (enter_phase); None: no schedule
        self._call_site = 0

    # --- What the driver reads ---

    @property
    def sampler(self):
        return self.generator

    @property
    def num_classes(self):
        return self.generator.num_classes

    @property
    def latent_dim(self):
        return self.generator.latent_dim

    def describe(self):
        return f"the model has {self.count_params():,} parameters"

    def _networks(self):
        """The networks that may grow with the phases."""
        return [self.generator]

    # --- Phases ---

    def enter_phase(self, phase):
        """Trains `phase` (a `tfgan.schedule.Phase`) from now on: growing networks take
        its resolution, and the step function is traced anew for it."""
        self.phase = phase
        for network in self._networks():
            if getattr(network, "grows", False):
                network.grow(phase.resolution)
        self.train_function = None  # Keras makes it again at the next fit, for the new networks

    def fade_alpha(self):
        """The fade-in alpha at the current step, a float32 tensor: from 0 at the phase's
        first step to 1 after its fade steps (`Phase.alpha`, computed from the step).
        The number 1.0 in a phase that does not fade, so that its step traces no blend."""
        if self.phase is None or not self.phase.fades:
            return 1.0
        progress = (tf.cast(self.step, tf.float32) - self.phase.start) / self.phase.fade_steps
        return tf.clip_by_value(progress, 0.0, 1.0)

    def hold_alpha(self):
        """Gives growing networks the current alpha as their own, for callers that pass
        none (an evaluation of `sampler`); `fit` passes it to every call anyway."""
        alpha = float(self.fade_alpha())
        for network in self._networks():
            if getattr(network, "grows", False):
                network.alpha = alpha

    def _phase_arguments(self, network):
        return {"alpha": self.fade_alpha()} if getattr(network, "grows", False) else {}

    # --- Randomness ---

    def random_seed(self, stream):
        """A seed for `tf.random.stateless_*`: `stream` keeps apart the draws of different
        users, and the step and the call site make it fresh for every draw. The same on
        every replica: draw for the global batch and take this replica's rows (`replica_share`)."""
        return self._seed(stream, self._call_site)

    def _seed(self, stream, call_site):
        counter = tf.cast(self.step, tf.int64) * self.calls_per_step + call_site
        return tf.stack([tf.constant(self.seed + stream, tf.int64), counter])

    # --- Sampling ---

    def run_generator(self, generator, z, labels, training):
        """`generator(z, labels)`, given the fade-in alpha where it grows (a GAN also hands a
        stochastic generator its seed in training: `GAN.run_generator`)."""
        return generator(z, labels, training=training, **self._phase_arguments(generator))

    def generate(self, num, labels=None, seed=0, training=False):
        """`num` samples of `sampler` from fixed noise: z is `tfgan.latent`'s for `seed`, the z
        that an export's `generate` signature and `python -m tfgan.generate` draw for it."""
        if getattr(self.generator, "reconstructs", False):
            raise ValueError(f"{self.generator.name} reconstructs its input; it draws no samples from noise")
        z = latent.normal_tf(num, self.latent_dim, seed)
        if self.num_classes and labels is None:
            labels = tf.range(num) % self.num_classes
        return tf.cast(self.run_generator(self.sampler, z, labels, training), tf.float32)  # also under mixed precision

    # --- The step's bookkeeping ---

    def count_step(self, losses):
        """Counts the step, and records it as the first non-finite one where a loss is
        NaN or infinite (or beyond `loss_limit`)."""
        self.step.assign_add(1)
        if not self.check_finite:
            return
        losses = tf.stack(losses)
        finite = tf.reduce_all(tf.math.is_finite(losses))
        if self.loss_limit is not None:
            finite &= tf.reduce_all(tf.abs(losses) <= self.loss_limit)
        first = (self.non_finite_step < 0) & tf.logical_not(finite)
        self.non_finite_step.assign(tf.where(first, tf.cast(self.step, tf.int64), self.non_finite_step))

    def results(self, trackers):
        """The step's logs from its trackers (Keras metrics)."""
        results = {name: tracker.result() for name, tracker in trackers.items()}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras 3 averages a cluster's results over axis 0, which scalars lack
            # (tensorflow/tensorflow#72388); shape [1] averages to the scalar.
            results = {name: tf.reshape(value, [1]) for name, value in results.items()}
        return results
