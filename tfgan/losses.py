"""GAN losses: pure functions on discriminator logits.

Every loss has one signature, after TF-GAN's:

    <name>_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0) -> [B]
    <name>_generator_loss(fake_logits) -> [B]

They return one loss per example (shape `[B]`), averaged over any further axes so
that patch discriminators work too. Reducing over the batch is the caller's job:
under `tf.distribute` the sum must be divided by the *global* batch size, which
only the training step knows.

All of them take logits, never probabilities: `softplus` forms of the
log-sigmoid are exact where `log(sigmoid(x))` underflows to `-inf`.

`get(name)` returns a `GANLoss` that pairs the two halves with the scale in
which D's output is reported (a probability for the cross-entropy losses, a raw
score for the others).
"""

import dataclasses
from typing import Callable

import tensorflow as tf


def _per_example(values):
    """Mean over every axis but the batch axis: [B, ...] -> [B]."""
    values = tf.convert_to_tensor(values)
    if values.shape.rank is not None and values.shape.rank <= 1:
        return tf.reshape(values, [-1])
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


def _check_no_smoothing(name, label_smoothing):
    if label_smoothing:
        raise ValueError(
            f"label_smoothing applies to the cross-entropy and least-squares losses; "
            f"the {name} loss has no labels to smooth. Received: label_smoothing={label_smoothing}"
        )


# --- Original GAN (Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661) ---


def minimax_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """-[log D(x) + log(1 - D(G(z)))], the discriminator side of the minimax game.

    With one-sided label smoothing (Salimans et al. 2016) the real target is
    `1 - label_smoothing`; fake targets stay at 0.
    """
    real_logits = tf.convert_to_tensor(real_logits)
    real = tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.ones_like(real_logits) * (1.0 - label_smoothing), logits=real_logits
    )
    fake = tf.nn.softplus(fake_logits)  # -log(1 - sigmoid(f))
    return _per_example(real) + _per_example(fake)


def minimax_generator_loss(fake_logits):
    """log(1 - D(G(z))): the saturating loss G minimises in the minimax game.

    Its gradient vanishes where D confidently rejects the fakes (D(G(z)) -> 0),
    which is why the paper recommends the non-saturating form in practice.
    """
    return _per_example(-tf.nn.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits):
    """-log D(G(z)): same fixed point as the minimax loss, strong early gradients."""
    return _per_example(tf.nn.softplus(-fake_logits))


# --- Least squares (Mao et al. 2017, https://arxiv.org/abs/1611.04076), a=0, b=c=1 ---


def least_squares_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2, with the real target smoothed to 1 - s."""
    real_target = 1.0 - label_smoothing
    return _per_example(0.5 * tf.square(real_logits - real_target)) + _per_example(
        0.5 * tf.square(fake_logits)
    )


def least_squares_generator_loss(fake_logits):
    """1/2 (D(G(z)) - 1)^2."""
    return _per_example(0.5 * tf.square(fake_logits - 1.0))


# --- Wasserstein (Arjovsky et al. 2017, https://arxiv.org/abs/1701.07875) ---


def wasserstein_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """D(G(z)) - D(x): the critic maximises the gap. Needs a Lipschitz constraint
    (a gradient penalty or spectral normalisation) to mean anything."""
    _check_no_smoothing("wasserstein", label_smoothing)
    return _per_example(fake_logits) - _per_example(real_logits)


def wasserstein_generator_loss(fake_logits):
    """-D(G(z))."""
    return _per_example(-fake_logits)


def drift_penalty(real_logits, epsilon=0.001):
    """epsilon * D(x)^2 on real data (Karras et al. 2018, "ε_drift"): keeps the critic's
    scores near 0, which the Wasserstein loss alone leaves free to drift."""
    return epsilon * _per_example(tf.square(tf.convert_to_tensor(real_logits)))


# --- Hinge (Lim & Ye 2017, https://arxiv.org/abs/1705.02894; Miyato et al. 2018) ---


def hinge_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """max(0, 1 - D(x)) + max(0, 1 + D(G(z)))."""
    _check_no_smoothing("hinge", label_smoothing)
    return _per_example(tf.nn.relu(1.0 - real_logits)) + _per_example(
        tf.nn.relu(1.0 + fake_logits)
    )


hinge_generator_loss = wasserstein_generator_loss


# --- Registry ---


@dataclasses.dataclass(frozen=True)
class GANLoss:
    """A named pair of losses and the scale D's output is reported in."""

    name: str
    discriminator_loss: Callable  # (real_logits, fake_logits, label_smoothing) -> [B]
    generator_loss: Callable  # (fake_logits) -> [B]
    d_output: Callable  # logits -> the value reported as "D(x)"
    smoothable: bool  # whether label_smoothing means anything for this loss


_LOSSES = {
    "minimax": GANLoss(
        "minimax", minimax_discriminator_loss, minimax_generator_loss, tf.sigmoid, True
    ),
    "non_saturating": GANLoss(
        "non_saturating",
        minimax_discriminator_loss,
        non_saturating_generator_loss,
        tf.sigmoid,
        True,
    ),
    "least_squares": GANLoss(
        "least_squares",
        least_squares_discriminator_loss,
        least_squares_generator_loss,
        tf.identity,
        True,
    ),
    "wasserstein": GANLoss(
        "wasserstein",
        wasserstein_discriminator_loss,
        wasserstein_generator_loss,
        tf.identity,
        False,
    ),
    "hinge": GANLoss(
        "hinge", hinge_discriminator_loss, hinge_generator_loss, tf.identity, False
    ),
}

NAMES = tuple(_LOSSES)


def get(identifier):
    """Returns the `GANLoss` for a name (or passes a `GANLoss` through)."""
    if isinstance(identifier, GANLoss):
        return identifier
    if identifier not in _LOSSES:
        raise ValueError(
            f"Unknown GAN loss {identifier!r}. Expected one of: {', '.join(NAMES)}."
        )
    return _LOSSES[identifier]
