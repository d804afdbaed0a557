"""The run directory: what is in it, whether a run may start or resume there.

Imports no TensorFlow, so that the CLI can refuse a run in a fraction of a
second, before TensorFlow's start-up messages.

    <run_dir>/config.yaml      the resolved config (written atomically)
    <run_dir>/generator.json   the generator's Keras config, so that an export
                               rebuilds it without loading the data
    <run_dir>/checkpoints/     tf.train.CheckpointManager's files
    <run_dir>/tensorboard/     event files, and samples/ with PNG grids
    <run_dir>/run.lock         while a run uses the directory: its pid and host

A run directory has one owner at a time: `locked(run_dir)` holds an exclusive
`flock` on run.lock for as long as the run lasts. The kernel drops the lock when
its process dies (even by kill -9), so a lock file left behind by a dead run is
stale by construction and is simply taken over. (flock is local to one machine,
or to a file system that supports it across machines, as NFSv4 does.)
"""

import contextlib
import datetime
import fcntl
import json
import os
import shutil
import socket

import yaml

from tfgan import atomic
from tfgan.errors import UserError
from tfgan.evaluate import parse_network

# Keys that may change between a run and its resumption: how long, where and
# how verbosely to train, and what to export, not what is trained. (The same
# global batch trains the same weights on any number of replicas.)
RESUMABLE_CHANGES = (
    "train.steps", "train.jit_compile", "train.loss_limit", "data.deterministic", "log.", "checkpoint.", "export.", "distribute.", "eval.", "run_dir",
)


def checkpoint_dir(config):
    return os.path.join(config.run_dir, "checkpoints")


def tensorboard_dir(config):
    return os.path.join(config.run_dir, "tensorboard")


def samples_dir(config):
    """Where TensorBoardLogger writes its sample pictures as PNG files."""
    return os.path.join(tensorboard_dir(config), "samples")


LOCK_FILE = "run.lock"
_held = {}  # realpath -> [fd, depth, created]: locks this process holds (re-entrant)


@contextlib.contextmanager
def locked(run_dir):
    """Holds `run_dir` for this process while the block runs; raises `UserError` if another process holds it.

    Creates `run_dir` if needed; on exit releases the lock, removes run.lock, and
    removes `run_dir` again if this call created it and nothing else was written.
    """
    key = os.path.realpath(run_dir)
    if key in _held:
        _held[key][1] += 1
    else:
        fd, created = _acquire(run_dir)
        _held[key] = [fd, 1, created]
    try:
        yield
    finally:
        _held[key][1] -= 1
        if _held[key][1] == 0:
            fd, _, created = _held.pop(key)
            _release(run_dir, fd, created)


def _acquire(run_dir):
    check_writable(run_dir)
    created = not os.path.exists(run_dir)
    path = os.path.join(run_dir, LOCK_FILE)
    while True:
        try:
            os.makedirs(run_dir, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:  # read-only file system, no permission, ...
            raise UserError(f"run_dir {run_dir} cannot be written: {e.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(fd)
            os.close(fd)
            raise UserError(
                f"{run_dir} is in use by another run (pid {owner.get('pid', '?')} on {owner.get('host', '?')}, "
                f"started {owner.get('started', '?')}); wait for it to end, stop it, or choose another run_dir"
            ) from None
        # The owner may have released and unlinked run.lock between our open and
        # flock; then we hold a lock on a file no one else will open. Start over.
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": datetime.datetime.now().isoformat(timespec="seconds")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(owner) + "\n").encode(), 0)
    return fd, created


def _read_owner(fd):
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:  # being written this instant
        return {}


def _release(run_dir, fd, created):
    # Unlink before unlocking: a process waiting on this inode then sees it is gone.
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(run_dir, LOCK_FILE))
    os.close(fd)
    if created and os.path.isdir(run_dir) and not os.listdir(run_dir):
        os.rmdir(run_dir)


def check_writable(run_dir):
    """Raises `UserError` unless `run_dir` is (or can be made) a writable directory."""
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise UserError(f"run_dir {run_dir} is a file; expected a directory (or a path where one can be made)")
    existing = run_dir
    while existing and not os.path.exists(existing):
        existing = os.path.dirname(existing.rstrip(os.sep))
    existing = existing or "."
    if not os.path.isdir(existing):
        raise UserError(f"run_dir {run_dir} cannot be made: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"run_dir {run_dir} cannot be written: no write permission on {existing}")


def remove_leftovers(config):
    """Removes what killed saves left in the run: `ckpt-N_temp/` of TensorFlow, and tfgan's temporaries.

    Only called while holding the run's lock, so no live save can be writing them.
    """
    directory = checkpoint_dir(config)
    if os.path.isdir(directory):
        for entry in os.listdir(directory):
            if entry.startswith("ckpt-") and entry.endswith("_temp"):
                shutil.rmtree(os.path.join(directory, entry), ignore_errors=True)
    for path in (config.run_dir, samples_dir(config)):
        atomic.remove_stale(path)


def check(config, resume):
    """Raises `UserError` unless the run can start (or resume) in `config.run_dir`."""
    check_writable(config.run_dir)
    has_run = os.path.exists(os.path.join(checkpoint_dir(config), "checkpoint"))
    if has_run and not resume:
        raise UserError(
            f"{config.run_dir} already holds a run; pass --resume to continue it, or choose "
            f"another directory with --set run_dir=..."
        )
    if resume and not has_run:
        raise UserError(f"nothing to resume: {checkpoint_dir(config)} has no checkpoint")
    if resume:
        _check_resumable(config)
    for key in ("path", "labels_path"):
        path = getattr(config.data, key)
        if config.data.source in ("folder", "npz", "idx") and path and not os.path.exists(path):
            what = {"folder": "image folder", "npz": ".npz file", "idx": "idx file"}[config.data.source]
            raise UserError(f"{what} not found: {path} (data.{key})")
    for key, path in _classifiers(config):
        if not os.path.exists(path):
            raise UserError(f"classifier not found: {path} ({key}); train one with python -m tfgan.evaluate train-classifier")
    stage1 = getattr(config.model.options, "autoencoder", None)  # VQGAN's prior reads a trained autoencoder's run
    if stage1 and not os.path.isfile(generator_spec_path(stage1)):
        raise UserError(f"model.{config.model.network}.autoencoder: {stage1} is not a trained run directory (no generator.json); "
                        f"train the autoencoder first (model.network: vqgan)")


def _classifiers(config):
    """(key, path) of the classifiers the run reads: eval.features, a network's perceptual term."""
    network = config.model.network
    for key, flag in (("eval.features", config.eval.features if config.eval.every else None),
                      (f"model.{network}.perceptual", getattr(config.model.options, "perceptual", None))):
        parsed = flag and parse_network(flag, ())
        if parsed:
            yield key, parsed[1]


def config_path(run_dir):
    return os.path.join(run_dir, "config.yaml")


def write_config(config):
    atomic.write_text(config_path(config.run_dir), config.to_yaml())


def generator_spec_path(run_dir):
    return os.path.join(run_dir, "generator.json")


def _check_resumable(config):
    path = config_path(config.run_dir)
    if not os.path.exists(path):
        return
    from tfgan import config as config_lib  # imports no TensorFlow

    with open(path) as f:
        saved = yaml.safe_load(f)
    saved["model"] = config_lib.upgrade_model_keys(saved.get("model", {}))  # a run begun before the registry
    saved = _flatten(saved)
    current = _flatten(config.to_dict())
    # A key the run's config.yaml lacks was added to tfgan after the run began: it
    # trained with that key's default.
    defaults = _flatten(type(config)().to_dict())
    saved = {**{k: v for k, v in defaults.items() if k in current}, **saved}
    changed = sorted(
        k for k in set(saved) | set(current)
        if saved.get(k) != current.get(k) and not k.startswith(RESUMABLE_CHANGES)
    )
    if changed:
        details = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed[:3])
        raise UserError(
            f"--resume with a config that changes what is trained ({details}); only "
            f"{', '.join(k + '*' if k.endswith('.') else k for k in RESUMABLE_CHANGES)} may change. "
            f"Use the run's own config.yaml"
        )


def _flatten(tree, prefix=""):
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat
