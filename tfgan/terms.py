"""What joins a network's loss in `tfgan.GAN`'s step besides the GAN loss and the hooks'
penalties: the terms its own layers add, and the gradients a hook weighs the
adversarial term by.

Keras's own `train_step` adds `model.losses` (the `add_loss` terms of the latest
call, and the weight regularizers') to the loss; the GAN does too, for each
network on its own loss. `network.losses` lists both kinds together, but they
count differently when D is called twice in its update (on the real and on the
fake batch): the call's terms once a call, the regularizers once a step; so
they are read apart here.
"""

import tensorflow as tf

from tfgan.replicas import replicas_sum


def regularization(network):
    """The weight regularizers' penalty on `network`'s trainable weights (float32; 0 without any)."""
    return tf.add_n([tf.cast(v.regularizer(v), tf.float32) for v in network.trainable_weights if v.regularizer is not None] or [tf.zeros([])])


def layer_losses(network):
    """What `network`'s layers added with `add_loss` in its latest call (a quantizer's
    commitment term, an activity regularizer), float32: to be read after each call,
    since Keras clears them when the network is called again; without the weight
    regularizers' terms (`regularization`)."""
    total = tf.add_n([tf.cast(loss, tf.float32) for loss in network.losses] or [tf.zeros([])])
    return total - regularization(network)


def global_gradient(tape, loss, variable):
    """d `loss` / d `variable` through `tape` (persistent), summed over the replicas: `loss`
    is this replica's share of a global-batch mean, so the sum is the global batch's
    gradient, and N replicas see what one does. Zero where `loss` does not reach it."""
    return replicas_sum(tf.convert_to_tensor(tape.gradient(loss, variable, unconnected_gradients=tf.UnconnectedGradients.ZERO)))
