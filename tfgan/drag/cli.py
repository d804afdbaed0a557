"""python -m tfgan.drag --run RUN (--seed S | --latent latent.npz) --points X,Y:X,Y [--points ...]
       [--mask movable.png] [--steps 300] [--psi 0.7] [--label K] --out edited.png [--json result.json]
python -m tfgan.drag serve --run RUN [--host 127.0.0.1] [--port 7860]: the page (`tfgan.drag.app`)

Drags each handle (the first x,y of a --points) to its target (the second) in an
image of a `stylegan2` run's generator (its EMA where the run kept one): the image
of --seed (the z of `tfgan.generate --seed S --num 1`, truncated by --psi toward
w_avg, or toward the class centre of --label), or a W+ latent saved before (by
this command or `tfgan.invert`). Points are x,y pixels of the image as generated.
--mask is a PNG of the image's size, white where the image may change; the rest
is held to its starting features.

Writes the edited image (--out), its W+ latent beside it (`edited.npz`, which
`tfgan.generate --latent` renders from the run's export and which --latent takes
back), and with --json the handles before and after, the targets, the steps and
seconds, and the run's D score before and after.

Exit codes: 0 written; 2 a user error (a point off the image, a mask of another
size, a run that is not stylegan2, ...) in one line; 3 the edit diverged.
"""

import argparse
import json
import sys
import time

import numpy as np

from tfgan import atomic, cli, stylemix
from tfgan.errors import Diverged, UserError

OUTPUT = ".png"


def parse_points(text):
    """'10,12:16,12' -> ((10, 12), (16, 12)): a handle and its target, x,y pixels."""
    coordinates = text.replace(":", ",").split(",")
    try:
        values = [float(c) for c in coordinates]
    except ValueError:
        values = []
    if ":" not in text or text.count(":") != 1 or len(values) != 4:
        raise UserError(f"--points {text}: expected a handle and its target as x,y:x,y pixels, like 10,12:16,12")
    return tuple(values[:2]), tuple(values[2:])


def read_mask(path, side):
    """[side, side] float32, 1 where the image may change (white in the PNG)."""
    from PIL import Image, UnidentifiedImageError

    try:
        pixels = np.asarray(Image.open(path).convert("L"), np.float32)
    except (OSError, UnidentifiedImageError):
        raise UserError(f"--mask {path} is not a readable image; expected a PNG, white where the image may change") from None
    if pixels.shape != (side, side):
        raise UserError(f"--mask {path} is {pixels.shape[1]}x{pixels.shape[0]}; expected the image's size, {side}x{side}")
    return (pixels > 127).astype(np.float32)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve"]:
        return serve_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m tfgan.drag", description="Drag points of a StyleGAN2 image (DragGAN).")
    parser.add_argument("--run", required=True, help="a stylegan2 run directory (python -m tfgan.fit's run_dir)")
    start = parser.add_mutually_exclusive_group(required=True)
    start.add_argument("--seed", type=int, help="start from this seed's image (tfgan.generate --seed S --num 1)")
    start.add_argument("--latent", help="start from this W+ latent (.npz from tfgan.drag or tfgan.invert)")
    parser.add_argument("--points", action="append", required=True, metavar="X,Y:X,Y", help="a handle and its target; repeat for more")
    parser.add_argument("--mask", help="PNG of the image's size, white where the image may change")
    parser.add_argument("--steps", type=int, default=300, help="at most this many optimization steps (default 300)")
    parser.add_argument("--psi", type=float, default=0.7, help="with --seed: truncation psi (default 0.7, the reference's)")
    parser.add_argument("--label", type=int, help="conditional runs, with --seed: the class")
    parser.add_argument("--out", required=True, help="the edited image, a .png; its latent goes beside it as .npz")
    parser.add_argument("--json", help="write the handles, targets, steps, seconds and D's scores here")
    args = parser.parse_args(argv)
    return cli.run("tfgan.drag", _drag, args)


def serve_main(argv):
    parser = argparse.ArgumentParser(prog="python -m tfgan.drag serve", description="Serve the DragGAN page for a stylegan2 run.")
    parser.add_argument("--run", required=True, help="a stylegan2 run directory")
    parser.add_argument("--host", default="127.0.0.1", help="the address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="default 7860")
    parser.add_argument("--steps", type=int, default=300, help="at most this many steps a drag (default 300)")
    parser.add_argument("--invert-steps", type=int, default=500, help="projector steps for an uploaded image (default 500)")
    args = parser.parse_args(argv)
    return cli.run("tfgan.drag", _serve, args)


def _serve(args):
    import importlib.util

    if not all(importlib.util.find_spec(name) for name in ("fastapi", "uvicorn", "multipart")):
        raise UserError('the page needs the app extra: pip install -e ".[app]"')
    cli.setup("tfgan.drag")
    from tfgan.drag import app

    app.serve(args.run, args.host, args.port, args.steps, args.invert_steps)


def _drag(args):
    if not args.out.endswith(OUTPUT):
        raise UserError(f"--out {args.out}: expected a .png")
    if args.steps < 0:
        raise UserError(f"--steps must be 0 or more, got {args.steps}")
    latent_path = args.out[: -len(OUTPUT)] + ".npz"
    for path in (args.out, latent_path, args.json):
        if path:
            atomic.check_destination(path)
    points = [parse_points(text) for text in args.points]
    cli.setup("tfgan.drag")
    from tfgan.drag.session import DragSession, seed_ws
    from tfgan.export import run

    generator, step = run.load_stylegan2(args.run)
    label = run.check_label(generator, args.label, required=False)  # a latent file may hold it
    if args.latent:
        ws, stored_label, noise = stylemix.read_latent(args.latent, generator.num_ws, generator.w_dim)
        label = stored_label if label is None else label
        if noise and [m.shape for m in noise] != [tuple(m.shape) for m in generator.noise_maps()]:
            raise UserError(f"--latent {args.latent} holds noise maps of another generator; this run's are {len(generator.noise_maps())}")
    else:
        ws, noise = seed_ws(generator, args.seed, args.psi, label), None
    run.check_label(generator, label)
    mask = read_mask(args.mask, generator.sample_shape[0]) if args.mask else None
    discriminator = run.load_discriminator(args.run, generator)
    try:
        session = DragSession(generator, ws, [p for p, _ in points], [t for _, t in points], discriminator=discriminator,
                              label=label, mask=mask, noise=noise)
    except ValueError as e:
        raise UserError(f"--points: {e}") from None
    begun = time.perf_counter()
    first = session.step(update=args.steps > 0)
    last = first if first.done or args.steps == 0 else session.run(args.steps)
    seconds = time.perf_counter() - begun
    edited = session.ws.numpy()
    if not (np.isfinite(edited).all() and np.isfinite(last.image).all()):
        raise Diverged("the edit diverged (its latent or image is not finite); nothing was written")
    from tfgan import visualize

    visualize.write_png(args.out, visualize.to_uint8(last.image))
    stylemix.write_latent(latent_path, edited, label, noise)
    result = {
        "run": args.run, "checkpoint_step": step, "start": {"seed": args.seed, "psi": args.psi} if args.latent is None else {"latent": args.latent},
        "targets": session.targets.tolist(), "handles_start": first.handles.tolist(), "handles_final": last.handles.tolist(),
        "distances_final": [round(float(d), 3) for d in last.distances], "arrived": last.done, "steps": last.steps,
        "seconds": round(seconds, 3), "d_score_before": first.score, "d_score_after": last.score, "latent": latent_path,
    }
    if args.json:
        atomic.write_text(args.json, json.dumps(result, indent=2) + "\n")
    moved = ", ".join(f"({h[0]:g}, {h[1]:g})" for h in last.handles)
    print(f"tfgan.drag: {last.steps} steps in {seconds:.1f} s, handles now at {moved}"
          f"{' (arrived)' if last.done else ''}; wrote {args.out} and {latent_path}")


if __name__ == "__main__":
    sys.exit(main())
