"""Training speed: tfgan against the hand-written baselines in ../shared/bench/.

    python benchmarks/speed.py [--repeats 5] [--only mlp,dcgan] [--bench-dir ../shared/bench]

Times training steps per second at batch 64 on 28x28 inputs (and images per
second: 64 x steps/s) for

- the MLP GAN (G 100-256-512-1024-784, D 784-1024-512-256-1): tfgan's shipped
  configs/gan_mnist.yaml, whose networks are exactly the baselines';
- DCGAN: the baselines' 28x28 DCGAN (their own layers, rebuilt below as tfgan
  networks, so that both sides do the same arithmetic) trained with the
  settings of configs/dcgan_mnist.yaml; and, for information, tfgan's own
  Radford-style DCGAN from that config.

against `ref_keras.py` (keras.io style: custom train_step, fit) and
`ref_torch.py` (eager PyTorch; needs `pip install torch==2.13.0`). Every run is
its own process; the runs are interleaved (tfgan, keras, torch, tfgan, ...) so
that the machine's drift hits all of them alike, and the script prints
tfgan/baseline ratios as min / median / max over the repeats, each ratio taken
within one repeat. Like the baselines, tfgan is timed over one `fit` call
after a warm-up call, on random data.

`--only stylegan2` times configs/stylegan2_mnist.yaml (28x28 padded to 32x32), and the
same with its gradient penalty lazy (every 4th D update), beside tfgan's DCGAN of
configs/dcgan_mnist.yaml, all at batch 64, and prints their ratios (with `--variants`,
also StyleGAN2 with XLA on).

With a GPU (or `--only dcgan64`), it also times tfgan's 64x64x3 DCGAN
(configs/dcgan_celeba64.yaml) in float32, mixed_float16 and mixed_bfloat16,
each with XLA off and on. The baselines have no 64x64 network.

`--variants` also times tfgan with XLA forced on and off (the measurement
behind `train.jit_compile: auto`) and, for DCGAN, with 10 steps per execution
and with `train.mixed_precision: mixed_bfloat16`.

`--divergence-check` times tfgan with and without its divergence check (the
per-step finiteness test of the losses, on the device, and the once-per-epoch
read of it and of every weight by `DivergenceGuard`), and prints the ratio.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STEPS = {"mlp": 400, "dcgan": 30, "dcgan_tfgan": 30, "dcgan64": 30, "stylegan2": 20}
BATCH = 64
CONFIGS = {"mlp": "gan_mnist", "dcgan": "dcgan_mnist", "dcgan_own": "dcgan_mnist", "dcgan64": "dcgan_celeba64", "stylegan2": "stylegan2_mnist"}
# dcgan64 (tfgan's 64x64x3 DCGAN, no baseline) in float32 and mixed precision, XLA off and on:
# the GPU comparison; on a CPU float16 is emulated and very slow.
PRECISION_GRID = [(p, x) for p in ("float32", "mixed_float16", "mixed_bfloat16") for x in ("false", "true")]


# --- One timed run of tfgan (in its own process: --worker) ---


def reference_dcgan():
    """The baselines' 28x28 DCGAN as tfgan networks (same layers as ref_keras.py)."""
    import keras
    from keras import layers

    from tfgan.networks.base import Discriminator, Generator

    class ReferenceGenerator(Generator):
        latent_dim, num_classes, sample_shape = 100, 0, (28, 28, 1)

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.net = keras.Sequential([
                layers.Dense(7 * 7 * 256, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(0.2),
                layers.Reshape((7, 7, 256)),
                layers.Conv2DTranspose(128, 5, 1, padding="same", use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(0.2),
                layers.Conv2DTranspose(64, 4, 2, padding="same", use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(0.2),
                layers.Conv2DTranspose(1, 4, 2, padding="same", use_bias=False, activation="tanh"),
            ])

        def call(self, z, labels=None, training=None):
            return self.net(z, training=training)

    class ReferenceDiscriminator(Discriminator):
        num_classes, sample_shape = 0, (28, 28, 1)

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.net = keras.Sequential([
                layers.Conv2D(64, 5, 2, padding="same"), layers.LeakyReLU(0.2), layers.Dropout(0.3),
                layers.Conv2D(128, 5, 2, padding="same"), layers.LeakyReLU(0.2), layers.Dropout(0.3),
                layers.Flatten(), layers.Dense(1, dtype="float32"),  # float32 logits under mixed precision
            ])

        def call(self, x, labels=None, training=None):
            return self.net(x, training=training)

    return ReferenceGenerator(), ReferenceDiscriminator()


def build(arch, overrides=()):
    """(gan, dataset, config): tfgan set up as the timed runs use it, on random 28x28 data."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    from tfgan import config as config_lib
    from tfgan import data, training
    from tfgan.gan import GAN

    shape = (64, 64, 3) if arch == "dcgan64" else (28, 28, 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "images.npz")
        np.savez(path, x=np.random.default_rng(0).integers(0, 256, (BATCH * 8, *shape), dtype=np.uint8))
        config = config_lib.load(
            os.path.join(ROOT, "configs", f"{CONFIGS[arch]}.yaml"),
            ["data.source=npz", f"data.path={path}", f"train.batch_size={BATCH}", *overrides],
        )
        examples = data.load(config.data, False, config.seed)
    if arch == "dcgan":  # the baselines' networks, tfgan's training
        train = config.train
        keras.utils.set_random_seed(0)
        with training.dtype_policy(training.precision(config)):
            generator, discriminator = reference_dcgan()
        gan = GAN(generator, discriminator, seed=0)
        gan.compile(
            d_optimizer=training.make_optimizer(train.d_optimizer), g_optimizer=training.make_optimizer(train.g_optimizer),
            loss=config.loss.name, jit_compile=training.use_xla(config, 1), steps_per_execution=train.steps_per_execution,
        )
    else:
        gan = training.build_gan(config, examples)
    return gan, examples.dataset(BATCH, config.seed), config


def timed_fit(gan, dataset, steps, callbacks=()):
    """Steps per second of one `fit` call, from its first to its last step, after a warm-up call."""
    import keras

    spe = gan.steps_per_execution
    gan.fit(dataset, steps_per_epoch=max(5, spe), epochs=1, verbose=0, callbacks=list(callbacks))  # trace, compile, warm up

    class Clock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    clock = Clock()
    steps = -(-steps // spe) * spe
    gan.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[*callbacks, clock])
    return steps / clock.seconds


NO_CHECK = "--no-divergence-check"


def time_tfgan(arch, steps, overrides):
    import types

    from tfgan.callbacks import DivergenceGuard
    from tfgan.callbacks.checkpoint import network_weights

    check = NO_CHECK not in overrides
    gan, dataset, _ = build(arch, [o for o in overrides if o != NO_CHECK])
    gan.check_finite = check  # read when the step is traced, at the first fit
    # As training runs it: the guard reads the flag and checks every weight at each epoch's end.
    variables = network_weights(gan.generator) + network_weights(gan.discriminator)
    guard = [DivergenceGuard(types.SimpleNamespace(variables=variables, latest=None))] if check else []
    rate = timed_fit(gan, dataset, steps, guard)
    print(f"steps_per_s {rate:.2f} xla {gan.jit_compile} spe {gan.steps_per_execution}")


# --- The interleaved comparison ---


def run(command):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    for line in out.stdout.splitlines():
        if line.startswith("steps_per_s"):
            return float(line.split()[1])
    raise RuntimeError(f"{' '.join(command)} failed:\n{out.stderr[-2000:]}")


def contenders(arch, bench_dir, variants, divergence_check=False):
    """name -> command, for one network."""
    me = [sys.executable, os.path.abspath(__file__), "--worker"]
    steps = str(STEPS[arch])
    if divergence_check:
        return {"tfgan": me + [arch, steps], "unchecked": me + [arch, steps, NO_CHECK]}
    if arch == "dcgan_tfgan":
        return {"tfgan (Radford DCGAN)": me + ["dcgan_tfgan", steps]}
    if arch == "stylegan2":  # against tfgan's own DCGAN (dcgan_mnist): there is no baseline StyleGAN2
        # The shipped WGAN-GP penalty on every D update, and lazily on every 4th (loss.gradient_penalty_every).
        commands = {"tfgan StyleGAN2": me + [arch, steps], "tfgan StyleGAN2 lazy GP 4": me + [arch, steps, "loss.gradient_penalty_every=4"]}
        if variants:
            commands["tfgan StyleGAN2 XLA on"] = me + [arch, steps, "train.jit_compile=true"]
        return {**commands, "dcgan_mnist": me + ["dcgan_tfgan", str(STEPS["dcgan_tfgan"])]}
    if arch == "dcgan64":
        return {
            f"tfgan {precision}{' XLA' if xla == 'true' else ''}": me + [
                arch, steps, f"train.mixed_precision={precision}", f"train.jit_compile={xla}"]
            for precision, xla in PRECISION_GRID
        }
    commands = {"tfgan": me + [arch, steps]}
    if variants:
        # `auto` picks XLA for the MLP and not for DCGAN on a CPU; time the other choice,
        # and the settings a user may add: more steps per call, bfloat16 (AVX512_BF16 CPUs).
        flipped = "off" if arch == "mlp" else "on"
        commands[f"tfgan XLA {flipped}"] = me + [arch, steps, f"train.jit_compile={str(flipped == 'on').lower()}"]
        if arch == "dcgan":
            commands["tfgan steps_per_execution 10"] = me + [arch, steps, "train.steps_per_execution=10"]
            commands["tfgan mixed_bfloat16"] = me + [arch, steps, "train.mixed_precision=mixed_bfloat16"]
    commands["keras"] = [sys.executable, os.path.join(bench_dir, "ref_keras.py"), arch, steps, str(BATCH)]
    commands["torch"] = [sys.executable, os.path.join(bench_dir, "ref_torch.py"), arch, steps, str(BATCH)]
    return commands


def summary(values, spec=".2f"):
    values = sorted(values)
    return " / ".join(format(v, spec) for v in (values[0], values[len(values) // 2], values[-1]))


def compare(arch, bench_dir, repeats, variants, divergence_check=False):
    commands = contenders(arch, bench_dir, variants, divergence_check)
    names = list(commands)
    results = {name: [] for name in names}
    for repeat in range(repeats):
        order = names[repeat % len(names):] + names[: repeat % len(names)]  # rotate who goes first
        for name in order:
            results[name].append(run(commands[name]))
        print(f"  {arch} repeat {repeat + 1}: " + ", ".join(f"{n} {results[n][-1]:.2f}" for n in names), flush=True)
    rows = [
        f"| {arch} | {name} | {summary(results[name])} | {BATCH * sorted(results[name])[repeats // 2]:,.0f} |"
        for name in names
    ]
    ratios = []
    for base in ("keras", "torch", "unchecked", "dcgan_mnist", "tfgan StyleGAN2"):
        if base in results:
            for name in names:
                if name.startswith("tfgan") and name != base:  # "unchecked": tfgan without the divergence check
                    per_repeat = [a / b for a, b in zip(results[name], results[base])]
                    ratios.append(f"| {arch} | {name} / {base} | {summary(per_repeat, '.3g')} |")  # 3 digits: StyleGAN2 / DCGAN is about 0.06
    return rows, ratios


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        arch, steps, *overrides = sys.argv[2:]
        if arch == "dcgan_tfgan":
            arch = "dcgan_own"
        return time_tfgan(arch, int(steps), overrides)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    # With a GPU, also DCGAN 64x64 in float32 / mixed precision, XLA off / on.
    gpu = ",dcgan64" if shutil.which("nvidia-smi") else ""
    parser.add_argument("--only", default="mlp,dcgan,dcgan_tfgan" + gpu)
    parser.add_argument("--bench-dir", default=os.path.join(ROOT, "..", "shared", "bench"))
    parser.add_argument("--variants", action="store_true", help="also time tfgan with XLA forced on and off")
    parser.add_argument("--divergence-check", action="store_true", help="time tfgan with and without its divergence check")
    args = parser.parse_args()
    speeds = ["| network | contender | steps/s min / median / max | images/s (median) |", "|---|---|---|---|"]
    ratios = ["| network | ratio | min / median / max |", "|---|---|---|"]
    for arch in args.only.split(","):
        rows, arch_ratios = compare(arch, args.bench_dir, args.repeats, args.variants, args.divergence_check)
        speeds += rows
        ratios += arch_ratios
    print("\n".join(speeds) + "\n\n" + "\n".join(ratios))


if __name__ == "__main__":
    main()
