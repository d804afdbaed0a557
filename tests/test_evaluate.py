"""python -m tfgan.evaluate: the offline classifier, its features and the metrics on real runs."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tfgan import data
from tfgan import config as config_lib
from tfgan.evaluate import __main__ as cli
from tfgan.evaluate import classifier as classifier_lib
from tfgan.errors import UserError
from tfgan.evaluate import features, report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def mnist(tmp_path_factory):
    """(classifier path, held-out real images in [-1, 1], their labels, Examples the classifier saw)."""
    from conftest import MNIST_IMAGES, MNIST_LABELS

    if not os.path.exists(MNIST_IMAGES):
        pytest.skip("the real MNIST test split is not at ../shared/data/mnist-t10k")
    path = str(tmp_path_factory.mktemp("classifier") / "mnist.keras")
    code = cli.main([
        "train-classifier", "--data", "source=idx", f"path={MNIST_IMAGES}", f"labels_path={MNIST_LABELS}",
        "limit=4000", "--epochs", "3", "--out", path,
    ])
    assert code == 0
    everything = data.load(config_lib.from_overrides([
        "data.source=idx", f"data.path={MNIST_IMAGES}", f"data.labels_path={MNIST_LABELS}",
    ]).data, True, 0)
    held_out = slice(8000, 10000)  # never seen by the classifier (it trained on the first 4,000)
    train_part = data.Examples(everything.samples[:4000], everything.labels[:4000], 10)
    return path, classifier_lib.scale(everything.samples[held_out]), everything.labels[held_out], train_part


def test_train_classifier_reports_held_out_accuracy_and_refuses_to_overwrite(mnist, capsys):
    path, *_ = mnist
    before = os.path.getmtime(path)
    code = cli.main(["train-classifier", "--data", "source=ring", "--out", path])
    err = capsys.readouterr().err
    assert code == 2 and err.strip().endswith("exists; pass --overwrite to replace it") and err.count("\n") == 1
    assert os.path.getmtime(path) == before


def test_train_classifier_seed_sets_the_classifier(mnist, tmp_path):
    # A second classifier (another seed) for a perceptual loss, apart from the one that scores.
    from conftest import MNIST_IMAGES, MNIST_LABELS

    def weights(seed, name):
        path = str(tmp_path / name)
        data_flags = ["source=idx", f"path={MNIST_IMAGES}", f"labels_path={MNIST_LABELS}", "limit=300"]
        assert cli.main(["train-classifier", "--data", *data_flags, "--epochs", "1", "--seed", str(seed), "--out", path]) == 0
        return keras.saving.load_model(path).get_weights()[0]

    one, again, two = weights(1, "a.keras"), weights(1, "b.keras"), weights(2, "c.keras")
    np.testing.assert_array_equal(one, again)
    assert np.abs(one - two).max() > 1e-3


def test_classifier_labels_held_out_digits_and_its_features_tell_real_from_noise(mnist, tmp_path):
    path, real, labels, train_part = mnist
    extractor = features.classifier(path)
    results = report.evaluate_samples(
        real, labels, train_part, ["frechet_distance", "precision_recall", "classifier_score", "class_accuracy"],
        extractor, cache_dir=str(tmp_path),
    )
    assert results["class_accuracy"] > 0.93  # held-out real digits, labels as requested
    assert results["classifier_score"] > 7.0  # confident and balanced over 10 classes (ceiling 10)
    assert results["precision"] > 0.6 and results["recall"] > 0.6  # 2,000 a side: k-NN balls are small
    noise = np.random.default_rng(0).uniform(-1, 1, real.shape).astype(np.float32)
    noisy = report.evaluate_samples(noise, labels, train_part, ["frechet_distance", "precision_recall"], extractor, cache_dir=str(tmp_path))
    assert noisy["frechet_distance"] > 20 * results["frechet_distance"]
    assert noisy["precision"] < 0.1
    # The real features were computed once and then read from the cache.
    assert len(os.listdir(tmp_path)) == 1


def test_evaluate_run_prints_the_metrics_of_a_conditional_run(runs, mnist, tmp_path, capsys):
    run_dir, _ = runs["cgan"]
    path, *_ = mnist
    args = ["run", "--run", run_dir, "--features", f"classifier:{path}", "--samples", "200", "--cache", str(tmp_path)]
    assert cli.main(args) == 0
    lines = dict(line.split() for line in capsys.readouterr().out.splitlines()[1:])
    assert set(lines) == {"frechet_distance", "kid", "kid_std", "precision", "recall", "classifier_score",
                          "classifier_score_std", "class_accuracy"}
    assert 0.0 <= float(lines["class_accuracy"]) <= 1.0 and float(lines["frechet_distance"]) > 0


def test_evaluate_2d_run_reports_modes(tmp_path, capsys):
    from helpers import make_config

    from tfgan import training

    config = make_config(tmp_path)
    training.train(config)
    assert cli.main(["run", "--run", config.run_dir, "--samples", "2500"]) == 0
    out = capsys.readouterr().out
    assert "modes_captured" in out and "reverse_kl" in out


def test_mismatched_shapes_and_unknown_metrics_are_one_line_errors(runs, mnist, capsys):
    path, *_ = mnist
    from conftest import MNIST_IMAGES

    dcgan_run, _ = runs["dcgan"]  # 32x32x3
    assert cli.main(["run", "--run", dcgan_run, "--features", f"classifier:{path}", "--set", "data.source=idx",
                     f"data.path={MNIST_IMAGES}"]) == 2
    assert capsys.readouterr().err.strip() == (
        "tfgan.evaluate: error: the generator makes samples of shape (32, 32, 3) but the data has shape (28, 28, 1)"
    )
    assert cli.main(["run", "--run", dcgan_run, "--features", f"classifier:{path}", "--metrics", "frechet_distance"]) == 2
    assert "the data has samples of shape (32, 32, 3), but the classifier-" in capsys.readouterr().err
    process = subprocess.run(
        [sys.executable, "-m", "tfgan.evaluate", "run", "--run", dcgan_run, "--metrics", "fid"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert process.returncode == 2 and "Traceback" not in process.stderr
    assert process.stderr.strip().splitlines()[-1] == (
        "tfgan.evaluate: error: unknown metric 'fid'; expected one of: frechet_distance, kid, "
        "precision_recall, classifier_score, class_accuracy, ppl, modes"
    )


def test_inception_v3_features_take_generator_images_of_any_size():
    extractor = features.Extractor(
        features._two_headed(__import__("keras").applications.InceptionV3(weights=None, classifier_activation=None), "avg_pool"),
        "inception_v3", (299, 299, 3), resize_to=(299, 299),
    )
    extractor.check((28, 28, 1), "the data")
    feats, probabilities = extractor.extract(np.zeros((2, 28, 28, 1), np.float32))
    assert feats.shape == (2, 2048) and probabilities.shape == (2, 1000)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_inception_without_cached_weights_offline_is_a_one_line_error(monkeypatch, capsys):
    import keras

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    with pytest.raises(UserError, match=r"InceptionV3 weights could not be loaded .* use features from a classifier"):
        features.inception_v3()


def test_eval_block_logs_image_metrics_of_a_conditional_run_to_tensorboard(mnist, tmp_path):
    from conftest import MNIST_IMAGES, MNIST_LABELS
    from helpers import make_config, read_events, scalar

    from tfgan import training

    path, *_ = mnist
    config = make_config(
        tmp_path, data={"source": "idx", "path": MNIST_IMAGES, "labels_path": MNIST_LABELS, "limit": 512},
        model={"network": "dcgan", "conditional": True, "filters": 8, "latent_dim": 8},
        eval={"every": 20, "metrics": ["frechet_distance", "class_accuracy"], "features": f"classifier:{path}",
              "samples": 200, "cache": str(tmp_path / "cache")},
    )
    training.train(config)
    events = read_events(os.path.join(config.run_dir, "tensorboard"))
    assert events["eval/frechet_distance"]["steps"] == [20, 40]
    assert 0.0 <= scalar(events, "eval/class_accuracy", 40) <= 1.0
    assert scalar(events, "eval/frechet_distance", 40) > 0.0


def test_help_is_instant_and_lists_the_metrics():
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from tfgan.evaluate import __main__ as cli\n"
        "try:\n"
        "    cli.parse_args(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script, "run", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    help_text = " ".join(result.stdout.split())
    assert "of: frechet_distance, kid, precision_recall, classifier_score, class_accuracy, ppl, modes" in help_text
    trained = subprocess.run([sys.executable, "-c", script, "train-classifier", "--help"], capture_output=True, text=True, timeout=60)
    assert "--epochs EPOCHS passes over the training 90% of the data (default 5)" in " ".join(trained.stdout.split())
