"""VQGAN's vector quantizer against NumPy and hand computations."""

import numpy as np
import pytest
import tensorflow as tf

from tfgan.networks import quantizer
from tfgan.networks.quantizer import VectorQuantizer


def quantizer_and_input(beta=0.25, normalize=False, seed=0):
    rng = np.random.default_rng(seed)
    layer = VectorQuantizer(8, 3, beta=beta, normalize=normalize)
    layer.codebook.assign(rng.standard_normal((8, 3)).astype(np.float32))
    return layer, rng.standard_normal((2, 4, 4, 3)).astype(np.float32)


def test_each_vector_becomes_its_nearest_code():
    layer, z = quantizer_and_input()
    codebook = layer.codebook.numpy()
    expected = np.argmin(((z[..., None, :] - codebook) ** 2).sum(-1), axis=-1)  # brute force, [2, 4, 4]
    np.testing.assert_array_equal(layer.indices(z).numpy(), expected)
    np.testing.assert_allclose(layer(z).numpy(), codebook[expected], atol=1e-6)
    np.testing.assert_allclose(layer.lookup(expected).numpy(), codebook[expected])
    assert len(np.unique(expected)) > 1  # the check would pass for a constant answer otherwise


def test_the_gradient_passes_straight_through_and_beta_weighs_the_commitment_term():
    layer, z = quantizer_and_input(beta=0.25)
    z = tf.constant(z)
    weights = tf.random.stateless_normal(z.shape, seed=[1, 2])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(z)
        out = layer(z)
        through = tf.reduce_sum(weights * out)
        (added,) = layer.losses
    # Straight through: d(sum(w * z_q))/dz = w.
    np.testing.assert_allclose(tape.gradient(through, z).numpy(), weights.numpy(), atol=1e-6)
    quantized = layer.codebook.numpy()[layer.indices(z).numpy()]
    error = quantized - z.numpy()
    count = error.size
    # The value: beta * mse + mse (the same squared error, once for each side).
    assert float(added) == pytest.approx(1.25 * np.mean(error**2), rel=1e-5)
    # The encoder side gets only beta's term: d/dz of 0.25 * mean((sg(e) - z)^2).
    np.testing.assert_allclose(tape.gradient(added, z).numpy(), 0.25 * 2 * (z.numpy() - quantized) / count, atol=1e-7)
    # The codes get only the codebook term, unweighted: sum over their vectors of 2 (e - z) / count.
    expected = np.zeros((8, 3), np.float32)
    np.add.at(expected, layer.indices(z).numpy().ravel(), 2 * error.reshape(-1, 3) / count)
    np.testing.assert_allclose(tf.convert_to_tensor(tape.gradient(added, layer.codebook)).numpy(), expected, atol=1e-7)


def test_normalized_codes_compare_and_return_unit_vectors():
    layer, z = quantizer_and_input(normalize=True)
    out = layer(z).numpy()
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-5)
    unit = z / np.linalg.norm(z, axis=-1, keepdims=True)
    codes = layer.codebook.numpy() / np.linalg.norm(layer.codebook.numpy(), axis=-1, keepdims=True)
    np.testing.assert_array_equal(layer.indices(z).numpy(), np.argmax(unit @ codes.T, axis=-1))  # nearest = largest cosine


def test_the_ema_codebook_update_by_hand():
    # Two codes in 1-D, decay 0.5: sizes (4, 0) -> (0.5*4 + 0.5*2, 0.5*0 + 0.5*0) = (3, 0);
    # sums (8, 0) -> (0.5*8 + 0.5*6, 0) = (7, 0); smoothed sizes (n_k + eps) / (n + 2 eps) * n
    # with n = 3, eps = 1e-5; codes = sums / smoothed sizes.
    size, total, codebook = quantizer.ema_update(tf.constant([4.0, 0.0]), tf.constant([[8.0], [0.0]]), tf.constant([2.0, 0.0]),
                                                 tf.constant([[6.0], [0.0]]), decay=0.5)
    np.testing.assert_allclose(size.numpy(), [3.0, 0.0])
    np.testing.assert_allclose(total.numpy(), [[7.0], [0.0]])
    smoothed = np.array([3 + 1e-5, 1e-5]) / (3 + 2e-5) * 3
    np.testing.assert_allclose(codebook.numpy()[:, 0], [7.0 / smoothed[0], 0.0], rtol=1e-6)


def test_an_ema_codebook_starts_each_code_as_the_mean_of_itself_and_restarts_reset_it():
    layer = VectorQuantizer(3, 2, ema_decay=0.9)
    assert not layer.codebook.trainable and layer.trainable_weights == []  # moved by averages, not by gradient
    start = layer.codebook.numpy()
    np.testing.assert_array_equal(layer.embed_sum.numpy(), start)
    np.testing.assert_array_equal(layer.cluster_size.numpy(), [1.0, 1.0, 1.0])
    # Code 0 takes two vectors summing to (4, 2); codes 1 and 2 none. Sizes 0.9 + 0.1 * (2, 0, 0);
    # sums 0.9 * start + 0.1 * ((4, 2), 0, 0); the smoothed sizes (n_k + eps) / (n + 3 eps) * n.
    layer.update_ema(tf.constant([2.0, 0.0, 0.0]), tf.constant([[4.0, 2.0], [0.0, 0.0], [0.0, 0.0]]))
    size = np.array([1.1, 0.9, 0.9])
    sums = 0.9 * start + 0.1 * np.array([[4.0, 2.0], [0, 0], [0, 0]])
    smoothed = (size + 1e-5) / (size.sum() + 3e-5) * size.sum()
    np.testing.assert_allclose(layer.cluster_size.numpy(), size, rtol=1e-6)
    np.testing.assert_allclose(layer.codebook.numpy(), sums / smoothed[:, None], rtol=1e-5)
    np.testing.assert_allclose(layer.codebook.numpy()[1:], start[1:], rtol=1e-4)  # unused codes stay where they are
    layer.replace(tf.constant([False, True, False]), tf.constant([[9.0, 9.0], [7.0, 8.0], [9.0, 9.0]]))
    assert layer.codebook.numpy()[1].tolist() == [7.0, 8.0] and layer.embed_sum.numpy()[1].tolist() == [7.0, 8.0]
    np.testing.assert_allclose(layer.cluster_size.numpy(), [1.1, 1.0, 0.9], rtol=1e-6)
    np.testing.assert_allclose(layer.codebook.numpy()[[0, 2]], (sums / smoothed[:, None])[[0, 2]], rtol=1e-5)


def test_codes_unused_for_patience_steps_restart_from_encoder_outputs():
    codebook = tf.constant([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    z = tf.constant([[5.0, 6.0], [7.0, 8.0]])
    idle = tf.constant([2, 0, 1])
    counts = tf.constant([0.0, 3.0, 0.0])  # codes 0 and 2 unused this step: idle 3 and 2
    new, idle, dead = quantizer.restart_dead(codebook, idle, counts, z, patience=3, seed=[0, 1])
    assert idle.numpy().tolist() == [0, 0, 2] and dead.numpy().tolist() == [True, False, False]
    assert new.numpy()[0].tolist() in z.numpy().tolist()  # restarted from this batch
    np.testing.assert_array_equal(new.numpy()[1:], codebook.numpy()[1:])


def test_perplexity_and_usage_of_code_counts():
    assert float(quantizer.perplexity(tf.constant([5.0, 5.0, 5.0, 5.0]))) == pytest.approx(4.0)
    assert float(quantizer.perplexity(tf.constant([9.0, 0.0, 0.0, 0.0]))) == pytest.approx(1.0)
    assert float(quantizer.usage(tf.constant([9.0, 0.0, 1.0, 0.0]))) == pytest.approx(0.5)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="num_codes >= 2"):
        VectorQuantizer(1, 4)
    with pytest.raises(ValueError, match="ema_decay"):
        VectorQuantizer(16, 4, ema_decay=1.5)
