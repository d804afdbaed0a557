"""Fréchet distance between two sets of features, each summarised as a Gaussian.

    d² = |mu_1 - mu_2|² + tr(S_1 + S_2 - 2 (S_1^½ S_2 S_1^½)^½)

the 2-Wasserstein distance between N(mu_1, S_1) and N(mu_2, S_2) (Dowson and
Landau 1982). With InceptionV3 pool features it is the FID of Heusel et al.
(2017); with a classifier trained on the data it is the same distance in that
classifier's feature space.

The matrix square root goes through symmetric eigendecompositions: S_1^½ S_2 S_1^½
is symmetric positive semi-definite, so the trace of its square root is the sum
of the square roots of its eigenvalues, clipped at zero against round-off. That
avoids scipy's general `sqrtm` and its complex parts on near-singular covariances.
"""

import dataclasses

import numpy as np

from tfgan import atomic


@dataclasses.dataclass(frozen=True)
class GaussianStats:
    """Mean and covariance of `count` feature vectors, in float64."""

    mean: np.ndarray
    cov: np.ndarray
    count: int

    @classmethod
    def of(cls, features):
        features = np.asarray(features, np.float64)
        if features.ndim != 2 or len(features) < 2:
            raise ValueError(f"Expected features of shape [N >= 2, D]. Received: shape={features.shape}")
        return cls(features.mean(axis=0), np.cov(features, rowvar=False), len(features))

    def save(self, path):
        """Written to a temporary name and renamed, so a cache file is whole or absent."""
        with atomic.replacing(path) as tmp:
            np.savez(tmp, mean=self.mean, cov=self.cov, count=self.count)

    @classmethod
    def load(cls, path):
        with np.load(path) as stats:
            return cls(stats["mean"], stats["cov"], int(stats["count"]))


def _psd_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(a: GaussianStats, b: GaussianStats):
    if a.mean.shape != b.mean.shape:
        raise ValueError(f"The two feature sets differ in width: {a.mean.shape[0]} and {b.mean.shape[0]}.")
    root_a = _psd_sqrt(a.cov)
    cross = np.linalg.eigvalsh(root_a @ b.cov @ root_a)
    trace_sqrt = np.sqrt(np.clip(cross, 0.0, None)).sum()
    d2 = np.sum((a.mean - b.mean) ** 2) + np.trace(a.cov) + np.trace(b.cov) - 2.0 * trace_sqrt
    return float(max(d2, 0.0))
