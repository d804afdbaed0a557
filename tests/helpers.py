"""Small configs and readers shared by the training and CLI tests."""

import copy

import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from tfgan import architectures
from tfgan import config as config_lib

TINY_RING = {
    "name": "tiny",
    "data": {"source": "ring", "num_examples": 2000},
    "model": {"latent_dim": 4, "mlp": {"g_hidden": [16], "d_hidden": [16]}},
    "train": {"steps": 40, "batch_size": 32, "jit_compile": False, "steps_per_execution": 1},
    "log": {"every": 10, "images_every": 20, "verbose": 0},
    "checkpoint": {"every": 20, "keep": 2},
}


# Three tiny trained runs: the MLP GAN, DCGAN (colour) and a conditional DCGAN.
RUNS = {
    "mlp": ({"network": "mlp", "latent_dim": 8, "mlp": {"g_hidden": [16], "d_hidden": [16]}}, (28, 28, 1), False),
    "dcgan": ({"network": "dcgan", "latent_dim": 8, "dcgan": {"filters": 8}}, (32, 32, 3), False),
    "cgan": ({"network": "dcgan", "latent_dim": 8, "dcgan": {"filters": 8}, "conditional": True}, (28, 28, 1), True),
}


def random_images_npz(path, shape=(28, 28, 1), labels=False, num=64):
    """A .npz of `num` random uint8 images (`x`) and, if asked, labels 0-9 (`y`); returns its path."""
    rng = np.random.default_rng(0)
    arrays = {"x": rng.integers(0, 256, (num, *shape), dtype=np.uint8)}
    if labels:
        arrays["y"] = rng.integers(0, 10, num)
    np.savez(path, **arrays)
    return str(path)


def overrides(tree, prefix=""):
    """A nested dict as --set key=value strings."""
    items = []
    for key, value in tree.items():
        if isinstance(value, dict):
            items += overrides(value, f"{prefix}{key}.")
        else:
            items.append(f"{prefix}{key}={value}")
    return items


def read_events(log_dir):
    """{tag: {step: value or plugin name}} from TensorBoard's own event reader."""
    accumulator = event_accumulator.EventAccumulator(log_dir, size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    events = {}
    for tag in accumulator.Tags()["tensors"]:
        plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
        events[tag] = {"plugin": plugin, "steps": [e.step for e in accumulator.Tensors(tag)], "events": accumulator.Tensors(tag)}
    return events


def make_config(tmp_path, name="run", **changes):
    """TINY_RING in `tmp_path/name`, with `section__key=value` and `section={...}` changes."""
    tree = copy.deepcopy(TINY_RING)
    tree["run_dir"] = str(tmp_path / name)
    for key, value in changes.items():
        if "__" in key:
            section, field = key.split("__")
            tree.setdefault(section, {})[field] = value
        else:
            tree[key] = {**tree.get(key, {}), **value}
    for name in architectures.NAMES:  # another network: TINY_RING's mlp section does not apply
        if name != tree["model"].get("network", "mlp"):
            tree["model"].pop(name, None)
    return config_lib.from_dict(tree)


def scalar(events, tag, step):
    index = events[tag]["steps"].index(step)
    return float(tf.make_ndarray(events[tag]["events"][index].tensor_proto))
