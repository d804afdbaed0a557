"""Folder and tfds images larger than data.cache_mb stream from their files, in the
seeded, resumable order of the in-memory pipeline (tfgan/data/streaming.py)."""

import os

import numpy as np
import pytest

from tfgan import config as config_lib
from tfgan import data, training
from tfgan.data import streaming, tfds_source
from tfgan.errors import UserError


def folder(tmp_path, num=40, size=(20, 16), classes=2):
    """`num` distinct random colour images, one sub-folder per class."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(num):
        os.makedirs(tmp_path / f"c{i % classes}", exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(tmp_path / f"c{i % classes}" / f"{i:03d}.png")
    return str(tmp_path)


def load(conditional=False, **kwargs):
    return data.load(config_lib.from_dict({"data": kwargs}).data, conditional, 0)


def batches(examples, num, **kwargs):
    dataset = examples.dataset(8, 3, **kwargs)
    return [tuple(np.asarray(t) for t in b) if isinstance(b, tuple) else np.asarray(b) for b in dataset.take(num)]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for part_x, part_y in zip(*(t if isinstance(t, tuple) else (t,) for t in (x, y))):
            np.testing.assert_array_equal(part_x, part_y)


def test_a_streamed_folder_gives_the_in_memory_batches_also_resumed_and_at_a_lower_resolution(tmp_path):
    path = folder(tmp_path)
    memory = load(True, source="folder", path=path, resolution=16, pad=2)
    streamed = load(True, source="folder", path=path, resolution=16, pad=2, cache_mb=0)
    assert isinstance(memory, data.Examples) and isinstance(streamed, streaming.StreamedImages)
    assert streamed.sample_shape == memory.sample_shape == (20, 20, 3) and len(streamed) == 40 and streamed.num_classes == 2
    # 12 batches of 8 cross two epochs of 40; a run resumed after 5 batches (40 examples) and after 7 continues exactly.
    whole = batches(memory, 12)
    assert_same(batches(streamed, 12), whole)
    assert_same(batches(streamed, 7, start_example=40), whole[5:])
    assert_same(batches(streamed, 5, start_example=56), whole[7:])
    assert whole[0][0].shape == (8, 20, 20, 3) and whole[0][0].min() >= -1.0 and (whole[0][1] < 2).all()
    # A phase of progressive growing averages the streamed images down as it does in memory.
    assert_same(batches(streamed, 6, resolution=5), batches(memory, 6, resolution=5))
    assert_same(streamed.take(10).samples, memory.samples[:10])


def test_a_phase_whose_images_fit_is_decoded_once_and_gives_the_streamed_batches(tmp_path):
    streamed = load(source="folder", path=folder(tmp_path), resolution=16, cache_mb=0)
    expected = batches(streamed, 7, resolution=8, start_example=13)
    streamed.cache_bytes = 40 * 8 * 8 * 3 * 4  # the 8x8 phase fits as float32; 16x16 does not
    assert streamed.cache_fits(8) and not streamed.cache_fits(16)
    cached = batches(streamed, 7, resolution=8, start_example=13)
    assert streamed._cache[0] == 8 and streamed._cache[1].shape == (40, 8, 8, 3)
    np.testing.assert_allclose(np.stack(cached), np.stack(expected), atol=1e-6)
    batches(streamed, 1, resolution=16)  # the next phase streams, and the 8x8 images are let go
    assert streamed._cache is None


@pytest.fixture
def mock_mnist(monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setattr(tfds_source, "network_available", lambda: True)
    with tfds.testing.mock_data(num_examples=40):
        yield


def test_a_streamed_tfds_split_visits_every_record_once_per_epoch_and_resumes_exactly(mock_mnist):
    streamed = load(True, source="tfds", name="mnist", cache_mb=0)
    memory = load(True, source="tfds", name="mnist")
    assert isinstance(streamed, streaming.StreamedImages) and len(streamed) == 40 and streamed.num_classes == 10
    whole = batches(streamed, 10)  # two epochs of 5 batches
    epochs = [np.concatenate([x for x, _ in whole[e * 5 : (e + 1) * 5]]) for e in (0, 1)]
    stored = np.stack(sorted(data.pipeline.scale(memory.samples).numpy(), key=lambda x: x.tobytes()))
    for images in epochs:  # each epoch is a permutation of the split
        np.testing.assert_array_equal(np.stack(sorted(images, key=lambda x: x.tobytes())), stored)
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled per epoch
    assert_same(batches(streamed, 7, start_example=24), whole[3:])  # resumed inside the first epoch
    assert_same(streamed.take(5).samples, memory.samples[:5])


@pytest.mark.parametrize("damage, reason", [("replaced", "not a PNG, JPEG, GIF or BMP"), ("truncated", "Invalid PNG data")])
def test_a_file_that_does_not_decode_stops_a_streamed_run_with_its_name_and_a_checkpoint(tmp_path, damage, reason):
    path = folder(tmp_path / "images", num=24, classes=1)
    bad = os.path.join(path, "c0", "007.png")
    with open(bad, "rb") as f:
        png = f.read()
    with open(bad, "wb") as f:  # a truncated PNG passes the check of the leading bytes; decode_image fails unnamed
        f.write(b"<html>not an image</html>" if damage == "replaced" else png[: len(png) // 2])
    config = config_lib.from_dict({
        "run_dir": str(tmp_path / "run"), "data": {"source": "folder", "path": path, "resolution": 8, "cache_mb": 0},
        "model": {"network": "dcgan", "latent_dim": 8, "dcgan": {"filters": 8}},
        "train": {"steps": 20, "batch_size": 8}, "log": {"every": 5, "images_every": 10, "verbose": 0}, "checkpoint": {"every": 10},
    })
    with pytest.raises(UserError, match=rf"^cannot decode image \S*c0/007.png \({reason}.*\); saved .*--resume$"):
        training.train(config)
    assert os.path.exists(tmp_path / "run" / "checkpoints" / "checkpoint")


def test_a_negative_cache_size_is_refused():
    with pytest.raises(UserError, match=r"data.cache_mb: expected a number of megabytes >= 0"):
        config_lib.from_dict({"data": {"cache_mb": -1}})


class MeanColour:
    """A stand-in feature extractor: each image's mean colour; counts the images it sees."""

    name, seen = "mean-colour", 0

    def extract(self, samples):
        self.seen += len(samples)
        return samples.mean(axis=(1, 2)), None


def test_real_features_of_a_streamed_folder_are_those_in_memory_and_cached_under_the_same_key(tmp_path):
    from tfgan.evaluate import report

    path = folder(tmp_path / "images", num=30)
    memory = load(source="folder", path=path, resolution=8)
    streamed = load(source="folder", path=path, resolution=8, cache_mb=0)
    extractor, cache = MeanColour(), str(tmp_path / "cache")
    expected = report.real_features(extractor, memory, cache, limit=25)
    assert expected.shape == (25, 3) and extractor.seen == 25
    np.testing.assert_allclose(report.real_features(extractor, streamed, cache, limit=25), expected)
    assert extractor.seen == 25 and len(os.listdir(cache)) == 1  # the streamed images hash to the same cached file
    np.testing.assert_allclose(report.real_features(MeanColour(), streamed, None, limit=25), expected, atol=1e-6)
