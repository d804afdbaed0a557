"""Where training runs: the `tf.distribute` strategy a config asks for.

- `auto`: MirroredStrategy over all GPUs when there are two or more, else the
  default strategy (one CPU or one GPU).
- `mirrored`: MirroredStrategy over `distribute.devices` (default: all GPUs, or
  the CPU). `devices` may also name logical CPUs, e.g. [CPU:0, CPU:1].
- `multi_worker`: MultiWorkerMirroredStrategy over the cluster in `TF_CONFIG`.
- `one_device`: OneDeviceStrategy on `devices[0]` (default: the first GPU, or the CPU).

A strategy changes where the per-replica work runs, not what is computed:
`GAN.train_step` divides per-example losses by the global batch, slices z from
the global batch's noise, and splits d_steps minibatches by stride, so the same
seed and global batch train the same weights on any number of replicas.

In a cluster only the chief writes (checkpoints, TensorBoard, config, exports).
`TF_CONFIG` is parsed here without TensorFlow so that the CLI can decide that
before TensorFlow starts.
"""

import functools
import json
import os

from tfgan.errors import UserError

STRATEGIES = ("auto", "mirrored", "multi_worker", "one_device")


def cluster_task():
    """(task type, task index, number of workers) from `TF_CONFIG`; (None, 0, 1) without one."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None, 0, 1
    try:
        tf_config = json.loads(raw)
        cluster, task = tf_config.get("cluster", {}), tf_config.get("task", {})
        workers = sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))
        return task.get("type"), int(task.get("index", 0)), max(workers, 1)
    except (ValueError, TypeError, AttributeError) as e:
        raise UserError(
            f"TF_CONFIG is not valid: {e}; expected JSON like "
            f'{{"cluster": {{"worker": ["host1:port", "host2:port"]}}, "task": {{"type": "worker", "index": 0}}}}'
        ) from None


def is_chief(strategy_name):
    """Whether this process writes: always outside a cluster; in one, the chief (or worker 0)."""
    if strategy_name != "multi_worker":
        return True
    task_type, index, _ = cluster_task()
    if task_type in (None, "chief"):
        return True
    has_chief = "chief" in json.loads(os.environ["TF_CONFIG"]).get("cluster", {})
    return task_type == "worker" and index == 0 and not has_chief


def make_strategy(config):
    """The strategy for a `DistributeConfig`; the same object for the same devices.

    One per process and device set: strategies made side by side draw the same
    collective instance keys, and their all-reduces (synchronized batch norm)
    then collide ("Shape mismatch in the collective instance").
    """
    return _strategy(config.strategy, tuple(config.devices))


@functools.cache
def _strategy(name, devices):
    import tensorflow as tf

    if name == "multi_worker":  # first: it must be made before TensorFlow runs anything
        if not os.environ.get("TF_CONFIG"):
            raise UserError(
                "distribute.strategy multi_worker needs the cluster in the TF_CONFIG environment "
                "variable (see README, 'Several machines')"
            )
        cluster_task()  # a clear error for malformed JSON
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if devices:
        _check_devices(devices, tf)
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(devices[0] if devices else (gpus[0].name if gpus else "/cpu:0"))
    return tf.distribute.MirroredStrategy(list(devices) or None)


def _check_devices(devices, tf):
    known = {d.name.split("device:")[-1].upper(): d.name for d in tf.config.list_logical_devices()}
    for device in devices:
        if device.split("device:")[-1].upper().lstrip("/") not in known:
            raise UserError(
                f"distribute.devices: no device {device!r} here; expected some of "
                f"{', '.join(sorted(known))}"
            )

