"""VQGAN's stage 2: sampling speed of the transformer prior with and without the key/value cache.

    python benchmarks/prior_sampling.py [--repeats 3] [--batch 64]

Samples code grids with `VQGANSampler.sample_tokens` (the graph's while loop, in a
`tf.function`, as an export runs it) for configs/vqgan_prior_mnist.yaml's transformer
(4 blocks, 4 heads, width 128) over vqgan_mnist's 8x8 grid of 512 codes: cached (one
position a pass, earlier keys and values kept) and uncached (the whole sequence every
pass, position t read). The weights are random here: the work per token does not depend
on them (benchmarks/quality.py --only vqgan measures a trained prior the same way). Prints
grids per second for each, their ratio per repeat (min / median / max, each taken within
one repeat, the runs interleaved), and checks both give the same tokens.
"""

import argparse
import time

import numpy as np


def speed(sampler, batch, repeats, **sampling):
    """The measurement's lines for `sampler` (a VQGANSampler), at `sampling` (temperature, top_k,
    top_p; the sampler's own where not given)."""
    import tensorflow as tf

    z = tf.random.stateless_normal([batch, sampler.latent_dim], seed=[0, 1])
    labels = tf.range(batch) % max(sampler.num_classes, 1)
    runs = {name: tf.function(lambda z, labels, cached=cached: sampler.sample_tokens(z, labels, cached=cached, **sampling))
            for name, cached in (("cached", True), ("uncached", False))}
    tokens = {name: run(z, labels).numpy() for name, run in runs.items()}  # traced, and warm
    same = np.mean(tokens["cached"] == tokens["uncached"])
    rates = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run(z, labels).numpy()
            rates[name].append(batch / (time.perf_counter() - start))
    ratios = sorted(c / u for c, u in zip(rates["cached"], rates["uncached"]))
    lines = [f"{name:9s} {np.median(values):8.1f} grids/s (batch {batch}, {sampler.latent_dim} tokens each; median of {repeats})"
             for name, values in rates.items()]
    lines.append(f"cached / uncached: {ratios[0]:.2f} / {ratios[len(ratios) // 2]:.2f} / {ratios[-1]:.2f} (min / median / max); "
                 f"same tokens: {100 * same:.2f}%")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    import keras

    from tfgan.networks.transformer import GPT
    from tfgan.networks.vqgan import VQAutoencoder
    from tfgan.networks.vqgan_prior import VQGANSampler

    keras.utils.set_random_seed(0)
    autoencoder = VQAutoencoder((32, 32, 1), channels=32, channel_mult=(1, 2, 2), num_codes=512, code_dim=64)
    print(speed(VQGANSampler(GPT(512, 64, 10, num_layers=4, heads=4, dim=128), autoencoder), args.batch, args.repeats))


if __name__ == "__main__":
    main()
