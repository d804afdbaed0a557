"""What each replica of a `tf.distribute` strategy contributes, so that N replicas train
what one does: random draws made for the global batch and sliced, and values summed,
averaged or gathered over the replicas. Outside a strategy (or with one replica) each is
the identity.
"""

import tensorflow as tf


def replica_share(draw, batch_size):
    """This replica's rows of `draw(global_batch)`: noise drawn for the global batch
    and sliced, so that it is the same whatever the number of replicas."""
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context else 1
    replica = context.replica_id_in_sync_group if context else 0
    return draw(batch_size * replicas)[replica * batch_size : (replica + 1) * batch_size]


def _context():
    context = tf.distribute.get_replica_context()
    return None if context is None or context.num_replicas_in_sync == 1 else context


def replicas_sum(value):
    context = _context()
    return value if context is None else context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def replicas_mean(value):
    context = _context()
    return value if context is None else context.all_reduce(tf.distribute.ReduceOp.MEAN, value)


def replicas_gather(value):
    """Every replica's rows of `value`, in replica order: the global batch's."""
    context = _context()
    return value if context is None else context.all_gather(value, axis=0)


def global_batch_mean(per_example):
    """Mean over the *global* batch of this replica's per-example values: the replicas'
    shares, summed by the gradient all-reduce, add up to the true mean."""
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context else 1
    global_batch = tf.shape(per_example)[0] * replicas
    return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
