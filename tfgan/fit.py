"""python -m tfgan.fit --config FILE [--set key=value ...] [--dry-run] [--resume]

Exit codes (tfgan.cli): 0 done; 2 a user error (bad config, path or flag, or a
run directory another run is using), in one line without a traceback; 3 training
diverged (the last good checkpoint is kept, nothing is exported); 130 Ctrl-C and
143 SIGTERM, each after saving a checkpoint.
"""

import argparse
import contextlib
import os
import signal
import sys

from tfgan import cli, distribute, rundir
from tfgan import config as config_lib
from tfgan.errors import Interrupted, Terminated


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tfgan.fit", description="Train a GAN from a YAML config.")
    parser.add_argument("--config", required=True, help="YAML config file (see configs/)")
    parser.add_argument(
        "--set", dest="overrides", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
        help="override config values, e.g. --set train.steps=2000 data.source=idx",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the resolved config (and its phase table) and exit")
    parser.add_argument("--resume", action="store_true", help="continue the run in run_dir from its latest checkpoint")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate)  # docker stop, Slurm, Kubernetes: save as on Ctrl-C
    try:
        return cli.run("tfgan.fit", _fit, args)
    except Interrupted as e:
        print(f"tfgan.fit: {e}", file=sys.stderr)
        return cli.EXIT_TERMINATED if e.terminated else cli.EXIT_INTERRUPTED
    except KeyboardInterrupt as e:
        print("tfgan.fit: stopped before training started; nothing was saved", file=sys.stderr)
        return cli.EXIT_TERMINATED if isinstance(e, Terminated) else cli.EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate(signum, frame):
    raise Terminated()


def _fit(args):
    config = config_lib.load(args.config, args.overrides)
    if args.dry_run:
        print(config.to_yaml(), end="")
        if config.train.phases:
            print(f"\n# phases ({config.train.steps:,} steps in all)\n" + "\n".join(f"# {line}" for line in config.schedule.table().splitlines()))
        return
    chief = distribute.is_chief(config.distribute.strategy)  # other workers of a cluster write nothing
    # The lock and the checks come before TensorFlow starts: a refusal takes a fraction of a second.
    with rundir.locked(config.run_dir) if chief else contextlib.nullcontext():
        if chief:
            rundir.check(config, args.resume)
        cli.setup("tfgan.fit")
        from tfgan import training  # TensorFlow starts here, after the config is known to be good

        gan = training.train(config, resume=args.resume)
    print(f"tfgan.fit: done at step {int(gan.step.numpy())}; run in {config.run_dir}")
    if chief:
        _next_steps(config)


def _next_steps(config):
    samples = rundir.samples_dir(config)
    pictures = sorted(os.listdir(samples)) if os.path.isdir(samples) else []
    if pictures:
        print(f"  samples:     {os.path.join(samples, pictures[-1])}")
    print(f"  TensorBoard: tensorboard --logdir {rundir.tensorboard_dir(config)}")
    if config.export.formats:
        model = os.path.join(config.export.dir, config.export.name or config.name)
        print(f"  samples of the export: python -m tfgan.generate --model {model} --out samples.png")
    else:
        print(f"  export:      python -m tfgan.export --run {config.run_dir}")


if __name__ == "__main__":
    sys.exit(main())
