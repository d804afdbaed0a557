"""DragGAN on stylegan2_shapes: python benchmarks/drag.py --run RUN [--seeds 100] [--steps 200]

Protocol (issue 16), every position measured on the images by colour segmentation
(`tfgan.data.shapes.regions`), never read from the generator:
- seeds in turn (the image of `tfgan.drag --seed S`, psi 0.7) until --seeds of them
  show exactly one region that passes as a disc and one other region (the square);
- the handle is the disc's centre (to the pixel), the target the handle moved 4-8 px
  in a random direction (drawn from the seed), kept inside the image;
- each drag runs with no mask, then again with a mask that holds the square (the
  region free to move is everything but the square, grown by a pixel);
- after a drag, the disc and the square are the regions whose colours are nearest
  the originals'.
Reports MD (the mean distance from the disc's centre to the target) before and after,
the share of drags within 1 and 1.5 px, the share that tracking declared arrived (every
handle within the stop distance) and how far the tracked handle ended from the disc
measured on the image (tracking's error), the median steps and the seconds per step,
how far the square moved, D's score before and after, and the Fréchet distance of
the edited images from the unedited ones (in pixels pooled to 8x8x3: no feature
extractor for `shapes` can be had here).
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

PAPER_MD = (12.9, 2.44, 512)  # DragGAN's face landmarks: MD before and after editing, at 512 px


def pick(generator, want, seed_limit=2000):
    """[(seed, ws, disc Region, square Region)] of the first `want` seeds that show one disc and one other region."""
    from tfgan.data import shapes
    from tfgan.drag.session import seed_ws

    picked = []
    for seed in range(seed_limit):
        ws = seed_ws(generator, seed)
        found = shapes.regions(generator.synthesis(ws, training=False, noise="const")[0].numpy())
        discs = [r for r in found if r.kind == "disc"]
        if len(found) == 2 and len(discs) == 1:
            picked.append((seed, ws, discs[0], next(r for r in found if r is not discs[0])))
            if len(picked) == want:
                break
    return picked


def target_for(handle, side, seed):
    rng = np.random.default_rng([seed, 16])
    while True:
        angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(4, 8)
        target = handle + length * np.array([np.cos(angle), np.sin(angle)])
        if (target >= 0).all() and (target <= side - 1).all():
            return target


def nearest_in_colour(found, colour):
    return min(found, key=lambda r: np.linalg.norm(r.colour - colour)) if found else None


def grown(pixels):
    padded = np.pad(pixels, 1)
    return pixels | padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]


def pooled(images):
    n, side = len(images), images.shape[1]
    return images.reshape(n, 8, side // 8, 8, side // 8, images.shape[-1]).mean(axis=(2, 4)).reshape(n, -1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a stylegan2_shapes run directory")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--steps", type=int, default=200, help="the step limit of each drag")
    parser.add_argument("--r1", type=float, help="motion supervision's radius (default: the reference's, scaled)")
    parser.add_argument("--r2", type=float, help="tracking's radius (default: the reference's, scaled)")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam's learning rate on W+ (default 2e-3)")
    parser.add_argument("--layers", type=int, default=6, help="W+ entries optimized (default 6)")
    parser.add_argument("--block", type=int, help="the synthesis block whose features are F (default: the session's)")
    args = parser.parse_args()
    from tfgan import metrics
    from tfgan.data import shapes
    from tfgan.drag.session import DragSession
    from tfgan.export import run

    generator, step, _ = run.load_generator(args.run)
    discriminator = run.load_discriminator(args.run, generator)
    side = generator.sample_shape[0]
    picked = pick(generator, args.seeds)
    print(f"{args.run} at step {step:,}: {len(picked)} seeds with one disc and one other region "
          f"(searched up to seed {picked[-1][0]})", flush=True)
    rows = {"no mask": [], "square held": []}
    for seed, ws, disc, square in picked:
        handle = np.round(disc.centre - 0.5)  # Region centres are pixel centres + 0.5; handles are pixels
        target = target_for(handle, side, seed)
        for name, mask in (("no mask", None), ("square held", 1.0 - grown(square.pixels))):
            session = DragSession(generator, ws, [handle], [target], discriminator=discriminator, mask=mask, r1=args.r1, r2=args.r2,
                                  learning_rate=args.lr, layers=args.layers, feature_block=args.block)
            begun = time.perf_counter()
            first = session.step()
            last = first if first.done else session.run(args.steps)
            seconds = time.perf_counter() - begun
            found = shapes.regions(last.image)
            moved_disc, moved_square = nearest_in_colour(found, disc.colour), nearest_in_colour(found, square.colour)
            after = np.inf if moved_disc is None else np.linalg.norm(moved_disc.centre - 0.5 - target)
            # Where tracking put the handle against where the disc is: tracking's own error.
            drift = np.inf if moved_disc is None else np.linalg.norm(last.handles[0] - (moved_disc.centre - 0.5))
            square_moved = np.inf if moved_square is None or moved_square is moved_disc else np.linalg.norm(moved_square.centre - square.centre)
            rows[name].append(dict(before=np.linalg.norm(handle - target), after=after, arrived=last.done, drift=drift, steps=last.steps, seconds=seconds,
                                   per_step=seconds / max(last.steps + 1, 1), square=square_moved, d_before=first.score,
                                   d_after=last.score, image=last.image, start=first.image))
    unedited = pooled(np.stack([r["start"] for r in rows["no mask"]]))
    print("\n| drags | MD before (px) | MD after (px) | within 1 px | within 1.5 px | arrived by tracking | tracked handle to disc, median (px) | median steps | ms per step | square moved, median (px) | D's score before → after | Fréchet distance from unedited (8×8 pixels) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, drags in rows.items():
        after = np.array([d["after"] for d in drags])
        finite = np.isfinite(after)
        edited = pooled(np.stack([d["image"] for d in drags]))
        fd = metrics.frechet_distance(metrics.GaussianStats.of(unedited), metrics.GaussianStats.of(edited))
        print(f"| {name} ({len(drags)}) | {np.mean([d['before'] for d in drags]):.2f} | {after[finite].mean():.2f} "
              f"({(~finite).sum()} lost) | {np.mean(after <= 1.0):.0%} | {np.mean(after <= 1.5):.0%} | "
              f"{np.mean([d['arrived'] for d in drags]):.0%} | {np.median([d['drift'] for d in drags]):.2f} | "
              f"{np.median([d['steps'] for d in drags]):.0f} | {1000 * np.median([d['per_step'] for d in drags]):.0f} | "
              f"{np.median([d['square'] for d in drags]):.2f} | {np.mean([d['d_before'] for d in drags]):.2f} → "
              f"{np.mean([d['d_after'] for d in drags]):.2f} | {fd:.3f} |")
    before, after_paper, paper_side = PAPER_MD
    print(f"\nDragGAN's face landmarks (paper): MD {before} -> {after_paper} px at {paper_side} px, "
          f"{before / paper_side:.2%} -> {after_paper / paper_side:.2%} of the side; here the side is {side} px")


if __name__ == "__main__":
    main()
