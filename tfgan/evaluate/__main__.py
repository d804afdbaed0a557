"""python -m tfgan.evaluate train-classifier --data KEY=VALUE ... --out PATH.keras [--epochs N] [--seed N] [--overwrite]
python -m tfgan.evaluate run --run RUN_DIR [--metrics a,b] [--features classifier:PATH | inception]
                             [--samples N] [--set key=value ...] [--cache DIR]

`train-classifier` trains tfgan's small classifier on labelled images named as
a config's `data:` block (`--data source=idx path=... labels_path=...`) and
prints its accuracy on the held-out last 10%. `run` evaluates a training run's
generator (EMA weights where kept) against the run's own data (`--set data.path=...`
to point elsewhere) and prints one `metric value` line each.

Exit codes: 0 done; 2 a user error (unknown metric, mismatched shapes, missing
file, a classifier that exists without --overwrite), in one line.
"""

import argparse
import os
import sys

from tfgan import cli
from tfgan.errors import UserError
from tfgan.evaluate import DEFAULT_CACHE
from tfgan.metrics import METRICS  # neither imports TensorFlow: --help stays fast


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tfgan.evaluate", description="Sample-quality metrics and the offline classifier.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train-classifier", help="train the offline classifier on labelled images")
    train.add_argument("--data", nargs="+", required=True, metavar="KEY=VALUE", help="the data, as keys of a config's data: block")
    train.add_argument("--out", required=True, help="where to save it (.keras)")
    train.add_argument("--epochs", type=int, default=5, help="passes over the training 90%% of the data (default 5)")
    train.add_argument("--seed", type=int, default=0, help="its initialization, shuffling and held-out split (default 0)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    run = commands.add_parser("run", help="evaluate a training run's generator")
    run.add_argument("--run", required=True, help="the run directory of python -m tfgan.fit")
    run.add_argument("--metrics", help=f"comma-separated, of: {', '.join(METRICS)} (default: all that apply to the data)")
    run.add_argument("--features", help="classifier:PATH or inception (needed for image metrics)")
    run.add_argument("--samples", type=int, default=10_000, help="samples to draw (default 10000)")
    run.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                     help="override the run's config, e.g. data.path=...")
    run.add_argument("--cache", default=DEFAULT_CACHE, help=f"where real-data features are cached (default {DEFAULT_CACHE})")
    return parser.parse_args(argv)


def train_classifier(args):
    from tfgan import config as config_lib
    if args.epochs < 1:
        raise UserError(f"--epochs: expected a positive integer, got {args.epochs}")
    if os.path.exists(args.out) and not args.overwrite:
        raise UserError(f"{args.out} exists; pass --overwrite to replace it")
    cli.setup("tfgan.evaluate")  # TensorFlow starts here, once the flags are known to be good
    from tfgan import data
    from tfgan.evaluate import classifier

    data_config = config_lib.from_overrides([f"data.{item}" for item in args.data]).data
    examples = data.load(data_config, conditional=True, seed=0)
    model, accuracy = classifier.train_classifier(examples, epochs=args.epochs, seed=args.seed)
    classifier.save_classifier(model, args.out, args.overwrite)
    print(f"tfgan.evaluate: wrote {args.out}; held-out accuracy {accuracy:.4f} on {len(examples) // 10} examples")


def run(args):
    from tfgan import config as config_lib
    from tfgan import rundir

    metrics = args.metrics.split(",") if args.metrics else None
    if args.samples < 2:
        raise UserError(f"--samples: expected an integer >= 2, got {args.samples}")
    cli.setup("tfgan.evaluate")
    from tfgan import data
    from tfgan.data import mixtures
    from tfgan.evaluate import features, report
    from tfgan.export.run import load_generator

    config = config_lib.load(rundir.config_path(args.run), args.overrides) if os.path.isdir(args.run) else None
    generator, step, weights = load_generator(args.run)
    examples = data.load(config.data, config.model.conditional, config.seed)
    mixture = config.data.source if config.data.source in mixtures.NAMES else None
    if metrics:
        report.check_metrics(metrics, examples, mixture, generator)  # before any features are computed
    results = report.evaluate(
        generator, examples, metrics, features.from_flag(args.features), args.samples, mixture=mixture, cache_dir=args.cache,
    )
    print(f"tfgan.evaluate: {args.run} at step {step} ({weights}), {args.samples} samples")
    for name, value in results.items():
        print(f"{name} {value:.6g}")


def main(argv=None):
    args = parse_args(argv)
    return cli.run("tfgan.evaluate", train_classifier if args.command == "train-classifier" else run, args)


if __name__ == "__main__":
    sys.exit(main())
