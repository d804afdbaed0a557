"""Atomic writes: a file (or directory) is whole or absent, never half-written.

Everything tfgan writes goes to a hidden sibling first and is renamed into
place, so a reader (TF Serving, TensorBoard, a resumed run) never sees a torn
file. The temporary name carries the writer's pid and host, so that a later run
can tell the leftovers of a killed writer (`remove_stale`) from a live write.

Imports no TensorFlow.
"""

import contextlib
import os
import re
import shutil
import socket
import uuid

from tfgan.errors import UserError

_TEMP = re.compile(r"^\..+\.(?:tmp|staging)-(\d+)@(.+)-[0-9a-f]{8}(?:\.\w+)?$")


def temp_path(path, kind="tmp"):
    """A hidden sibling of `path` naming this process; keeps the extension (np.savez and Keras need it)."""
    directory, leaf = os.path.split(os.path.abspath(path))
    extension = os.path.splitext(leaf)[1] if kind == "tmp" else ""
    return os.path.join(directory, f".{leaf}.{kind}-{os.getpid()}@{socket.gethostname()}-{uuid.uuid4().hex[:8]}{extension}")


def check_destination(path, make_dirs=False):
    """Raises `UserError` unless a file can be written at `path` (its directory exists; it is not a directory)."""
    directory = os.path.dirname(os.path.abspath(path))
    if make_dirs:
        os.makedirs(directory, exist_ok=True)
    if os.path.isdir(path):
        raise UserError(f"{path} is a directory; expected the path of a file to write")
    if not os.path.isdir(directory):
        raise UserError(f"cannot write {path}: directory {os.path.dirname(path) or '.'} does not exist")


@contextlib.contextmanager
def replacing(path, make_dirs=False):
    """`with replacing(path) as tmp:` write `tmp`; it replaces `path` when the block succeeds.

    On any exception (Ctrl-C included) the temporary file is removed and `path` is untouched.
    """
    check_destination(path, make_dirs)
    tmp = temp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def write_text(path, text, make_dirs=True):
    with replacing(path, make_dirs) as tmp:
        with open(tmp, "w") as f:
            f.write(text)


def remove_stale(directory):
    """Removes temporaries in `directory` left by writers on this host that are no longer running.

    A live writer's files are never touched; a writer on another host cannot be
    checked from here, so its files are left alone too. Returns the removed paths.
    """
    removed = []
    if not os.path.isdir(directory):
        return removed
    host = socket.gethostname()
    for entry in os.listdir(directory):
        match = _TEMP.match(entry)
        if match and match.group(2) == host and not pid_alive(int(match.group(1))):
            _remove(os.path.join(directory, entry))
            removed.append(os.path.join(directory, entry))
    return removed


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
