"""The TF Serving layout: `<base>/<name>/<version>/`, written atomically.

TF Serving watches `<base>/<name>` and loads the highest numeric version. An
export is staged in a hidden sibling directory (not a number, so TF Serving
ignores it) and renamed into place when complete, so a server never sees a
half-written version and an interrupted export leaves no version behind.
"""

import os
import shutil

from tfgan import atomic
from tfgan.errors import UserError


def is_plain_name(name):
    """Whether `name` can be one directory under the base: not empty, no separator, not . or .."""
    return bool(name) and os.sep not in name and "/" not in name and name not in (".", "..")


def check_name(name):
    if not is_plain_name(name):
        raise UserError(f"export name {name!r} must be a plain directory name, without a path separator")


def versions(model_dir):
    """The numeric versions under `model_dir`, ascending."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(entry) for entry in os.listdir(model_dir) if entry.isdigit())


def choose_version(model_dir, version=None, force=False):
    """The version to write: `version`, or one past the highest. Refuses to overwrite unless `force`."""
    if version is None:
        return (versions(model_dir) or [0])[-1] + 1
    if version < 1:
        raise UserError(f"export version must be a positive integer, got {version}")
    if os.path.exists(os.path.join(model_dir, str(version))) and not force:
        raise UserError(f"{os.path.join(model_dir, str(version))} exists; pass --force to overwrite it, or omit --version")
    return version


class Staging:
    """`with Staging(final) as tmp:` write into `tmp`; on success it becomes `final`.

    On an exception the staging directory is removed and `final` is untouched.
    An existing `final` (only with force) is replaced after the new one is complete.
    """

    def __init__(self, final):
        self.final = final
        self.tmp = atomic.temp_path(final, "staging")

    def __enter__(self):
        os.makedirs(self.tmp)
        return self.tmp

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return False
        old = None
        if os.path.exists(self.final):
            old = self.tmp + ".replaced"
            os.rename(self.final, old)
        os.rename(self.tmp, self.final)
        if old:
            shutil.rmtree(old)
        return False
