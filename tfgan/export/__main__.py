"""python -m tfgan.export --run RUN_DIR [--name NAME] [--format saved_model,onnx] [--out saved_models]
                          [--version N] [--force] [--opset N]

Exit codes: 0 exported; 2 a user error (no such run, no checkpoint, unknown
format, a name with a path separator, an existing version without --force),
reported in one line, with nothing written; 3 the weights are not finite (the
run diverged), and nothing was written.
"""

import argparse
import sys

from tfgan import cli


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tfgan.export", description="Export a run's generator for serving.")
    parser.add_argument("--run", required=True, help="the run directory of python -m tfgan.fit (e.g. runs/dcgan_mnist)")
    parser.add_argument("--name", help="model name: the directory under --out (default: the run directory's name)")
    parser.add_argument("--format", default="saved_model,onnx", help="saved_model, onnx, or both comma-separated (default: both)")
    parser.add_argument("--out", default="saved_models", help="base directory of the TF Serving layout (default: saved_models)")
    parser.add_argument("--version", type=int, help="version number (default: one past the highest present)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --version")
    parser.add_argument("--opset", type=int, help="ONNX opset (default: 17)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return cli.run("tfgan.export", _export, args)


def _export(args):
    from tfgan import export

    export.check_run_export(args.run, args.name, args.out, args.format, args.version, args.force)
    cli.setup("tfgan.export")  # TensorFlow starts here, once the flags are known to be good
    path = export.export_run(args.run, args.name, args.out, args.format, args.version, args.force, args.opset)
    print(f"tfgan.export: wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
