"""python -m tfgan.invert --run RUN --image digit.png --out latent.npz [--steps 1000] [--label K]
       [--features classifier:PATH|inception] [--noise] [--seed 0]

Projects the image into W, then W+, of a `stylegan2` run's generator (its EMA where
kept), as StyleGAN2-ADA's projector does (`tfgan.invert.projector`), and prints the
reconstruction's PSNR. The latent file is what `tfgan.drag --latent` edits and
`tfgan.generate --latent` renders.

The image is read as the run's data is: an image of the generator's size as it
is; one the size of the data before its padding (`data.pad`: 28x28 for MNIST's
32x32 runs) padded with black as training padded it; any other size centre-cropped
to a square and resized (Lanczos), as the reference does. --features adds the
distance of the images' features (tfgan.evaluate's offline classifier, or
InceptionV3 where its weights can be had) to the pixels' error. --noise also
optimizes synthesis's noise maps (the reference does); they go in the latent file,
but an export's synthesis draws with its own fixed noise, so by default they stay
fixed.

Exit codes: 0 written; 2 a user error in one line; 3 the projection diverged.
"""

import argparse
import sys
import time

import numpy as np

from tfgan import atomic, cli, stylemix
from tfgan.errors import Diverged, UserError


def read_image(path, side, channels, pad=0):
    """uint8 [side, side, channels] of the image at `path`, fitted as the module says."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)
        image.load()
    except (OSError, UnidentifiedImageError):
        raise UserError(f"--image {path} is not a readable image; expected a PNG or JPEG") from None
    return fit_image(image, side, channels, pad)


def fit_image(image, side, channels, pad=0):
    """A PIL image as uint8 [side, side, channels]: as it is at the generator's size; padded
    with black at the data's size before padding; else centre-cropped and resized."""
    from PIL import Image

    image = image.convert("RGB" if channels == 3 else "L")
    if image.size == (side - 2 * pad, side - 2 * pad) and pad:
        pixels = np.pad(np.asarray(image), [(pad, pad), (pad, pad)] + [(0, 0)] * (channels == 3))
    else:
        width, height = image.size
        edge = min(width, height)
        box = ((width - edge) // 2, (height - edge) // 2, (width + edge) // 2, (height + edge) // 2)
        pixels = np.asarray(image.crop(box).resize((side, side), Image.LANCZOS))
    return pixels.reshape(side, side, channels)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tfgan.invert", description="Find the W+ latent of an image (GAN inversion).")
    parser.add_argument("--run", required=True, help="a stylegan2 run directory (python -m tfgan.fit's run_dir)")
    parser.add_argument("--image", required=True, help="the image to invert (PNG or JPEG)")
    parser.add_argument("--out", required=True, help="the latent, a .npz")
    parser.add_argument("--steps", type=int, default=1000, help="optimization steps (default 1000, the reference's)")
    parser.add_argument("--label", type=int, help="conditional runs: the image's class")
    parser.add_argument("--features", help="add a feature distance: classifier:PATH (tfgan.evaluate train-classifier) or inception")
    parser.add_argument("--noise", action="store_true", help="optimize the noise maps too (kept in the latent file)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the jitter of w (default 0)")
    args = parser.parse_args(argv)
    return cli.run("tfgan.invert", _invert, args)


def _invert(args):
    if not args.out.endswith(".npz"):
        raise UserError(f"--out {args.out}: expected a .npz (the latent)")
    if args.steps < 1:
        raise UserError(f"--steps must be a positive number, got {args.steps}")
    atomic.check_destination(args.out)
    cli.setup("tfgan.invert")
    from tfgan.evaluate import features as features_lib
    from tfgan.export import run
    from tfgan.invert import projector

    generator, _ = run.load_stylegan2(args.run)
    run.check_label(generator, args.label)
    pad = run.data_pad(args.run)
    side, channels = generator.sample_shape[0], generator.sample_shape[2]
    target = read_image(args.image, side, channels, pad).astype(np.float32) / 127.5 - 1.0
    distance = _feature_distance(features_lib.from_flag(args.features), generator.sample_shape, pad) if args.features else None
    begun = time.perf_counter()
    projection = projector.project(
        generator, target, steps=args.steps, label=args.label, features=distance, optimize_noise=args.noise, seed=args.seed,
        log=lambda step, loss: print(f"tfgan.invert: step {step}/{args.steps}, loss {loss:.5f}", flush=True),
    )
    if not np.isfinite(projection.ws).all():
        raise Diverged("the projection diverged (its latent is not finite); nothing was written")
    stylemix.write_latent(args.out, projection.ws, args.label, projection.noise)
    print(f"tfgan.invert: PSNR {projection.psnr:.2f} dB after {args.steps} steps ({time.perf_counter() - begun:.1f} s); wrote {args.out}")


def _feature_distance(extractor, sample_shape, pad):
    """images -> features: the run's padding cropped off where the extractor reads unpadded images."""
    side = sample_shape[0]
    crop = pad if pad and tuple(extractor.input_shape[:2]) == (side - 2 * pad, side - 2 * pad) else 0
    extractor.check((side - 2 * crop, side - 2 * crop, sample_shape[2]), "this run's generator")
    return lambda images: extractor(images[:, crop : side - crop, crop : side - crop])[0]


if __name__ == "__main__":
    sys.exit(main())
