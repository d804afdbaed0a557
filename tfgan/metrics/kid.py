"""Kernel Inception Distance (Bińkowski et al. 2018): an unbiased estimate of the
squared MMD between real and generated features, with the cubic polynomial
kernel k(x, y) = (x·y / d + 1)³, averaged over random subsets.

Unlike the Fréchet distance it has no bias in the sample size, so it compares
fairly across small sample counts; its spread over subsets is reported with it.
"""

import numpy as np


def _kernel(x, y):
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y):
    """Unbiased MMD² between the rows of `x` and of `y` (diagonal terms left out)."""
    m, n = len(x), len(y)
    kxx, kyy, kxy = _kernel(x, x), _kernel(y, y), _kernel(x, y)
    return (
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2.0 * kxy.mean()
    )


def kernel_inception_distance(real, fake, subsets=100, subset_size=1000, seed=0):
    """(mean, std) of the unbiased MMD² over `subsets` random subsets of each set."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"The two feature sets differ in width: {real.shape[1]} and {fake.shape[1]}.")
    size = min(subset_size, len(real), len(fake))
    if size < 2:
        raise ValueError(f"KID needs at least 2 samples in each set. Received: {len(real)} and {len(fake)}")
    rng = np.random.default_rng(seed)
    values = [
        mmd2_unbiased(real[rng.choice(len(real), size, replace=False)], fake[rng.choice(len(fake), size, replace=False)])
        for _ in range(subsets)
    ]
    return float(np.mean(values)), float(np.std(values))
