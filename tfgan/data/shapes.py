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


# What `find` calls clean: the drawing's own margins, loosened for antialiased edges.
_FOREGROUND = 128  # brightest channel above this: a shape (shapes have one >= 192, the background <= 64)
_SQUARE_FILL = 0.88  # a square fills its bounding box (1.0 drawn); a disc pi/4 (0.7-0.92 drawn, by pixelation)
_DISC_FILL, _DISC_FILL_MAX = 0.55, 0.95
_ASPECT = 1.4  # bounding boxes at most this much longer one way than the other
_PLAIN = 16.0  # standard deviation (0-255) of a plain region's interior colour, per channel


@dataclasses.dataclass
class Found:
    """What `find` saw in each image: whether it is clean, and where its shapes are (NaN where not clean)."""

    clean: np.ndarray  # bool [N]: one plain disc, one plain square, a plain background, nothing else
    disc_centre: np.ndarray  # float32 [N, 2] (x, y), as `Layout`
    square_centre: np.ndarray  # float32 [N, 2]
    # Per image, what a sample that is not clean got right (all 2 / True / 2 / 1 / 1 for drawn images):
    regions: np.ndarray  # int [N]: regions brighter than the background
    plain_background: np.ndarray  # bool [N]
    plain_regions: np.ndarray  # int [N]: regions of one colour inside
    squares: np.ndarray  # int [N]: plain regions of a square's outline
    discs: np.ndarray  # int [N]: plain regions of a disc's outline

    def parts(self):
        """{name: share}: of the images, clean, with two regions, with a plain background; of all
        regions found, plain, squares, discs. Where a run on `shapes` stands when none is clean yet."""
        regions = max(int(self.regions.sum()), 1)
        return {
            "clean": float(self.clean.mean()), "two_regions": float(np.mean(self.regions == 2)),
            "plain_background": float(self.plain_background.mean()), "plain_regions": self.plain_regions.sum() / regions,
            "squares": self.squares.sum() / regions, "discs": self.discs.sum() / regions,
        }


def find(images):
    """`Found` for images uint8 [N, H, W, 3] (as drawn) or float in [-1, 1] (as a generator draws them).

    The inverse of `draw`: it finds the connected regions brighter than the
    background and calls an image clean when there are exactly two, a square
    (filling its bounding box) and a disc (filling about pi/4 of it), each of
    one colour inside, on a background of one colour. It is how the samples of
    a run on `shapes` are scored, and where a shape is after an edit. Every image
    `draw` makes at 32 px or more is clean; below that the smallest discs are a
    few pixels, too few to tell from a square. Its counts per image (regions,
    plain ones, squares, discs; `Found.parts`) say what a sample that is not clean
    got right.
    """
    values = _values(images)
    foreground = values.max(axis=-1) > _FOREGROUND
    labels = _components(foreground)
    n = len(images)
    nan, counts = lambda: np.full((n, 2), np.nan, np.float32), lambda: np.zeros(n, int)  # noqa: E731
    found = Found(np.zeros(n, bool), nan(), nan(), counts(), np.zeros(n, bool), counts(), counts(), counts())
    for i in range(n):
        regions = [labels[i] == k for k in np.unique(labels[i][foreground[i]])]
        plain = [region for region in regions if _plain(values[i], region)]
        kinds = [_kind(region) for region in plain]
        found.regions[i], found.plain_background[i], found.plain_regions[i] = len(regions), _plain(values[i], ~foreground[i]), len(plain)
        found.squares[i], found.discs[i] = kinds.count("square"), kinds.count("disc")
        if len(regions) == 2 and found.plain_background[i] and set(kinds) == {"disc", "square"}:
            by_kind = dict(zip(kinds, plain))
            found.clean[i] = True
            found.disc_centre[i], found.square_centre[i] = _centre(by_kind["disc"]), _centre(by_kind["square"])
    return found


@dataclasses.dataclass
class Region:
    """A region of one image brighter than its background, as `find` sees it."""

    pixels: np.ndarray  # bool [H, W]
    centre: np.ndarray  # float32 (x, y), as `Layout`
    colour: np.ndarray  # float32 [3]: the mean colour inside, 0-255
    kind: object  # "disc", "square" or None, by `find`'s outline test (plain inside or not)


def regions(image):
    """The `Region`s of one image, uint8 [H, W, 3] or float in [-1, 1]: where an edit moved a
    shape to is measured on the image itself (`benchmarks/drag.py`)."""
    values = _values(image)
    foreground = values.max(axis=-1) > _FOREGROUND
    labels = _components(foreground[None])[0]
    found = []
    for k in np.unique(labels[foreground]):
        pixels = labels == k
        found.append(Region(pixels, _centre(pixels), values[pixels].mean(axis=0), _kind(pixels)))
    return found


def _values(images):
    """float32 0-255 of images uint8 (as drawn) or float in [-1, 1] (as a generator draws them)."""
    images = np.asarray(images)
    return images.astype(np.float32) if images.dtype == np.uint8 else (images.astype(np.float32) + 1.0) * 127.5


def _components(mask):
    """[N, H, W] int labels of the 4-connected regions of `mask` (0 off the mask): each pixel
    takes the smallest index in its region, spread a neighbour at a time until nothing changes."""
    n, h, w = mask.shape
    big = n * h * w
    labels = np.where(mask, np.arange(1, big + 1).reshape(n, h, w), big + 1)
    while True:
        padded = np.pad(labels, ((0, 0), (1, 1), (1, 1)), constant_values=big + 1)
        neighbours = np.minimum.reduce([padded[:, 1:-1, 1:-1], padded[:, :-2, 1:-1], padded[:, 2:, 1:-1], padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]])
        spread = np.where(mask, neighbours, big + 1)
        if np.array_equal(spread, labels):
            return np.where(mask, labels, 0)
        labels = spread


def _kind(region):
    """'square', 'disc' or None. Small discs pixelate to nearly fill their box (0.89 at
    radius 3.2), so the box's corner pixels tell them apart: a square has them, a disc not."""
    ys, xs = np.nonzero(region)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    height, width = bottom - top + 1, right - left + 1
    if max(height, width) > _ASPECT * min(height, width):
        return None
    fill = region.sum() / (height * width)
    corners = int(region[top, left]) + int(region[top, right]) + int(region[bottom, left]) + int(region[bottom, right])
    if fill >= _SQUARE_FILL and corners >= 3:
        return "square"
    return "disc" if _DISC_FILL <= fill < _DISC_FILL_MAX and corners <= 1 else None


def _plain(values, region):
    """Whether the region's interior (its pixels whose 4 neighbours are in it too) is one colour;
    the edge is left out, where a generator's antialiasing blends two colours."""
    padded = np.pad(region, 1)
    inside = region & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return not inside.any() or bool(values[inside].std(axis=0).max() <= _PLAIN)


def _centre(region):
    ys, xs = np.nonzero(region)
    return np.array([xs.mean() + 0.5, ys.mean() + 0.5], np.float32)
