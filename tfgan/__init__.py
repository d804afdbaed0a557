"""tfgan: generative adversarial networks for TensorFlow 2 / Keras 3.

The pieces, and where they live:
- `tfgan.GAN` (gan.py): the one training algorithm, a `keras.Model`; `tfgan.Trainee`
  (trainee.py): what a run trains, of which the GAN is one and VQGAN's prior
  (`tfgan.prior`) another.
- `tfgan.losses`: GAN losses on logits, looked up by name.
- `tfgan.networks`: generators and discriminators (MLP, DCGAN, PGGAN, StyleGAN2, VQGAN's
  autoencoder and patch D, its GPT prior and sampler), conditional or not.
- `tfgan.perceptual`: a perceptual distance and the hook that puts it on a loss;
  `tfgan.guide`: guided generation with a VQGAN (`python -m tfgan.guide`).
- `tfgan.hooks`: extension points of the training step, and `GeneratorEMA`;
  `tfgan.penalties` (gradient penalty, R1) and `tfgan.augment` (DiffAugment) are hooks.
- `tfgan.metrics` and `tfgan.evaluate`: sample-quality metrics, the offline classifier,
  feature extractors and `python -m tfgan.evaluate`.
- `tfgan.export` and `tfgan.generate`: SavedModel and ONNX exports, and sampling them.
- `tfgan.data`: tf.data pipelines from tfds, folders, .npz, idx files and 2D mixtures.
- `tfgan.callbacks`: TensorBoard logging, checkpoints, tick lines and the divergence guard.
- `tfgan.config` and `tfgan.fit`: the YAML config and the command line; `tfgan.cli`: what
  the four commands share (exit codes, one-line errors).
- `tfgan.latent`: z from a seed, one definition for runs, evaluation and exports.
- `tfgan.rundir` and `tfgan.atomic`: the run directory and its lock; atomic writes.
- `tfgan.serve`: a development stand-in for TF Serving (`python -m tfgan.serve`).

Importing `tfgan` is cheap: submodules load on first use, so that the CLI can
reject a bad config before TensorFlow starts.
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "GAN": ("tfgan.gan", "GAN"),
    "Trainee": ("tfgan.trainee", "Trainee"),
    "Hook": ("tfgan.hooks", "Hook"),
    "GeneratorEMA": ("tfgan.hooks", "GeneratorEMA"),
    "GradientPenalty": ("tfgan.penalties", "GradientPenalty"),
    "R1Penalty": ("tfgan.penalties", "R1Penalty"),
    "DiffAugment": ("tfgan.augment", "DiffAugment"),
}


def __getattr__(name):
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'tfgan' has no attribute {name!r}")
