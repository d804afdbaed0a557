"""`data.source: shapes`: a filled disc and a filled square on a plain background.

Drawn procedurally from a seeded NumPy generator (no download), like `ring` and
`grid`, at any size (`data.resolution`, default 32). Each image has its own
background grey, and a disc and a square of random position, size and colour
that do not overlap. Because every object's position is known exactly
(`Layout`), it is the dataset on which point-based editing can be measured.

Colours keep their distance from the background (grey at most 64, each shape's
channels at least 96, one of them at least 192), so that every pixel belongs
clearly to the background or to one shape.
"""

import dataclasses

import numpy as np

NAME = "shapes"
DEFAULT_SIZE = 32
MIN_SIZE = 8  # below this the shapes are a few pixels and no longer tell a disc from a square


@dataclasses.dataclass
class Layout:
    """Where each image's objects are, in pixels (x to the right, y down, pixel centres at i + 0.5)."""

    disc_centre: np.ndarray  # float32 [N, 2] (x, y)
    disc_radius: np.ndarray  # float32 [N]
    square_centre: np.ndarray  # float32 [N, 2] (x, y)
    square_half: np.ndarray  # float32 [N]: half the side


def draw(num, size=DEFAULT_SIZE, seed=0):
    """(images uint8 [num, size, size, 3], `Layout`): the same for the same (num, size, seed)."""
    if size < MIN_SIZE:
        raise ValueError(f"Received an invalid value for `size`, expected >= {MIN_SIZE}. Received: size={size}")
    rng = np.random.default_rng([seed, size])
    layout = _layout(rng, num, size)
    background = rng.uniform(0, 64, (num, 1, 1, 1))
    colours = rng.uniform(96, 255, (num, 2, 3))
    bright = rng.integers(0, 3, (num, 2))  # one channel of each shape bright, so that no shape is a dull grey
    colours[np.arange(num)[:, None], np.arange(2)[None, :], bright] = rng.uniform(192, 255, (num, 2))

    centres = np.arange(size, dtype=np.float32) + 0.5
    x, y = centres[None, None, :], centres[None, :, None]
    dx, dy = x - layout.disc_centre[:, 0, None, None], y - layout.disc_centre[:, 1, None, None]
    disc = dx**2 + dy**2 <= layout.disc_radius[:, None, None] ** 2
    sx, sy = x - layout.square_centre[:, 0, None, None], y - layout.square_centre[:, 1, None, None]
    half = layout.square_half[:, None, None]
    square = (np.abs(sx) <= half) & (np.abs(sy) <= half)

    images = np.broadcast_to(background, (num, size, size, 3)).copy()
    images = np.where(disc[..., None], colours[:, None, None, 0], images)
    images = np.where(square[..., None], colours[:, None, None, 1], images)
    return np.round(images).astype(np.uint8), layout


def _layout(rng, num, size):
    """Sizes between a tenth and a fifth of the image; both shapes wholly inside it, apart."""
    radius = rng.uniform(0.1, 0.2, num) * size
    half = rng.uniform(0.1, 0.2, num) * size
    disc, square = np.empty((num, 2)), np.empty((num, 2))
    todo = np.arange(num)
    while len(todo):  # redraw the positions of the pairs that touch (a few rounds)
        disc[todo] = rng.uniform(radius[todo, None], size - radius[todo, None], (len(todo), 2))
        square[todo] = rng.uniform(half[todo, None], size - half[todo, None], (len(todo), 2))
        # Apart when the disc's centre is farther than its radius from the square (plus a pixel).
        nearest = np.clip(disc[todo], square[todo] - half[todo, None], square[todo] + half[todo, None])
        touching = np.linalg.norm(disc[todo] - nearest, axis=1) < radius[todo] + 1.0
        todo = todo[touching]
    as32 = lambda a: a.astype(np.float32)  # noqa: E731
    return Layout(as32(disc), as32(radius), as32(square), as32(half))
