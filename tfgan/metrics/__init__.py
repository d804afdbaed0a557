"""Sample-quality metrics: pure NumPy on samples, features or class probabilities.

- `modes`: mode coverage of 2D mixtures (modes captured, % high quality, reverse KL);
- `frechet`: Fréchet distance between Gaussian summaries of features (FID with
  InceptionV3 features), and `GaussianStats`, cacheable real-data statistics;
- `kid`: Kernel Inception Distance;
- `precision_recall`: improved precision and recall;
- `scores`: Inception / classifier score and requested-class accuracy;
- `ppl`: perceptual path length, from the features of image pairs a small step
  apart in W (`tfgan.evaluate.report.path_pairs` draws them).
"""

from tfgan.metrics.frechet import GaussianStats, frechet_distance
from tfgan.metrics.kid import kernel_inception_distance, mmd2_unbiased
from tfgan.metrics.modes import ModeReport, mode_report
from tfgan.metrics.ppl import perceptual_path_length
from tfgan.metrics.precision_recall import precision_recall
from tfgan.metrics.scores import class_accuracy, inception_score

# The metrics by the names configs and the CLI use. precision_recall reports
# precision and recall; kid and classifier_score also their spread over subsets.
# ppl is for generators with mapping and synthesis halves (StyleGAN2).
IMAGE_METRICS = ("frechet_distance", "kid", "precision_recall", "classifier_score", "class_accuracy", "ppl")
METRICS = IMAGE_METRICS + ("modes",)

__all__ = [
    "IMAGE_METRICS", "METRICS",
    "GaussianStats", "ModeReport", "class_accuracy", "frechet_distance", "inception_score",
    "kernel_inception_distance", "mmd2_unbiased", "mode_report", "perceptual_path_length", "precision_recall",
]
