"""What joins a network's loss in `tfgan.GAN`'s step besides the GAN loss and the hooks'
penalties: the terms its own layers add, and the gradients a hook weighs the
adversarial term by.

Keras's own `train_step` adds `model.losses` (the `add_loss` terms of the latest
call, and the weight regularizers') to the loss; the GAN does too, for each
network on its own loss. D is called twice in its update (on the real and on the
fake batch), so it takes the mean of the two calls' sums: each call's terms
averaged, as if one call had seen both batches, and the regularizers, which both
sums hold, once.
"""

import tensorflow as tf

from tfgan.replicas import replicas_sum


def own_losses(network):
    """The sum of `network.losses` after its latest call, float32 (0 without any): what its
    layers added with `add_loss` in that call (a quantizer's commitment term, an activity
    regularizer) and its weight regularizers' terms. To be read after each call, since Keras
    clears the call's terms when the network is called again."""
    return tf.add_n([tf.cast(loss, tf.float32) for loss in network.losses] or [tf.zeros([])])


def global_gradient(tape, loss, variable):
    """d `loss` / d `variable` through `tape` (persistent), summed over the replicas: `loss`
    is this replica's share of a global-batch mean, so the sum is the global batch's
    gradient, and N replicas see what one does. Zero where `loss` does not reach it."""
    return replicas_sum(tf.convert_to_tensor(tape.gradient(loss, variable, unconnected_gradients=tf.UnconnectedGradients.ZERO)))
