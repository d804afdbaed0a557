"""Streamed folder images against the same images in memory.

    python benchmarks/streaming.py [--images 1024] [--size 256] [--batches 60]

Writes `--images` PNG files of `--size` x `--size` (real MNIST digits, enlarged and
tinted, so that they compress like photographs rather than noise; random images
where ../shared/data/mnist-t10k is missing) into a temporary folder, then counts
the examples per second that `Examples.dataset` hands over, batch 32, for:
- the folder read into memory (what `data.load` does when it fits `data.cache_mb`);
- the folder streamed (`data.cache_mb: 0`): every batch's files read, decoded
  and resized in parallel map calls;
- both at a progressive-growing phase of 1/8 the size (images averaged down),
  streamed, and from the phase's cache (decoded once: its time is printed).
All in one process, one after another; ratios are to the in-memory rate.
"""

import argparse
import os
import tempfile
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MNIST = os.path.join(ROOT, "..", "shared", "data", "mnist-t10k", "t10k-images-idx3-ubyte.gz")
BATCH = 32


def write_images(folder, num, size):
    from PIL import Image

    rng = np.random.default_rng(0)
    if os.path.exists(MNIST):
        from tfgan.data import files

        digits = files.read_idx(MNIST)[:num]
    else:
        digits = rng.integers(0, 256, (num, 28, 28), dtype=np.uint8)
    for i, digit in enumerate(digits):
        tint = rng.uniform(0.3, 1.0, 3)
        image = Image.fromarray(digit).resize((size, size), Image.BILINEAR)
        rgb = (np.asarray(image, np.float32)[..., None] * tint).astype(np.uint8)
        Image.fromarray(rgb).save(os.path.join(folder, f"{i:05d}.png"))


def rate(examples, batches, resolution=None):
    from pipeline import examples_per_second  # benchmarks/ is on sys.path when this script runs

    return examples_per_second(examples.dataset(BATCH, seed=0, resolution=resolution), batches, BATCH, warmup=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batches", type=int, default=60)
    args = parser.parse_args()
    from tfgan import config as config_lib
    from tfgan import data

    small = args.size // 8
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        write_images(folder, args.images, args.size)
        print(f"wrote {args.images} PNGs of {args.size}x{args.size} in {time.perf_counter() - start:.0f} s", flush=True)

        def load(cache_mb):
            return data.load(config_lib.from_dict({"data": {"source": "folder", "path": folder, "resolution": args.size,
                                                            "cache_mb": cache_mb}}).data, False, 0)

        start = time.perf_counter()
        memory = load(4096)
        read_seconds = time.perf_counter() - start
        streamed = load(0)
        rows = [(f"{args.size}x{args.size} in memory (read once: {read_seconds:.1f} s)", rate(memory, args.batches))]
        rows.append((f"{args.size}x{args.size} streamed", rate(streamed, args.batches)))
        rows.append((f"{small}x{small} phase, in memory", rate(memory, args.batches, small)))
        rows.append((f"{small}x{small} phase, streamed", rate(streamed, args.batches, small)))
        streamed.cache_bytes = 2**40  # the phase fits: decoded once
        start = time.perf_counter()
        next(iter(streamed.dataset(BATCH, seed=0, resolution=small)))
        cache_seconds = time.perf_counter() - start
        rows.append((f"{small}x{small} phase, cached for the phase (decoded once: {cache_seconds:.1f} s)", rate(streamed, args.batches, small)))
    base = rows[0][1]
    print(f"\n| pipeline ({args.images} images, batch {BATCH}) | images/s | / in memory |\n|---|---|---|")
    for label, value in rows:
        print(f"| {label} | {value:,.0f} | {value / base:.2f}× |")


if __name__ == "__main__":
    main()
