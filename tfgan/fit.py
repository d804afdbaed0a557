"""python -m tfgan.fit --config FILE [--set key=value ...] [--dry-run] [--resume]

Exit codes: 0 done; 2 a user error (bad config, path or flag), reported in one
line without a traceback; 130 interrupted by Ctrl-C after saving a checkpoint.
"""

import argparse
import os
import sys

from tfgan import config as config_lib
from tfgan import distribute, rundir
from tfgan.errors import Interrupted, UserError


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tfgan.fit", description="Train a GAN from a YAML config.")
    parser.add_argument("--config", required=True, help="YAML config file (see configs/)")
    parser.add_argument(
        "--set", dest="overrides", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
        help="override config values, e.g. --set train.steps=2000 data.source=idx",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    parser.add_argument("--resume", action="store_true", help="continue the run in run_dir from its latest checkpoint")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        config = config_lib.load(args.config, args.overrides)
        if args.dry_run:
            print(config.to_yaml(), end="")
            return 0
        if distribute.is_chief(config.distribute.strategy):  # other workers of a cluster write nothing
            rundir.check(config, args.resume)  # refuse before TensorFlow starts and logs
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from tfgan import training  # TensorFlow starts here, after the config is known to be good

        gan = training.train(config, resume=args.resume)
    except UserError as e:
        print(f"tfgan.fit: error: {e}", file=sys.stderr)
        return 2
    except Interrupted as e:
        print(f"tfgan.fit: {e}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("tfgan.fit: interrupted before training started; nothing was saved", file=sys.stderr)
        return 130
    print(f"tfgan.fit: done at step {int(gan.step.numpy())}; run in {config.run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
