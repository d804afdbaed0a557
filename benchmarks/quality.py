"""Sample quality of the shipped configs: python benchmarks/quality.py [--only ring,grid,mnist,baseline,pggan,stylegan2,stylegan2_cond,shapes,vqgan] [--seeds N] [--first-seed K]

- ring and grid (the PacGAN protocol): train the shipped config on each seed,
  draw 2,500 samples, and report modes captured, % high-quality samples (within
  3 std of the nearest centre) and the reverse KL of the mode histogram, as
  mean ± standard error over the seeds, with the wall time per run.
- mnist: on the real MNIST test split (10,000 images, ../shared/data/mnist-t10k
  or --mnist-dir), trains tfgan's classifier (python -m tfgan.evaluate
  train-classifier: 80% to train, 20% held out for its accuracy), then
  dcgan_mnist (non-saturating loss), the same with the minimax loss, and
  cgan_mnist. For each: Fréchet distance and KID in the classifier's feature
  space between 5,000 samples and the 5,000 real images (a random
  half), next to the floor (the other half against the same), precision/recall,
  confident digits (the classifier's top class > 0.9), classes covered, and
  for the cGAN the requested-class accuracy. The two
  DCGAN runs log the Fréchet distance every 500 steps (the `eval:` block), which
  shows how each loss starts. Sample grids go to benchmarks/results/.
- baseline (seeds 0-2 unless --seeds / --first-seed, so a long run can be
  split into one call per seed; seed 0 also draws the curve and the sample
  grids): dcgan_mnist and gan_mnist (--baseline-configs) against the
  keras.io-style DCGAN of ../shared/bench/ref_keras_mnist.py trained for the
  same wall time, scored the same way, with the ratio of the Fréchet distances
  and the Fréchet distance against CPU time of both (benchmarks/baseline.py).
- pggan: pggan_mnist on the same split, scored the same way (its 32x32 samples
  centre-cropped to 28x28) at the end of every fade-in and stabilisation, and
  dcgan_mnist scored at its last checkpoint within the same wall time; writes
  the growth picture (one sample row per resolution) to benchmarks/results/.
- stylegan2: stylegan2_mnist (32x32, its samples centre-cropped to the
  classifier's 28x28) and dcgan_mnist, trained one after the other in this
  process and scored the same way, with their ms per step; then stylegan2_mnist
  at truncation psi 1.0, 0.7 and 0.5 (Fréchet distance, precision, recall), its
  perceptual path length (in W, endpoints, epsilon 1e-4, the classifier's
  features), its run exported and drawn by `tfgan.generate --style-mix` (the
  figure goes to benchmarks/results/). `--stylegan2-run DIR` scores a run of
  stylegan2_mnist trained apart (its last checkpoint) instead of training one.
- stylegan2_cond: stylegan2_mnist_cond (20,000 steps, about 3 hours on 2
  cores), scored the same way for its requested-class accuracy, at psi 1 and
  at psi 0.9 toward each class's centre (the truncation it is sampled with).
  `--stylegan2-cond-run DIR` scores a run trained apart instead.
- shapes: stylegan2_shapes as shipped, with its wall time and the share of
  1,000 samples that tfgan.data.shapes.find calls clean (one plain disc, one
  plain square, a plain background) and what they get right in part
  (Found.parts); writes 64 samples (its EMA generator,
  fixed z) beside 64 real images to benchmarks/results/.
- vqgan: vqgan_mnist (stage 1) then vqgan_prior_mnist over its codes, about 75
  minutes on 2 cores, or runs trained apart (--vqgan-run, --vqgan-prior-run):
  reconstructions, the prior's samples at its own sampling and at each
  --vqgan-sampling setting, its sampling speed with and without the key/value
  cache, and guidance's success over 100 starts (benchmarks/vqgan.py); the
  figures go to docs/.

Runs go under benchmarks/results/ (git-ignored). Prints Markdown tables.
"""

import argparse
import functools
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import baseline  # noqa: E402
import mnist_protocol as protocol  # noqa: E402
import vqgan  # noqa: E402
from tfgan import config as config_lib  # noqa: E402

NUM_SAMPLES = 2500
COND_PSI = 0.9  # the conditional config's truncation: 98.1% requested-class accuracy at 20,000 steps, FD 1.63


def train(config_name, overrides):
    from tfgan import training

    config = config_lib.load(os.path.join(ROOT, "configs", f"{config_name}.yaml"), overrides)
    if os.path.exists(config.run_dir):
        import shutil

        shutil.rmtree(config.run_dir)
    start = time.perf_counter()
    gan = training.train(config)
    return gan, config, time.perf_counter() - start


def mixture(name, seeds, extra):
    from tfgan.data import mixtures
    from tfgan.metrics import mode_report

    rows = []
    for seed in seeds:
        run_dir = os.path.join(HERE, "results", f"{name}_seed{seed}")
        gan, config, seconds = train(name, [f"seed={seed}", f"run_dir={run_dir}", "log.verbose=0", *extra])
        samples = gan.generate(NUM_SAMPLES, seed=1000 + seed).numpy()
        report = mode_report(samples, mixtures.centres(name), mixtures.std(name))
        print(f"{name} seed {seed}: {report} ({seconds:.0f} s, {config.train.steps} steps)", flush=True)
        rows.append((report, seconds))
    modes = [r.modes_captured for r, _ in rows]
    quality = [100 * r.high_quality for r, _ in rows]
    kl = [r.reverse_kl for r, _ in rows]
    seconds = [s for _, s in rows]
    return (
        f"| {name} | {len(seeds)} | {_mean_se(modes, 2)} (min {min(modes)}) / {rows[0][0].num_modes} "
        f"| {_mean_se(quality, 1)} (min {min(quality):.1f}) | {_mean_se(kl, 3)} (max {max(kl):.3f}) "
        f"| {min(seconds):.0f}–{max(seconds):.0f} s |"
    )


def _mean_se(values, digits):
    values = np.asarray(values, float)
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{values.mean():.{digits}f} ± {se:.{digits}f}"


# --- MNIST: the classifier's feature space (benchmarks/mnist_protocol.py) ---


def mnist(setup, extra):
    from tfgan.evaluate import report

    data_overrides, path, extractor, reference, accuracy = (setup[k] for k in ("data_overrides", "path", "extractor", "reference", "accuracy"))
    rows = [setup["floor"]]
    curves = {}
    eval_block = ["eval.every=500", "eval.metrics=[frechet_distance]", f"eval.features=classifier:{path}", "eval.samples=2000",
                  f"eval.cache={os.path.join(HERE, 'results', 'cache')}"]
    for label, name, loss in (("dcgan_mnist", "dcgan_mnist", "non_saturating"), ("dcgan_mnist, minimax loss", "dcgan_mnist", "minimax"),
                              ("cgan_mnist", "cgan_mnist", None)):
        tag = label.replace(", minimax loss", "_minimax")
        overrides = [*data_overrides, f"run_dir={os.path.join(HERE, 'results', f'{tag}_t10k')}", "log.verbose=0", *extra]
        if loss:
            overrides += [f"loss.name={loss}", *eval_block]
        gan, config, seconds = train(name, overrides)
        samples, requested = report.draw(gan.sampler, protocol.MNIST_SAMPLES, seed=11)
        fake, probabilities = extractor.extract(samples)
        rows.append(protocol.feature_row(f"`{label}` ({config.train.steps} steps, {seconds:.0f} s)", fake, probabilities, reference, requested, accuracy))
        protocol.write_grid(gan, os.path.join(HERE, "results", f"{tag}_samples.png"))
        if loss:
            curves[label] = protocol.eval_curve(config.run_dir)
        print(rows[-1], flush=True)
    table = [protocol.HEADER, *rows]
    steps = sorted(next(iter(curves.values())))
    curve = ["| Fréchet distance at step | " + " | ".join(str(s) for s in steps) + " |", "|---" * (len(steps) + 1) + "|"]
    curve += [f"| {label} | " + " | ".join(f"{values[s]:.1f}" for s in steps) + " |" for label, values in curves.items()]
    return "\n".join(table) + "\n\n" + "\n".join(curve)


DCGAN_STEPS = 30_000  # enough to outlast pggan_mnist's run on the 2-core machine
PAD = 2  # pggan_mnist pads MNIST's 28x28 to 32x32 (data.pad); its samples are cropped back


def pggan(setup, extra):
    """pggan_mnist: the FD at the end of every phase, and dcgan_mnist's at the same wall time.

    Both runs keep a checkpoint at each point scored, so scoring costs neither
    run time. Samples of the smaller phases are upsampled to 32x32 (nearest),
    and every sample is centre-cropped to the classifier's 28x28. The elapsed
    time of a checkpoint is its file's time since its run started.
    """
    from tfgan import visualize

    runs = os.path.join(HERE, "results")
    start = time.time()
    _, config, seconds = train("pggan_mnist", [*setup["data_overrides"], f"run_dir={os.path.join(runs, 'pggan_mnist_t10k')}",
                                               "log.verbose=0", "checkpoint.keep=20", *extra])
    rows, growth = [], []
    for phase in config.schedule.phases:
        for step, part in ((phase.start + phase.fade_steps, "fade-in"), (phase.end, "stable")):
            if step == phase.start:
                continue  # the first phase does not fade in
            generator, elapsed = protocol.checkpoint(config.run_dir, step, start)
            samples = _cropped(generator, seed=11)
            fake, probabilities = setup["extractor"].extract(samples)
            label = f"`pggan_mnist` {phase.resolution}x{phase.resolution} {part} (step {step:,}, {elapsed:.0f} s)"
            rows.append(protocol.feature_row(label, fake, probabilities, setup["reference"], None, None))
            print(rows[-1], flush=True)
            if part == "stable":
                row = generator(protocol.latents(generator, 10, seed=7), training=False).numpy()
                growth.append(np.clip(visualize.upscale(row, 32 // row.shape[1]), -1.0, 1.0))
    visualize.write_png(os.path.join(runs, "pggan_mnist_growth.png"), visualize.image_grid(np.concatenate(growth), rows=len(growth)))
    # dcgan_mnist trained for longer, scored at its last checkpoint written within pggan_mnist's time.
    start = time.time()
    _, dcgan, _ = train("dcgan_mnist", [*setup["data_overrides"], f"run_dir={os.path.join(runs, 'dcgan_mnist_long_t10k')}", "log.verbose=0",
                                         f"train.steps={DCGAN_STEPS}", "checkpoint.every=1000", "checkpoint.keep=100", *extra])
    step = max(s for s in range(1000, DCGAN_STEPS + 1, 1000) if protocol.elapsed(dcgan.run_dir, s, start) <= seconds or s == 1000)
    generator, elapsed = protocol.checkpoint(dcgan.run_dir, step, start)
    fake, probabilities = setup["extractor"].extract(_cropped(generator, seed=11, pad=0))
    rows.append(protocol.feature_row(f"`dcgan_mnist` at the same time (step {step:,}, {elapsed:.0f} s)", fake, probabilities,
                             setup["reference"], None, None))
    table = [protocol.HEADER, setup["floor"], *rows]
    return "\n".join(table) + f"\n\npggan_mnist: {config.train.steps:,} steps in {seconds:.0f} s; growth picture: benchmarks/results/pggan_mnist_growth.png"


def _scored_row(setup, label, generator, pad, psi=1.0):
    """The table row of 5,000 samples of `generator` (truncated by `psi`), `pad` pixels cropped off
    (32x32 back to 28x28); printed too."""
    from tfgan.evaluate import report

    samples, requested = report.draw(generator, protocol.MNIST_SAMPLES, seed=11, psi=psi)
    fake, probabilities = setup["extractor"].extract(protocol.crop(samples, pad))
    row = protocol.feature_row(label, fake, probabilities, setup["reference"], requested, setup["accuracy"])
    print(row, flush=True)
    return row


def _scored_run(setup, name, extra):
    """Trains config `name` on the split and scores 5,000 samples: (gan, config, its table row)."""
    gan, config, seconds = train(name, [*setup["data_overrides"], f"run_dir={os.path.join(HERE, 'results', f'{name}_t10k')}", "log.verbose=0", *extra])
    row = _scored_row(setup, f"`{name}` ({config.train.steps} steps, {seconds:.0f} s)", gan.sampler, config.data.pad)
    protocol.write_grid(gan, os.path.join(HERE, "results", f"{name}_samples.png"))
    return gan, config, row


def _trained_or_loaded(setup, name, extra, run_dir=None):
    """(generator, config, table row): config `name` trained here, or the run `run_dir` trained
    apart (its latest checkpoint, the EMA of G: a run of hours can be trained, or resumed, apart
    and scored here)."""
    if not run_dir:
        gan, config, row = _scored_run(setup, name, extra)
        return gan.sampler, config, row
    from tfgan.export import run

    generator, step, _ = run.load_generator(run_dir)
    config = config_lib.load(os.path.join(run_dir, "config.yaml"))
    return generator, config, _scored_row(setup, f"`{name}` ({run_dir} at step {step:,})", generator, config.data.pad)


def stylegan2(setup, extra, run_dir=None):
    """stylegan2_mnist trained here, or the run `run_dir` already trained."""
    from tfgan import export, generate, latent, metrics
    from tfgan.evaluate import report

    runs = os.path.join(HERE, "results")
    generator, config, row = _trained_or_loaded(setup, "stylegan2_mnist", extra, run_dir)
    pad, truncation = config.data.pad, []
    z = latent.normal_tf(protocol.MNIST_SAMPLES, generator.latent_dim, 11)
    for psi in (1.0, 0.7, 0.5):
        images = np.concatenate([generator(z[i : i + 500], training=False, psi=psi).numpy() for i in range(0, protocol.MNIST_SAMPLES, 500)])
        fake, _ = setup["extractor"].extract(protocol.crop(images, pad))
        fd = metrics.frechet_distance(metrics.GaussianStats.of(setup["reference"]), metrics.GaussianStats.of(fake))
        precision, recall = metrics.precision_recall(setup["reference"], fake)
        truncation.append(f"| {psi} | {fd:.2f} | {precision:.3f} | {recall:.3f} |")
        print(truncation[-1], flush=True)
    start, end = report.path_pairs(generator, protocol.MNIST_SAMPLES, seed=13)
    ppl = metrics.perceptual_path_length(*(setup["extractor"].extract(protocol.crop(x, pad))[0] for x in (start, end)), report.PPL_EPSILON)
    path = export.export_run(run_dir or config.run_dir, "stylegan2_mnist", os.path.join(runs, "exports"), "saved_model,onnx", force=True, version=1)
    figure = os.path.join(runs, "stylegan2_mnist_style_mixing.png")
    assert generate.main(["--model", os.path.join(path, "model.onnx"), "--style-mix", "1,2,3,4,5,6", "7,8,9,10,11,12,13,14", "--layers", "0-1",
                          "--out", figure]) == 0
    table = [protocol.HEADER, setup["floor"], row]
    truncation = "\n".join(["| psi | Fréchet distance | precision | recall |", "|---|---|---|---|", *truncation])
    ppl = f"PPL (W, endpoints, epsilon 1e-4, classifier features): {ppl:.1f}"
    if run_dir:
        return "\n".join(table) + "\n\n" + truncation + "\n\n" + ppl
    timing = {"stylegan2_mnist": protocol.logged_ms_per_step(config.run_dir)}
    _, dcgan_config, dcgan_row = _scored_run(setup, "dcgan_mnist", extra)
    timing["dcgan_mnist"] = protocol.logged_ms_per_step(dcgan_config.run_dir)
    speed = (f"ms per step (median of the logged rates): {', '.join(f'{k} {v:.0f}' for k, v in timing.items())} (batch 32 for stylegan2, 64 for dcgan); "
             f"per image, stylegan2_mnist / dcgan_mnist = {timing['stylegan2_mnist'] / 32 / (timing['dcgan_mnist'] / 64):.1f}")
    return "\n".join([*table, dcgan_row]) + "\n\n" + truncation + f"\n\n{ppl}\n{speed}"


def stylegan2_cond(setup, extra, run_dir=None):
    """stylegan2_mnist_cond (trained here, or the run `run_dir`) at psi 1, then at COND_PSI toward each class's centre."""
    generator, config, row = _trained_or_loaded(setup, "stylegan2_mnist_cond", extra, run_dir)
    truncated = _scored_row(setup, f"the same, psi {COND_PSI} toward each class's centre", generator, config.data.pad, psi=COND_PSI)
    return "\n".join([protocol.HEADER, setup["floor"], row, truncated])


def shapes(extra):
    from tfgan import data, latent, visualize
    from tfgan.data import shapes as shapes_source

    gan, config, seconds = train("stylegan2_shapes", [f"run_dir={os.path.join(HERE, 'results', 'stylegan2_shapes')}", "log.verbose=0", *extra])
    protocol.write_grid(gan, os.path.join(HERE, "results", "stylegan2_shapes_samples.png"))
    real = data.load(config.data, False, config.seed).samples[:64].astype(np.float32) / 127.5 - 1.0
    visualize.write_png(os.path.join(HERE, "results", "shapes_real.png"), visualize.image_grid(real, rows=8))
    z = latent.normal_tf(1000, gan.latent_dim, 11)
    samples = np.concatenate([gan.sampler(z[i : i + 250], training=False).numpy() for i in range(0, 1000, 250)])
    parts, real_parts = shapes_source.find(samples).parts(), shapes_source.find(real).parts()  # real: the 64 of the picture
    in_part = lambda shares: ", ".join(f"{name.replace('_', ' ')} {share:.2f}" for name, share in shares.items() if name != "clean")  # noqa: E731
    return (f"stylegan2_shapes: {config.train.steps:,} steps in {seconds:.0f} s ({protocol.logged_ms_per_step(config.run_dir):.0f} ms per step); "
            f"clean samples (one plain disc and one plain square, tfgan.data.shapes.find; real images: {100 * real_parts['clean']:.0f}%): "
            f"{100 * parts['clean']:.1f}% of 1,000; in part ({in_part(parts)}; real images: {in_part(real_parts)}); "
            "samples: benchmarks/results/stylegan2_shapes_samples.png, real: benchmarks/results/shapes_real.png")


def _cropped(generator, seed, pad=PAD):
    """MNIST_SAMPLES samples, upsampled to 28 + 2 pad pixels and with `pad` pixels cropped off every side.

    (A checkpoint at a phase's last step loads as the next phase at alpha 0: the
    same images, upsampled.)"""
    from tfgan import visualize
    from tfgan.evaluate import report

    z = protocol.latents(generator, protocol.MNIST_SAMPLES, seed)
    labels = report.requested(generator, protocol.MNIST_SAMPLES)  # a cGAN's classes in turn
    samples = np.concatenate([generator(z[i : i + 500], None if labels is None else labels[i : i + 500], training=False).numpy()
                              for i in range(0, protocol.MNIST_SAMPLES, 500)])
    return protocol.crop(visualize.upscale(samples, (28 + 2 * pad) // samples.shape[1]), pad)


def sampling_settings(text):
    """TEMPERATURE/TOP_K/TOP_P[,...] -> [(float, int, float), ...]"""
    try:
        settings = [(float(t), int(k), float(p)) for t, k, p in (item.split("/") for item in text.split(","))]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected TEMPERATURE/TOP_K/TOP_P[,...] such as 0.9/0/1,1/100/1; got {text!r}") from None
    from tfgan import architectures

    for setting in settings:
        for key in architectures.bad_sampling(*setting):
            raise argparse.ArgumentTypeError(f"{'/'.join(map(str, setting))}: expected {key} {architectures.SAMPLING_EXPECTED[key]}")
    return settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="ring,grid,mnist,baseline,pggan,stylegan2,stylegan2_cond,shapes,vqgan")
    parser.add_argument("--seeds", type=int, help="seeds per config (default: 10 for ring and grid, 3 for baseline)")
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed; splits a long run: --seeds 1 --first-seed 2")
    parser.add_argument("--mnist-dir", default=os.path.join(ROOT, "..", "shared", "data", "mnist-t10k"))
    parser.add_argument("--baseline-configs", default="dcgan_mnist,gan_mnist",
                        help="baseline: the configs set against it (dcgan_mnist always; it sets the wall time)")
    parser.add_argument("--stylegan2-run", help="stylegan2: score this run of stylegan2_mnist (its last checkpoint) instead of training one; "
                        "no dcgan_mnist beside it, no step time")
    parser.add_argument("--stylegan2-cond-run", help="stylegan2_cond: score this run of stylegan2_mnist_cond (its last checkpoint) instead of training one")
    parser.add_argument("--vqgan-run", help="vqgan: score this run of vqgan_mnist (stage 1) instead of training one")
    parser.add_argument("--vqgan-prior-run", help="vqgan: score this run of vqgan_prior_mnist (stage 2) instead of training one")
    parser.add_argument("--vqgan-sampling", type=sampling_settings, default=[],
                        help="vqgan: further sampling settings to score, TEMPERATURE/TOP_K/TOP_P[,...], e.g. 0.9/0/1,1/100/1")
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], help="config overrides for every run")
    args = parser.parse_args()

    def seeds(default):
        return range(args.first_seed, args.first_seed + (args.seeds or default))

    table = ["| config | seeds | modes captured | % high quality | reverse KL | time per run |", "|---|---|---|---|---|---|"]
    mixtures_run, tables, setup = False, [], None
    for name in args.only.split(","):
        if name in ("ring", "grid"):
            table.append(mixture(name, seeds(10), args.overrides))
            mixtures_run = True
        elif name == "shapes":
            tables.append(shapes(args.overrides))
        elif name in ("mnist", "pggan", "stylegan2", "stylegan2_cond"):
            setup = setup or protocol.setup(args.mnist_dir)
            benchmark = {"mnist": mnist, "pggan": pggan, "stylegan2": functools.partial(stylegan2, run_dir=args.stylegan2_run),
                         "stylegan2_cond": functools.partial(stylegan2_cond, run_dir=args.stylegan2_cond_run)}[name]
            tables.append(benchmark(setup, args.overrides))
        elif name == "vqgan":
            setup = setup or protocol.setup(args.mnist_dir)
            tables.append(vqgan.report(setup, train, args.overrides, args.vqgan_run, args.vqgan_prior_run, args.vqgan_sampling))
        elif name == "baseline":
            setup = setup or protocol.setup(args.mnist_dir)
            others = [n for n in args.baseline_configs.split(",") if n and n != "dcgan_mnist"]
            tables.append(baseline.equal_time(setup, seeds(3), train, args.overrides, others))
        else:
            parser.error(f"unknown benchmark {name!r}; expected ring, grid, mnist, baseline, pggan, stylegan2, stylegan2_cond, shapes or vqgan")
    if mixtures_run:
        print("\n".join(table) + "\n")
    for mnist_table in tables:
        print(mnist_table + "\n")


if __name__ == "__main__":
    main()
