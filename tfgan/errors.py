"""User errors: mistakes in a config, a path or a flag.

The CLI turns a `UserError` into one line on stderr and exit code 2, with no
traceback. Anything else is a bug in tfgan and keeps its traceback.
"""


class UserError(Exception):
    """Something the user can fix; the message says what was wrong and what was expected."""


class ConfigError(UserError, ValueError):
    """A config key with a wrong type or an impossible value."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (docker stop, Slurm, Kubernetes), raised where Ctrl-C would be so that it saves alike."""


class Interrupted(Exception):
    """Training was stopped by Ctrl-C (or SIGTERM) after a checkpoint was saved."""

    def __init__(self, step, path, terminated=False):
        what = "stopped by SIGTERM" if terminated else "interrupted"
        super().__init__(f"{what} at step {step}; saved {path}. Continue with --resume.")
        self.step, self.path, self.terminated = step, path, terminated


class Diverged(Exception):
    """The model's losses, weights or outputs are not finite (NaN or infinite).

    The CLIs exit with code 3. Nothing non-finite is ever saved: the last good
    checkpoint stays the latest, and no export is made.
    """
