"""Sample-quality metrics against closed forms and hand computations."""

import math

import numpy as np
import pytest

from tfgan.metrics import (
    GaussianStats, class_accuracy, frechet_distance, inception_score, kernel_inception_distance,
    mmd2_unbiased, mode_report, perceptual_path_length, precision_recall,
)


def stats(mean, cov):
    return GaussianStats(np.asarray(mean, float), np.asarray(cov, float), 1000)


def test_frechet_distance_of_diagonal_gaussians_is_mean_gap_plus_std_gaps():
    # |(1, 2)|² + (1 - 2)² + (2 - 1)² with standard deviations (1, 2) and (2, 1).
    d2 = frechet_distance(stats([0, 0], np.diag([1, 4])), stats([1, 2], np.diag([4, 1])))
    assert d2 == pytest.approx(7.0, abs=1e-9)


def test_frechet_distance_of_non_commuting_covariances_matches_the_2x2_closed_form():
    # For 2x2 PSD A, tr(A^½) = sqrt(tr A + 2 sqrt(det A)); A = S1^½ S2 S1^½ has
    # tr A = tr(S1 S2) and det A = det S1 det S2.
    s1 = np.array([[2.0, 0.8], [0.8, 1.0]])
    rotation = np.array([[math.cos(0.7), -math.sin(0.7)], [math.sin(0.7), math.cos(0.7)]])
    s2 = rotation @ np.diag([3.0, 0.5]) @ rotation.T
    trace_sqrt = math.sqrt(np.trace(s1 @ s2) + 2 * math.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    expected = 0.25 + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    assert frechet_distance(stats([0, 0], s1), stats([0.5, 0], s2)) == pytest.approx(expected, abs=1e-9)
    assert frechet_distance(stats([0, 0], s1), stats([0, 0], s1)) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_from_samples_approaches_the_population_value():
    rng = np.random.default_rng(0)
    a = rng.normal([0, 0], [1, 2], size=(200_000, 2))
    b = rng.normal([1, 2], [2, 1], size=(200_000, 2))
    assert frechet_distance(GaussianStats.of(a), GaussianStats.of(b)) == pytest.approx(7.0, rel=0.02)


def test_gaussian_stats_round_trip_through_a_cache_file(tmp_path):
    original = GaussianStats.of(np.random.default_rng(1).normal(size=(50, 4)))
    original.save(tmp_path / "real.npz")
    loaded = GaussianStats.load(tmp_path / "real.npz")
    np.testing.assert_array_equal(loaded.cov, original.cov)
    assert loaded.count == 50 and list(tmp_path.iterdir()) == [tmp_path / "real.npz"]


def test_unbiased_mmd_matches_a_hand_computation():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([[2.0, 0.0], [0.0, 0.0]])
    k = lambda a, b: (np.dot(a, b) / 2 + 1) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(3) for j in range(3) if i != j) / 6
    yy = sum(k(y[i], y[j]) for i in range(2) for j in range(2) if i != j) / 2
    xy = sum(k(a, b) for a in x for b in y) / 6
    assert mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, abs=1e-12)


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(2000, 8))
    same, _ = kernel_inception_distance(real, rng.normal(size=(2000, 8)), subsets=20, subset_size=500)
    shifted, _ = kernel_inception_distance(real, rng.normal(0.5, 1, size=(2000, 8)), subsets=20, subset_size=500)
    assert abs(same) < 0.01 < shifted


def test_precision_and_recall_on_a_hand_built_example():
    # Real points 0, 1, 2, 3 with k=1: every real ball has radius 1. Fake 0.5 is
    # inside, fake 10 is not: precision 1/2. The fakes' balls have radius 9.5 and
    # the one at 0.5 covers every real point: recall 1.
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[0.5], [10.0]])
    assert precision_recall(real, fake, k=1) == (0.5, 1.0)
    # A generator that draws only near 0 is precise but covers little.
    precision, recall = precision_recall(real, np.array([[0.0], [0.1], [-0.1]]), k=1)
    assert precision == 1.0 and recall == 0.25


def test_inception_score_is_the_class_count_for_confident_balanced_samples_and_one_for_a_single_class():
    confident = np.tile(np.eye(10), (10, 1))  # 100 samples, each class 10 times
    assert inception_score(confident, splits=10)[0] == pytest.approx(10.0, rel=1e-6)
    assert inception_score(np.tile(np.eye(10)[:1], (100, 1)), splits=10)[0] == pytest.approx(1.0)
    assert inception_score(np.full((100, 10), 0.1), splits=10)[0] == pytest.approx(1.0)


def test_class_accuracy_counts_samples_drawn_as_the_requested_class():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert class_accuracy(probabilities, [0, 1, 1, 1]) == 0.75


@pytest.mark.parametrize("metric", [
    lambda a, b: frechet_distance(GaussianStats.of(a), GaussianStats.of(b)),
    kernel_inception_distance,
    precision_recall,
])
def test_feature_sets_of_different_width_are_refused(metric):
    with pytest.raises(ValueError, match="differ in width: 4 and 3"):
        metric(np.zeros((10, 4)), np.zeros((10, 3)))


def test_mode_report_on_a_hand_built_sample_of_the_ring_protocol():
    centres = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    std = 0.01
    samples = np.array([
        [1.0, 0.02],    # mode 0, 2 std away: high quality
        [1.0, -0.02],   # mode 0
        [0.0, 1.029],   # mode 1, 2.9 std: high quality
        [-1.0, 0.031],  # mode 2, 3.1 std: nearest to mode 2 but not high quality
        [0.5, 0.5],     # between modes
    ])
    report = mode_report(samples, centres, std)
    assert (report.modes_captured, report.num_modes) == (2, 4)
    assert report.high_quality == pytest.approx(3 / 5)
    # High-quality histogram (2, 1, 0, 0)/3 against uniform over 4 modes.
    assert report.reverse_kl == pytest.approx(2 / 3 * math.log(2 / 3 * 4) + 1 / 3 * math.log(1 / 3 * 4))


def test_ppl_is_the_mean_squared_step_over_epsilon_squared_without_the_outer_percentiles():
    # 1,000 pairs whose squared feature distances are 1e-8 * (1, 2, ..., 1000): over epsilon^2 = 1e-8
    # they are 1 ... 1000. The 1st percentile (lower) is 10 and the 99th (higher) 991, so the PPL
    # is the mean of 10 ... 991.
    epsilon = 1e-4
    start = np.zeros((1000, 3))
    end = np.zeros((1000, 3))
    end[:, 1] = epsilon * np.sqrt(np.arange(1, 1001))
    assert perceptual_path_length(start, end, epsilon, normalize=False) == pytest.approx(500.5, rel=1e-9)


def test_ppl_normalizes_features_so_that_their_scale_does_not_count():
    # Unit vectors at an angle theta apart are 2 - 2 cos(theta) apart, squared, at any length.
    theta, epsilon = 1e-3, 1e-4
    angles = np.zeros(50)
    start = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    end = np.stack([np.cos(angles + theta), np.sin(angles + theta)], axis=1)
    expected = (2 - 2 * np.cos(theta)) / epsilon**2
    assert perceptual_path_length(7 * start, 0.5 * end, epsilon) == pytest.approx(expected, rel=1e-6)
    assert perceptual_path_length(7 * start, 0.5 * end, epsilon, normalize=False) > 100 * expected
