"""The run directory: what is in it, whether a run may start or resume there.

Imports no TensorFlow, so that the CLI can refuse a run in a fraction of a
second, before TensorFlow's start-up messages.

    <run_dir>/config.yaml      the resolved config (written atomically)
    <run_dir>/generator.json   the generator's Keras config, so that an export
                               rebuilds it without loading the data
    <run_dir>/checkpoints/     tf.train.CheckpointManager's files
    <run_dir>/tensorboard/     event files, and samples/ with PNG grids
"""

import os

import yaml

from tfgan.errors import UserError

# Keys that may change between a run and its resumption: how long, where and
# how verbosely to train, and what to export, not what is trained. (The same
# global batch trains the same weights on any number of replicas.)
RESUMABLE_CHANGES = (
    "train.steps", "train.jit_compile", "data.deterministic", "log.", "checkpoint.", "export.", "distribute.", "eval.", "run_dir",
)


def checkpoint_dir(config):
    return os.path.join(config.run_dir, "checkpoints")


def tensorboard_dir(config):
    return os.path.join(config.run_dir, "tensorboard")


def check(config, resume):
    """Raises `UserError` unless the run can start (or resume) in `config.run_dir`."""
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


def config_path(run_dir):
    return os.path.join(run_dir, "config.yaml")


def write_config(config):
    write_atomic(config_path(config.run_dir), config.to_yaml())


def generator_spec_path(run_dir):
    return os.path.join(run_dir, "generator.json")


def write_atomic(path, text):
    """Writes `text` to a temporary file and renames it over `path`."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def _check_resumable(config):
    path = config_path(config.run_dir)
    if not os.path.exists(path):
        return
    with open(path) as f:
        saved = _flatten(yaml.safe_load(f))
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
