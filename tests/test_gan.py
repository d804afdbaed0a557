"""The training algorithm itself: the two-phase update, metrics, seeding, serialization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan import GAN, GeneratorEMA, Hook, latent, losses
from tfgan.networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, PackedDiscriminator


def tiny_gan(d_steps=1, hooks=(), seed=0, conditional=False, lr=0.1):
    keras.utils.set_random_seed(1)
    classes = 3 if conditional else 0
    generator = MLPGenerator((2,), latent_dim=2, hidden_units=(4,), output_activation="linear", num_classes=classes)
    discriminator = MLPDiscriminator((2,), hidden_units=(4,), num_classes=classes)
    gan = GAN(generator, discriminator, d_steps=d_steps, seed=seed, hooks=hooks)
    gan.compile(keras.optimizers.SGD(lr), keras.optimizers.SGD(lr), loss="non_saturating")
    return gan


def test_train_step_updates_d_first_then_g_through_the_updated_d():
    gan = tiny_gan()
    real = tf.random.stateless_normal([8, 2], seed=[3, 4])
    d_before = [v.numpy() for v in gan.discriminator.trainable_variables]
    g_before = [v.numpy() for v in gan.generator.trainable_variables]
    # The noise the step draws: phase 0 for D, phase d_steps=1 for G.
    z_d = tf.random.stateless_normal([8, 2], seed=tf.constant([0, 0], tf.int64))
    z_g = tf.random.stateless_normal([8, 2], seed=tf.constant([0, 1], tf.int64))
    loss = losses.get("non_saturating")

    with tf.GradientTape() as tape:
        d_loss = tf.reduce_mean(loss.discriminator_loss(gan.discriminator(real), gan.discriminator(gan.generator(z_d))))
    d_expected = [v - 0.1 * g for v, g in zip(d_before, tape.gradient(d_loss, gan.discriminator.trainable_variables))]

    def g_update(d_weights):
        for var, value in zip(gan.discriminator.trainable_variables, d_weights):
            var.assign(value)
        with tf.GradientTape() as tape:
            g_loss = tf.reduce_mean(loss.generator_loss(gan.discriminator(gan.generator(z_g))))
        return [v - 0.1 * g for v, g in zip(g_before, tape.gradient(g_loss, gan.generator.trainable_variables))]

    g_expected = g_update(d_expected)
    g_through_old_d = g_update(d_before)
    for var, value in zip(gan.discriminator.trainable_variables, d_before):
        var.assign(value)

    gan.train_on_batch(real)
    for var, value in zip(gan.discriminator.trainable_variables, d_expected):
        np.testing.assert_allclose(var.numpy(), value, rtol=1e-5, atol=1e-6)
    for var, value in zip(gan.generator.trainable_variables, g_expected):
        np.testing.assert_allclose(var.numpy(), value, rtol=1e-5, atol=1e-6)
    assert not all(np.allclose(a, b) for a, b in zip(g_expected, g_through_old_d))
    assert int(gan.step.numpy()) == 1


def test_metrics_report_losses_and_d_outputs_before_and_after_the_d_update():
    gan = tiny_gan(lr=0.5)
    real = np.random.default_rng(0).normal(3.0, 0.1, (64, 2)).astype("float32")
    history = gan.fit(real, batch_size=64, epochs=30, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "d_real", "d_fake", "d_fake_after"}
    # D's outputs are probabilities under a cross-entropy loss.
    for key in ("d_real", "d_fake", "d_fake_after"):
        assert all(0.0 <= v <= 1.0 for v in history[key])
    # D learns to tell the far-away real cluster apart: D(x) rises above D(G(z)).
    assert history["d_real"][-1] > history["d_fake"][-1]
    # Reported d_loss is the mean of the per-example loss, i.e. near 2 log 2 at the start.
    assert abs(history["d_loss"][0] - 2 * np.log(2)) < 0.5


def test_same_seed_gives_the_same_losses_and_another_seed_does_not():
    real = np.random.default_rng(0).normal(size=(256, 2)).astype("float32")

    def run(seed):
        return tiny_gan(seed=seed).fit(real, batch_size=32, epochs=2, shuffle=False, verbose=0).history["g_loss"]

    assert run(0) == run(0)
    assert run(0) != run(5)


def test_d_steps_gives_each_discriminator_update_its_own_minibatch():
    gan = tiny_gan(d_steps=3)
    gan.train_on_batch(np.zeros((12, 2), "float32"))
    assert int(gan.d_optimizer.iterations.numpy()) == 3
    assert int(gan.g_optimizer.iterations.numpy()) == 1
    with pytest.raises(ValueError, match="divisible by 3"):
        tiny_gan(d_steps=3).train_on_batch(np.zeros((10, 2), "float32"))


def test_conditional_gan_needs_labels():
    gan = tiny_gan(conditional=True)
    gan.train_on_batch(np.zeros((6, 2), "float32"), np.array([0, 1, 2, 0, 1, 2]))
    with pytest.raises(ValueError, match="conditional on 3 classes but the data has no labels"):
        tiny_gan(conditional=True).train_on_batch(np.zeros((6, 2), "float32"))


class ConstantPenalty(Hook):
    def __init__(self):
        self.calls = 0

    def discriminator_penalty(self, gan, real, fake, labels):
        return tf.fill([tf.shape(real)[0]], 10.0)

    def after_generator_step(self, gan):
        self.calls += 1  # traced once, so this counts traces, not steps


def test_packed_discriminator_loss_is_the_mean_over_groups_of_samples():
    keras.utils.set_random_seed(1)
    generator = MLPGenerator((2,), latent_dim=2, hidden_units=(4,), output_activation="linear")
    discriminator = PackedDiscriminator(MLPDiscriminator((8,), hidden_units=(4,)), pack=4)
    gan = GAN(generator, discriminator)
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), loss="non_saturating")
    real = tf.random.stateless_normal([16, 2], seed=[3, 4])
    fake = generator(tf.random.stateless_normal([16, 2], seed=tf.constant([0, 0], tf.int64)))
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    assert real_logits.shape == (4, 1)
    expected = np.mean(losses.get("non_saturating").discriminator_loss(real_logits, fake_logits))
    assert gan.train_on_batch(real, return_dict=True)["d_loss"] == pytest.approx(expected, rel=1e-5)


def test_generator_ema_averages_weights_copies_batch_norm_statistics_and_samples():
    keras.utils.set_random_seed(1)
    generator = DCGANGenerator((28, 28, 1), latent_dim=4, filters=4)  # has batch norm
    gan = GAN(generator, DCGANDiscriminator((28, 28, 1), filters=4), hooks=[GeneratorEMA(0.9)])
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    ema = gan.sampler
    before = [w.numpy() for w in generator.weights]
    for average, weight in zip(ema.weights, before):
        np.testing.assert_array_equal(average.numpy(), weight)  # starts as a copy of G
    gan.train_on_batch(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype("float32"))
    moved = 0
    for average, weight, old in zip(ema.weights, generator.weights, before):
        new = weight.numpy()
        moved += not np.allclose(new, old)
        expected = 0.9 * old + 0.1 * new if weight.trainable else new
        np.testing.assert_allclose(average.numpy(), expected, rtol=1e-5, atol=1e-7)
    assert moved > 0
    assert not any(w.trainable for w in ema.weights)
    # Samples come from the average, not from the last iterate.
    z = latent.normal(3, 4, seed=5)  # GAN.generate's z is tfgan.latent's
    np.testing.assert_allclose(gan.generate(3, seed=5), ema(z, training=False), atol=1e-6)
    assert not np.allclose(gan.generate(3, seed=5), generator(z, training=False), atol=1e-6)


def test_hooks_add_penalties_to_the_reported_loss():
    real = np.zeros((16, 2), "float32")
    plain = tiny_gan().train_on_batch(real, return_dict=True)
    penalised = tiny_gan(hooks=[ConstantPenalty()]).train_on_batch(real, return_dict=True)
    assert penalised["d_loss"] == pytest.approx(plain["d_loss"] + 10.0, rel=1e-5)
    assert penalised["constant_penalty"] == pytest.approx(10.0)  # each hook's term logged under its name
    assert "constant_penalty" not in plain


def test_gan_round_trips_through_get_config():
    gan = tiny_gan(d_steps=2, seed=7, conditional=True)
    restored = GAN.from_config(gan.get_config())
    assert (restored.d_steps, restored.seed, restored.num_classes) == (2, 7, 3)
    assert restored.generator.get_config() == gan.generator.get_config()
    assert restored.discriminator.get_config() == gan.discriminator.get_config()


def test_generate_is_reproducible_and_conditional_rows_follow_labels():
    gan = tiny_gan(conditional=True)
    a, b = gan.generate(6, seed=1).numpy(), gan.generate(6, seed=1).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(gan.generate(6, seed=2).numpy(), a)



class AddsLosses(keras.layers.Layer):
    """Passes x through, adding with `add_loss` `weight * v**2` on a variable nothing else
    uses (only the added loss can move v) and `activity * mean(x**2)` of each call; and a
    variable u that only its L2 regularizer (0.01) moves."""

    def __init__(self, weight, activity=0.0, **kwargs):
        super().__init__(**kwargs)
        self.weight, self.activity = weight, activity
        self.v = self.add_weight(shape=(), initializer=keras.initializers.Constant(2.0), name="v")
        self.u = self.add_weight(shape=(), initializer=keras.initializers.Constant(2.0), regularizer=keras.regularizers.L2(0.01), name="u")

    def call(self, x):
        self.add_loss(self.weight * self.v**2 + self.activity * tf.reduce_mean(x**2))
        return x


class AddingGenerator(MLPGenerator):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.adds = AddsLosses(0.25, name="adds")

    def call(self, z, labels=None, training=None):
        return self.adds(super().call(z, labels, training=training))


class AddingDiscriminator(MLPDiscriminator):
    def __init__(self, *args, activity=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.adds = AddsLosses(0.5, activity, name="adds")

    def call(self, x, labels=None, training=None, seed=None):
        return super().call(self.adds(x), labels, training=training, seed=seed)


def adding_gan(activity=0.0):
    keras.utils.set_random_seed(1)
    generator = AddingGenerator((2,), latent_dim=2, hidden_units=(4,), output_activation="linear")
    gan = GAN(generator, AddingDiscriminator((2,), hidden_units=(4,), activity=activity))
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), loss="non_saturating")
    return gan


REAL = tf.random.stateless_normal([8, 2], seed=[3, 4])


def test_what_the_networks_layers_add_reaches_their_own_optimizer_once_a_step():
    # Keras's train_step adds model.losses to the loss; so does the GAN's, each network's to its
    # own. SGD at 0.1 on v: D's 2 - 0.1 * d(0.5 v^2)/dv = 1.8, once for D's two calls (real and
    # fake: as if one call had seen both batches); G's 2 - 0.1 * 2 * 0.25 * 2 = 1.9. The L2
    # regularizer's u, once a step too: 2 - 0.1 * 2 * 0.01 * 2 = 1.996.
    gan = adding_gan()
    gan.train_on_batch(REAL)
    adds_d, adds_g = gan.discriminator.adds, gan.generator.adds
    assert (float(adds_d.v), float(adds_g.v)) == (pytest.approx(1.8, abs=1e-6), pytest.approx(1.9, abs=1e-6))
    assert (float(adds_d.u), float(adds_g.u)) == (pytest.approx(1.996, abs=1e-6), pytest.approx(1.996, abs=1e-6))


def test_an_activity_loss_of_d_joins_the_reported_d_loss():
    # 0.3 * mean(x^2), the mean over D's calls on the real and the fake batch; the fake batch is
    # G(z) for the step's z (phase 0, seed 0), from G's weights before the step.
    plain = adding_gan().train_on_batch(REAL, return_dict=True)
    gan = adding_gan(activity=0.3)
    z = tf.random.stateless_normal([8, 2], seed=tf.constant([0, 0], tf.int64))
    fake = gan.generator(z)
    activity = 0.3 * (tf.reduce_mean(REAL**2) + tf.reduce_mean(fake**2)) / 2
    logs = gan.train_on_batch(REAL, return_dict=True)
    assert logs["d_loss"] - plain["d_loss"] == pytest.approx(float(activity), rel=1e-4)


class Autoencoder(keras.Model):
    """G that `reconstructs` its input: a 2 -> 2 dense map of the real points."""

    reconstructs, latent_dim, num_classes, sample_shape = True, None, 0, (2,)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant([[0.5, 0.1], [-0.2, 0.9]]))

    def call(self, x, labels=None, training=None):
        return self.dense(x)


class Reconstruction(Hook):
    """|real - fake|_1 per example, on G's loss."""

    def generator_penalty(self, gan, real, fake, labels):
        return tf.reduce_sum(tf.abs(real - fake), axis=1)


def autoencoder_step_by_hand(hook, adversarial_weight=None):
    """(gan, real, G's weights after one step, the step's fake, the weight used): by hand, SGD at
    0.1: D on real against G(real); then G on the non-saturating loss of the updated D, times
    `adversarial_weight(tape, adversarial, reconstruction, generator)` where given, plus the L1
    reconstruction error of the same real batch. The GAN is left as it was, untrained."""
    keras.utils.set_random_seed(1)
    generator, discriminator = Autoencoder(), MLPDiscriminator((2,), hidden_units=(4,))
    gan = GAN(generator, discriminator, hooks=[hook])
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), loss="non_saturating")
    real = tf.random.stateless_normal([8, 2], seed=[3, 4])
    d_before = [v.numpy() for v in discriminator.trainable_variables]
    g_before = [v.numpy() for v in generator.trainable_variables]
    loss = losses.get("non_saturating")
    with tf.GradientTape() as tape:
        d_loss = tf.reduce_mean(loss.discriminator_loss(discriminator(real), discriminator(generator(real))))
    for var, grad in zip(discriminator.trainable_variables, tape.gradient(d_loss, discriminator.trainable_variables)):
        var.assign_sub(0.1 * grad)
    d_expected = [v.numpy() for v in discriminator.trainable_variables]
    with tf.GradientTape(persistent=True) as tape:
        fake = generator(real)
        adversarial = tf.reduce_mean(loss.generator_loss(discriminator(fake)))
        reconstruction = tf.reduce_mean(tf.reduce_sum(tf.abs(real - fake), axis=1))
    weight = 1.0 if adversarial_weight is None else float(adversarial_weight(tape, adversarial, reconstruction, generator))
    grads = [weight * a + r for a, r in zip(tape.gradient(adversarial, generator.trainable_variables), tape.gradient(reconstruction, generator.trainable_variables))]
    g_expected = [v - 0.1 * g for v, g in zip(g_before, grads)]
    for var, value in zip(discriminator.trainable_variables, d_before):
        var.assign(value)
    return gan, real, d_expected + g_expected, fake, weight


def test_a_generator_that_reconstructs_is_fed_the_real_batch_and_its_loss_compares_with_it():
    gan, real, expected, fake, _ = autoencoder_step_by_hand(Reconstruction())
    logs = gan.train_on_batch(real, return_dict=True)
    for var, value in zip([*gan.discriminator.trainable_variables, *gan.generator.trainable_variables], expected):
        np.testing.assert_allclose(var.numpy(), value, rtol=1e-5, atol=1e-6)
    assert logs["reconstruction"] == pytest.approx(float(tf.reduce_mean(tf.reduce_sum(tf.abs(real - fake), axis=1))), rel=1e-5)
    with pytest.raises(ValueError, match="reconstructs its input"):
        gan.generate(4)


class AdaptiveWeight(Reconstruction):
    """VQGAN's adaptive weight on the reconstruction hook: |grad rec| / (|grad adv| + 1e-4) at G's kernel."""

    def adversarial_weight(self, gan, terms, gradient):
        kernel = gan.generator.dense.kernel
        return tf.norm(gradient(self.name, kernel)) / (tf.norm(gradient("adversarial", kernel)) + 1e-4)  # its own penalty, by its logged name


class SummedWeight(Reconstruction):
    """A weight from the gradient of two terms' sum: |grad (rec + adv)| / |grad adv| at G's kernel."""

    def adversarial_weight(self, gan, terms, gradient):
        kernel = gan.generator.dense.kernel
        return tf.norm(gradient((self.name, "adversarial"), kernel)) / tf.norm(gradient("adversarial", kernel))


def test_a_hook_weighs_the_adversarial_term_by_the_gradient_of_a_sum_of_terms():
    def by_hand(tape, adversarial, reconstruction, generator):
        kernel = generator.dense.kernel
        return tf.norm(tape.gradient(reconstruction, kernel) + tape.gradient(adversarial, kernel)) / tf.norm(tape.gradient(adversarial, kernel))

    gan, real, _, _, weight = autoencoder_step_by_hand(SummedWeight(), by_hand)
    assert gan.train_on_batch(real, return_dict=True)["adversarial_weight"] == pytest.approx(weight, rel=1e-5)


def test_a_hook_weighs_the_adversarial_term_by_the_terms_gradients():
    # lambda = |d rec / d W| / (|d adv / d W| + 1e-4) at G's kernel W, through the updated D,
    # held constant; G steps on lambda * adv + rec.
    def by_hand(tape, adversarial, reconstruction, generator):
        kernel = generator.dense.kernel
        return tf.norm(tape.gradient(reconstruction, kernel)) / (tf.norm(tape.gradient(adversarial, kernel)) + 1e-4)

    gan, real, expected, _, weight = autoencoder_step_by_hand(AdaptiveWeight(), by_hand)
    logs = gan.train_on_batch(real, return_dict=True)
    assert logs["adversarial_weight"] == pytest.approx(weight, rel=1e-5) and abs(weight - 1.0) > 0.1
    for var, value in zip([*gan.discriminator.trainable_variables, *gan.generator.trainable_variables], expected):
        np.testing.assert_allclose(var.numpy(), value, rtol=1e-5, atol=1e-6)
    assert "adversarial_weight" not in tiny_gan().train_on_batch(real[:, :2], return_dict=True)  # only where a hook weighs
