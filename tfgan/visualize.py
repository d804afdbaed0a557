"""Pictures of samples: image grids and 2D scatter plots, as uint8 arrays.

Both return [H, W, C] uint8 arrays, ready for `tf.summary.image` or a PNG.
"""

import io

import numpy as np

from tfgan import atomic


def to_uint8(images):
    """Images in [-1, 1] (any shape) -> uint8 [0, 255], rounded and clipped."""
    return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def image_grid(images, rows):
    """images [N, H, W, C] in [-1, 1] -> one uint8 [rows*H, cols*W, C] grid, 1px gaps."""
    images = np.asarray(images, np.float32)
    num, height, width, channels = images.shape
    cols = -(-num // rows)
    pixels = to_uint8(images)
    grid = np.full((rows * (height + 1) - 1, cols * (width + 1) - 1, channels), 255, np.uint8)
    for i in range(num):
        r, c = divmod(i, cols)
        grid[r * (height + 1) : r * (height + 1) + height, c * (width + 1) : c * (width + 1) + width] = pixels[i]
    return grid


def upscale(images, factor):
    """[N, H, W, C] -> [N, H * factor, W * factor, C], each pixel repeated (nearest neighbour)."""
    if factor <= 1:
        return images
    return np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)


def class_rows(num, classes):
    """Labels for a grid with one row per class: `num` rounded down to whole rows, at least one per class."""
    return np.repeat(np.arange(classes), max(1, num // classes))


def scatter_plot(samples, real, centres=None, size=480):
    """Generated 2D points over the real data, rendered by matplotlib -> uint8 RGB."""
    # A Figure with its own Agg canvas: no pyplot, so no global backend is chosen
    # and no figure is left registered in a user's session.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size / 96, size / 96), dpi=96)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.scatter(real[:, 0], real[:, 1], s=2, c="#bbbbbb", label="real")
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="#d62728", alpha=0.6, label="generated")
    if centres is not None:
        ax.scatter(centres[:, 0], centres[:, 1], s=30, marker="+", c="black", label="modes")
    lim = 1.3 * max(np.abs(real).max(), 1e-3)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, markerscale=3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    from PIL import Image  # matplotlib depends on Pillow

    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def write_png(path, pixels, make_dirs=False):
    """Writes uint8 [H, W, C] as a PNG, atomically (temp file, then rename)."""
    from PIL import Image

    pixels = np.asarray(pixels)
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    with atomic.replacing(path, make_dirs) as tmp:
        Image.fromarray(pixels).save(tmp, format="PNG")
