"""Synthetic 2D Gaussian mixtures, the mode-collapse benchmarks of the GAN
literature (Metz et al. 2016; Lin et al. 2018, PacGAN):

- ring: 8 Gaussians evenly spaced on a circle of radius 1, std 0.01;
- grid: 25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05.

No download: points are drawn from a seeded NumPy generator.
"""

import numpy as np

NAMES = ("ring", "grid")
RING_RADIUS, RING_STD, RING_MODES = 1.0, 0.01, 8
GRID_STD = 0.05


def centres(name):
    """The mode centres [K, 2] of a mixture."""
    if name == "ring":
        angles = 2 * np.pi * np.arange(RING_MODES) / RING_MODES
        return RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if name == "grid":
        axis = np.arange(-4.0, 5.0, 2.0)
        return np.array([(x, y) for x in axis for y in axis])
    raise ValueError(f"Unknown mixture {name!r}. Expected one of: ring, grid.")


def std(name):
    return {"ring": RING_STD, "grid": GRID_STD}[name]


def sample(name, num, seed):
    """`num` points [num, 2] float32, the same for the same seed."""
    rng = np.random.default_rng(seed)
    mus = centres(name)
    which = rng.integers(len(mus), size=num)
    points = mus[which] + std(name) * rng.standard_normal((num, 2))
    return points.astype(np.float32)
