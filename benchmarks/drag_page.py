"""The README's screenshot of the DragGAN page: python benchmarks/drag_page.py --run RUN [--seed 3]
[--points 10,12:16,12] [--out docs/drag_page.png]

Serves the page for a trained stylegan2 run and drives it in headless Chromium with the
browser test's machinery (tests/page_driver.py): a new sample, one handle and its
target, Start, and a screenshot once the drag has ended.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from page_driver import browser_page, drag, new_sample, served, shown_handles  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--points", default="10,12:16,12")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "docs", "drag_page.png"))
    args = parser.parse_args()
    from tfgan.drag.app import Editor
    from tfgan.drag.cli import parse_points
    from tfgan.export import run

    handle, target = parse_points(args.points)
    generator, step = run.load_stylegan2(args.run)
    editor = Editor(generator, run.load_discriminator(args.run, generator), max_steps=args.steps)
    with served(editor) as url, browser_page(url) as page:
        new_sample(page, args.seed)
        drag(page, tuple(int(v) for v in handle), tuple(int(v) for v in target))
        page.screenshot(path=args.out, full_page=True)
        print(f"{args.run} at step {step}: handle {handle} -> {shown_handles(page)[0]}, target {target}; "
              f"{page.text_content('#status')}; wrote {args.out}")


if __name__ == "__main__":
    main()
