"""Perceptual path length (Karras et al. 2019, StyleGAN; the variant StyleGAN2 reports).

How much an image changes for a small step of its latent: for pairs of images
made from w and from w + epsilon (w' - w) (w, w' the mapping of two random z,
"endpoints": the step starts at w itself), the squared distance between their
features over epsilon^2. The mean of that, leaving out the pairs below the
1st and above the 99th percentile, is the PPL: low for a generator whose
latent space is smooth.

The reference measures the distance with LPIPS (VGG16 features, each layer's
channels unit-normalized); tfgan takes any feature extractor and unit-normalizes
its feature vectors, so that the figure does not scale with the features' size.
"""

import numpy as np


def perceptual_path_length(features_start, features_end, epsilon=1e-4, normalize=True):
    """PPL from features [N, D] of the pairs' two images; see the module."""
    a, b = (np.asarray(f, np.float64) for f in (features_start, features_end))
    if a.ndim != 2 or a.shape != b.shape or len(a) < 2:
        raise ValueError(f"Expected two feature arrays of the same shape [N >= 2, D]. Received: {a.shape} and {b.shape}")
    if normalize:
        a, b = (f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12) for f in (a, b))
    distances = np.square(a - b).sum(axis=1) / epsilon**2
    low, high = np.percentile(distances, 1, method="lower"), np.percentile(distances, 99, method="higher")
    return float(distances[(distances >= low) & (distances <= high)].mean())
