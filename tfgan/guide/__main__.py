"""python -m tfgan.guide --run RUN --scorer classifier:PATH --target 8 [--init-seed 3 [--label K] | --init-image x.png]
                      [--steps 200] [--lr 0.1] --out guided.png [--sequence steps.png --frames 8]
python -m tfgan.guide --run RUN --scorer clip:PRESET_DIR --prompt "a thick eight" ...

Steers a VQGAN's image toward what the scorer rates highly (`tfgan.guide.optimize`):
from the code grid of --init-image (encoded by the run's autoencoder; an image of the
data's size before padding is padded as training padded it) or of a sample of the run's
prior (--init-seed, a `vqgan_prior` run), --steps Adam steps on the latent grid before
quantization. RUN is a `vqgan` run (its autoencoder) or a `vqgan_prior` run (its
autoencoder and prior). Writes the final image, and with --sequence a strip of
--frames images from the start to the end; prints the score before and after, and
with a classifier the class it sees before and after.

Exit codes: 0 written; 2 a user error in one line; 3 the latent diverged.
"""

import argparse
import sys

import numpy as np

from tfgan import atomic, cli
from tfgan.errors import Diverged, UserError


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tfgan.guide", description="Guided generation with a VQGAN (VQGAN+CLIP, offline).")
    parser.add_argument("--run", required=True, help="a vqgan or vqgan_prior run directory")
    parser.add_argument("--scorer", required=True, help="classifier:PATH (with --target) or clip:PRESET_DIR (with --prompt)")
    parser.add_argument("--target", type=int, help="classifier: the class to steer toward")
    parser.add_argument("--prompt", help="clip: the text to steer toward")
    start = parser.add_mutually_exclusive_group(required=True)
    start.add_argument("--init-seed", type=int, help="start from the prior's sample for this seed (a vqgan_prior run)")
    start.add_argument("--init-image", help="start from this image, encoded (PNG or JPEG)")
    parser.add_argument("--label", type=int, help="with --init-seed, a conditional prior's class to sample")
    parser.add_argument("--steps", type=int, default=200, help="Adam steps (default 200)")
    parser.add_argument("--lr", type=float, default=0.1, help="Adam's learning rate on the latent grid (default 0.1, VQGAN+CLIP's)")
    parser.add_argument("--out", required=True, help="the final image (.png)")
    parser.add_argument("--sequence", help="also a strip of images from start to end (.png)")
    parser.add_argument("--frames", type=int, default=8, help="images in --sequence (default 8)")
    return parser.parse_args(argv)


def main(argv=None):
    return cli.run("tfgan.guide", _guide, parse_args(argv))


def _guide(args):
    for flag, path in (("--out", args.out), ("--sequence", args.sequence)):
        if path is not None:
            if not path.endswith(".png"):
                raise UserError(f"{flag} {path}: expected a .png")
            atomic.check_destination(path)
    if args.steps < 1 or not args.lr > 0 or args.frames < 2:
        raise UserError(f"expected --steps >= 1, --lr > 0 and --frames >= 2, got {args.steps}, {args.lr}, {args.frames}")
    if args.scorer.startswith("clip:") and args.target is not None:
        raise UserError("--target is for a classifier scorer; a clip scorer takes --prompt")
    cli.setup("tfgan.guide")
    from tfgan import latent, visualize
    from tfgan.export import run
    from tfgan.export.signatures import codec
    from tfgan.guide import optimize, scorers

    generator, _, _ = run.load_generator(args.run)
    autoencoder = codec(generator)
    if autoencoder is None:
        raise UserError(f"--run {args.run} is not a VQGAN run; guidance steers a vqgan or vqgan_prior run's codes")
    scorer = scorers.from_flag(args.scorer, args.target, args.prompt)
    if args.init_seed is not None:
        if autoencoder is generator:
            raise UserError(f"--init-seed samples the run's prior, and {args.run} is a vqgan run (stage 1); give --init-image")
        label = run.check_label(generator, args.label)
        z = latent.normal(1, generator.latent_dim, args.init_seed)
        codes = generator.sample_tokens(z, None if label is None else np.array([label], np.int32)).numpy()
    else:
        from tfgan.evaluate.classifier import scale
        from tfgan.invert.cli import read_image

        side, channels = autoencoder.sample_shape[0], autoencoder.sample_shape[2]
        image = scale(read_image(args.init_image, side, channels, run.data_pad(args.run)))
        codes = autoencoder.encode(image[None]).numpy()
    before = autoencoder.decode(codes).numpy()
    codes, images, scores, frames = optimize.guide(autoencoder, scorer, codes, args.steps, args.lr, args.frames if args.sequence else 0)
    if not np.isfinite(images).all():
        raise Diverged("the guided latent diverged (its image is not finite); nothing was written; lower --lr")
    visualize.write_png(args.out, visualize.image_grid(images, rows=1))
    if args.sequence:
        visualize.write_png(args.sequence, visualize.image_grid(np.concatenate(frames), rows=1))
    seen = ""
    if hasattr(scorer, "probabilities"):
        start, end = scorer.probabilities(before).numpy()[0], scorer.probabilities(images).numpy()[0]
        seen = (f"; the classifier sees {start.argmax()} (p {start.max():.3f}) -> {end.argmax()} (p {end.max():.3f}), "
                f"target {scorer.target} p {start[scorer.target]:.3f} -> {end[scorer.target]:.3f}")
    print(f"tfgan.guide: score {scores[0][0]:.4f} -> {scores[-1][0]:.4f} after {args.steps} steps{seen}; wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
