"""DragGAN on MNIST, with the command-line tools: a stroke's end dragged on a generated
digit, and on a real one inverted first.

    python examples/drag_mnist.py --run RUN [--seed 5 --points 16,7:22,7]
        [--real-index 0 --real-points 16,7:22,7] [--steps 300] [--out docs/drag_mnist.png]

RUN is a stylegan2_mnist run (32x32). Runs `tfgan.drag` (and `tfgan.invert` on test
digit --real-index of ../shared/data/mnist-t10k) in a scratch directory, and draws
one row of the figure per digit: before, after (handles red, targets blue), 4x.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST = os.path.join(ROOT, "..", "shared", "data", "mnist-t10k", "t10k-images-idx3-ubyte.gz")
ZOOM = 4


def tool(module, *args):
    result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode:
        sys.exit(f"{module} failed: {result.stderr.strip()}")
    print(result.stdout.strip().splitlines()[-1])


def drag(run, start, points, steps, scratch, name):
    """(before, after, result): the image before (0 steps) and after the drag."""
    before, after, report = (os.path.join(scratch, f"{name}{part}") for part in ("_before.png", ".png", ".json"))
    tool("tfgan.drag", "--run", run, *start, "--points", points, "--steps", "0", "--out", before)
    tool("tfgan.drag", "--run", run, *start, "--points", points, "--steps", str(steps), "--out", after, "--json", report)
    with open(report) as f:
        return Image.open(before), Image.open(after), json.load(f)


def marked(image, handles, targets):
    image = image.convert("RGB").resize((image.width * ZOOM, image.height * ZOOM), Image.NEAREST)
    pen = ImageDraw.Draw(image)
    for (hx, hy), (tx, ty) in zip(handles, targets):
        h, t = [((x + 0.5) * ZOOM, (y + 0.5) * ZOOM) for x, y in ((hx, hy), (tx, ty))]
        pen.line([h, t], fill="white", width=1)
        for (x, y), colour in ((h, "red"), (t, "dodgerblue")):
            pen.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
    return image


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--points", default="16,7:22,7")
    parser.add_argument("--real-index", type=int, default=0)
    parser.add_argument("--real-points", default="16,7:22,7")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "drag_mnist.png"))
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    from tfgan.data.files import read_idx

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        rows.append(drag(args.run, ["--seed", str(args.seed)], args.points, args.steps, scratch, "generated"))
        digit = os.path.join(scratch, "digit.png")
        Image.fromarray(read_idx(MNIST)[args.real_index]).save(digit)  # 28x28: padded to 32 as training padded it
        latent = os.path.join(scratch, "digit.npz")
        tool("tfgan.invert", "--run", args.run, "--image", digit, "--out", latent)
        rows.append(drag(args.run, ["--latent", latent], args.real_points, args.steps, scratch, "real"))
        side = rows[0][0].width * ZOOM
        figure = Image.new("RGB", (2 * side + 8, len(rows) * side + 8 * (len(rows) - 1)), "white")
        for i, (before, after, result) in enumerate(rows):
            figure.paste(marked(before, result["handles_start"], result["targets"]), (0, i * (side + 8)))
            figure.paste(marked(after, result["handles_final"], result["targets"]), (side + 8, i * (side + 8)))
            print(f"row {i}: {result['steps']} steps, {result['seconds']} s, handles {result['handles_start']} -> "
                  f"{result['handles_final']}, targets {result['targets']}, D {result['d_score_before']:.2f} -> {result['d_score_after']:.2f}")
        figure.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
