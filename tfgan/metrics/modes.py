"""Mode coverage of 2D Gaussian mixtures, on the protocol of Srivastava et al.
(2017, VEEGAN) and Lin et al. (2018, PacGAN):

- a sample is *high quality* when it lies within 3 standard deviations of its
  nearest mode centre;
- a mode is *captured* when at least one high-quality sample is nearest to it;
- reverse KL: KL(generated mode histogram || uniform over modes), over the
  high-quality samples; 0 when every mode gets an equal share.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ModeReport:
    modes_captured: int
    num_modes: int
    high_quality: float  # fraction of samples within `threshold` std of a centre
    reverse_kl: float

    def __str__(self):
        return (
            f"{self.modes_captured}/{self.num_modes} modes, {100 * self.high_quality:.1f}% high quality, "
            f"reverse KL {self.reverse_kl:.3f}"
        )


def mode_report(samples, centres, std, threshold=3.0):
    samples, centres = np.asarray(samples, np.float64), np.asarray(centres, np.float64)
    distances = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=-1)  # [N, K]
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(samples)), nearest] <= threshold * std
    counts = np.bincount(nearest[good], minlength=len(centres))
    captured = int((counts > 0).sum())
    if counts.sum():
        p = counts[counts > 0] / counts.sum()
        reverse_kl = float(np.sum(p * np.log(p * len(centres))))
    else:
        reverse_kl = float("inf")
    return ModeReport(captured, len(centres), float(good.mean()), reverse_kl)
