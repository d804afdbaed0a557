"""Truncation and style mixing of an exported StyleGAN2 generator, in NumPy.

An export in two halves (`mapping(z[, label]) -> w`, `synthesis(ws) -> images`,
w_avg and class centres in its metadata; see `tfgan.export.signatures`) is enough for both, in
any runtime: ws [N, num_ws, w_dim] are plain arrays between the two calls.
These are the NumPy twins of `tfgan.networks.base.truncate` and `style_mix`.

The style-mixing figure (Karras et al. 2019, figure 3; StyleGAN2-ADA's
`style_mixing.py`): the first row holds the column seeds' images, the first
column the row seeds'; the cell of row seed r and column seed c is synthesis of
r's ws with the entries listed by `layers` taken from c. Coarse entries (the
first ones, at 4x4 and 8x8) carry pose and shape, fine ones texture and stroke.
"""

import numpy as np

from tfgan import atomic, latent
from tfgan.errors import UserError


def parse_numbers(text, what):
    """'1,2,5-7' -> [1, 2, 5, 6, 7]: non-negative integers and inclusive ranges, in order."""
    numbers = []
    for part in str(text).split(","):
        low, dash, high = part.strip().partition("-")
        try:
            low, high = int(low), int(high if dash else low)
        except ValueError:
            raise UserError(f"{what} {text!r}: expected comma-separated numbers or ranges, like 0-3 or 1,4,7") from None
        if low < 0 or high < low:
            raise UserError(f"{what} {text!r}: expected non-negative numbers and ranges low-high with low <= high")
        numbers.extend(range(low, high + 1))
    return numbers


def read_latent(path, num_ws, w_dim, flag="--latent"):
    """(ws [1, num_ws, w_dim], label or None, noise maps or None) from a W+ latent .npz, as
    `write_latent` writes it (`tfgan.drag`, `tfgan.invert`)."""
    try:
        with np.load(path) as stored:
            ws = np.asarray(stored["ws"], np.float32)
            label = int(stored["label"]) if "label" in stored else None
            noise = [np.asarray(stored[f"noise_{i}"], np.float32) for i in range(len([k for k in stored if k.startswith("noise_")]))]
    except (OSError, KeyError, ValueError):
        raise UserError(f"{flag} {path} is not a latent file; expected an .npz holding ws (from tfgan.drag or tfgan.invert)") from None
    if ws.shape[-2:] != (num_ws, w_dim) or ws.size != num_ws * w_dim:
        raise UserError(f"{flag} {path} holds ws of shape {ws.shape}; this generator takes [1, {num_ws}, {w_dim}]")
    return ws.reshape(1, num_ws, w_dim), label, noise or None


def latent_arrays(ws, label=None, noise=None):
    """The arrays of a W+ latent file: ws, and where given the label and the noise maps (`noise_0`, ...)."""
    arrays = {"ws": np.asarray(ws, np.float32), **({"label": np.int32(label)} if label is not None else {})}
    arrays.update({f"noise_{i}": np.asarray(m, np.float32) for i, m in enumerate(noise or [])})
    return arrays


def write_latent(path, ws, label=None, noise=None):
    """A W+ latent .npz (`latent_arrays`), atomically."""
    with atomic.replacing(path) as tmp:
        np.savez(tmp, **latent_arrays(ws, label, noise))


def check_layers(layers, num_ws):
    beyond = [layer for layer in layers if layer >= num_ws]
    if beyond:
        raise UserError(f"--layers {beyond[0]} is past this model's style layers: it has {num_ws}, 0 to {num_ws - 1}")


def truncate(ws, centre, psi):
    """centre + psi (ws - centre): psi 1 changes nothing, psi 0 gives the centre (w_avg [w_dim],
    or a class centre per sample [N, 1, w_dim])."""
    return centre + np.float32(psi) * (ws - centre)


def truncation_centre(halves, labels=None):
    """What truncation pulls toward: w_avg, or given labels each one's class centre [N, 1, w_dim]."""
    if labels is None:
        return halves.w_avg
    if halves.class_centres is None:
        raise UserError("this conditional export holds no class centres to truncate toward (it predates them); export its run again")
    return halves.class_centres[np.asarray(labels, np.int64)][:, None, :]


def truncated_ws(halves, z, labels=None, psi=1.0):
    """ws [N, num_ws, w_dim] of z: the mapping's w at every layer, truncated by psi (toward each
    label's class centre where labels are given)."""
    w = halves.mapping(z, labels)
    ws = np.repeat(w[:, None, :], halves.num_ws, axis=1)
    return ws if psi == 1.0 else truncate(ws, truncation_centre(halves, labels), psi)


def seed_ws(halves, seeds, psi=1.0, label=None):
    """{seed: ws [num_ws, w_dim]} for the z that `tfgan.generate --seed S --num 1` draws."""
    z = np.concatenate([latent.normal(1, halves.latent_dim, seed) for seed in seeds])
    labels = None if label is None else np.full(len(seeds), label, np.int32)
    return dict(zip(seeds, truncated_ws(halves, z, labels, psi)))


def mixing_grid(halves, row_seeds, col_seeds, layers, psi=1.0, label=None):
    """Images [(rows + 1) * (cols + 1), H, W, C] of the style-mixing figure, row-major; the corner is white."""
    check_layers(layers, halves.num_ws)
    ws = seed_ws(halves, list(dict.fromkeys(row_seeds + col_seeds)), psi, label)
    grid = [None] + [ws[c] for c in col_seeds]
    for r in row_seeds:
        grid.append(ws[r])
        for c in col_seeds:
            mixed = ws[r].copy()
            mixed[layers] = ws[c][layers]
            grid.append(mixed)
    images = halves.synthesis(np.stack(grid[1:]))
    corner = np.ones_like(images[:1])  # white, like the gaps of `visualize.image_grid`
    return np.concatenate([corner, images])
