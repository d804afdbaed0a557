"""What every `python -m tfgan.*` command shares: exit codes, one-line errors,
and the process-wide settings a library must not make for its users.

Exit codes:
    0    done
    2    a user error (bad config, path or flag), in one line, no traceback
    3    diverged: losses, weights or outputs are NaN or infinite; nothing
         non-finite was saved, exported or written
    130  interrupted by Ctrl-C (fit: after saving a checkpoint)
    143  stopped by SIGTERM (fit: after saving a checkpoint)
"""

import contextlib
import logging
import os
import sys

from tfgan.errors import Diverged, UserError

EXIT_USER_ERROR = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def setup(prog, tensorflow=True):
    """Process-wide settings for a command: its log lines on stdout, and (where it will use
    TensorFlow) TensorFlow imported with its C++ start-up noise off."""
    # TensorFlow 2.21 logs through absl before it reads TF_CPP_MIN_LOG_LEVEL, so the
    # oneDNN notice appears whatever the level; `quiet_tensorflow_import` hides it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # tfgan's progress goes to stdout beside Keras' own progress bar; errors go to stderr.
    logger = logging.getLogger("tfgan")
    for handler in [h for h in logger.handlers if getattr(h, "tfgan_cli", False)]:
        logger.removeHandler(handler)  # main() may run more than once in a process
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(f"{prog}: %(message)s"))
    handler.tfgan_cli = True
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if tensorflow:
        quiet_tensorflow_import()


def quiet_tensorflow_import():
    """Imports TensorFlow with the C++ stderr (fd 2) silenced, unless the user asked for its logs.

    Python-level errors still surface: the exception is raised after stderr is back.
    """
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") in ("", "0"):
        return
    with _stderr_silenced():
        import tensorflow  # noqa: F401  (imported for its side effect: started quietly)


@contextlib.contextmanager
def _stderr_silenced():
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def run(prog, function, *args):
    """`function(*args)` with tfgan's errors turned into one line and an exit code; returns the code."""
    try:
        function(*args)
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Diverged as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_DIVERGED
    return 0
