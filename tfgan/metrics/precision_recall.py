"""Improved precision and recall (Kynkäänniemi et al. 2019).

Each set's manifold is the union of balls around its feature vectors, each ball
reaching that vector's k-th nearest neighbour in the same set (k = 3 in the
paper). Precision is the share of generated samples inside the real manifold
(how many samples look real); recall is the share of real samples inside the
generated manifold (how much of the data the generator covers).
"""

import numpy as np

_CHUNK = 1024  # rows of the distance matrix held at once


def _squared_distances(x, y):
    return np.maximum((x * x).sum(1)[:, None] - 2.0 * x @ y.T + (y * y).sum(1)[None, :], 0.0)


def _radii(points, k):
    """Squared distance from each point to its k-th nearest other point."""
    radii = np.empty(len(points))
    for start in range(0, len(points), _CHUNK):
        d = _squared_distances(points[start : start + _CHUNK], points)
        radii[start : start + _CHUNK] = np.partition(d, k, axis=1)[:, k]  # column 0 is the point itself
    return radii


def _inside(queries, points, radii):
    inside = np.empty(len(queries), bool)
    for start in range(0, len(queries), _CHUNK):
        d = _squared_distances(queries[start : start + _CHUNK], points)
        inside[start : start + _CHUNK] = (d <= radii[None, :]).any(axis=1)
    return inside


def precision_recall(real, fake, k=3):
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"The two feature sets differ in width: {real.shape[1]} and {fake.shape[1]}.")
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"Precision and recall with k={k} need more than {k} samples in each set.")
    precision = _inside(fake, real, _radii(real, k)).mean()
    recall = _inside(real, fake, _radii(fake, k)).mean()
    return float(precision), float(recall)
