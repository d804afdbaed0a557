"""User errors: mistakes in a config, a path or a flag.

The CLI turns a `UserError` into one line on stderr and exit code 2, with no
traceback. Anything else is a bug in tfgan and keeps its traceback.
"""


class UserError(Exception):
    """Something the user can fix; the message says what was wrong and what was expected."""


class ConfigError(UserError, ValueError):
    """A config key with a wrong type or an impossible value."""


class Interrupted(Exception):
    """Training was stopped by Ctrl-C after a checkpoint was saved."""

    def __init__(self, step, path):
        super().__init__(f"interrupted at step {step}; saved {path}. Continue with --resume.")
        self.step, self.path = step, path
