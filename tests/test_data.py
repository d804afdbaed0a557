import gzip
import os

import numpy as np
import pytest
import tensorflow as tf

from tfgan import config, data
from tfgan.data import files, mixtures, tfds_source
from tfgan.errors import UserError


def data_config(**kwargs):
    return config.from_dict({"data": kwargs}).data


def test_real_mnist_idx_files_load_with_their_labels(mnist_paths):
    images, labels = mnist_paths
    examples = data.load(data_config(source="idx", path=images, labels_path=labels), conditional=True, seed=0)
    assert examples.samples.shape == (10000, 28, 28, 1) and examples.samples.dtype == np.uint8
    assert examples.num_classes == 10
    # The class counts the data's README gives.
    assert np.bincount(examples.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_batches_are_scaled_to_minus_one_one_and_carry_labels(mnist_paths):
    images, labels = mnist_paths
    examples = data.load(data_config(source="idx", path=images, labels_path=labels, limit=500), True, 0)
    x, y = next(iter(examples.dataset(64, seed=0)))
    assert x.shape == (64, 28, 28, 1) and x.dtype == tf.float32
    assert x.numpy().min() == -1.0 and x.numpy().max() == 1.0
    assert y.dtype == tf.int32 and set(y.numpy()) <= set(range(10))


def test_data_order_is_seeded_and_a_resumed_stream_continues_exactly():
    examples = data.Examples(np.arange(100, dtype=np.uint8).reshape(100, 1, 1, 1), None, 0)
    stream = iter(examples.dataset(8, seed=3))
    batches = [next(stream).numpy().ravel() for _ in range(30)]  # crosses two epoch boundaries
    resumed = iter(examples.dataset(8, seed=3, start_example=17 * 8))
    for step in range(17, 30):
        np.testing.assert_array_equal(next(resumed).numpy().ravel(), batches[step])
    # Every epoch is a permutation: the first 96 values (12 batches) repeat none.
    assert len(set(np.concatenate(batches[:12]).tolist())) == 96
    other = next(iter(examples.dataset(8, seed=4))).numpy().ravel()
    assert not np.array_equal(other, batches[0])


def test_too_few_examples_for_a_step_is_a_user_error():
    examples = data.Examples(np.zeros((10, 2), np.float32), None, 0)
    with pytest.raises(UserError, match="10 examples but one step needs 64"):
        examples.dataset(64, seed=0)


@pytest.mark.parametrize("name, modes, std", [("ring", 8, 0.01), ("grid", 25, 0.05)])
def test_mixtures_have_the_published_modes_and_spread(name, modes, std):
    points = data.load(data_config(source=name, num_examples=20000), False, 0).samples
    centres = mixtures.centres(name)
    assert len(centres) == modes
    nearest = np.linalg.norm(points[:, None] - centres[None], axis=-1).argmin(1)
    offsets = points - centres[nearest]
    assert abs(offsets.std() - std) < 0.05 * std
    assert np.bincount(nearest, minlength=modes).min() > 0.8 * 20000 / modes
    if name == "ring":
        np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1.0)
    else:
        assert sorted(set(centres[:, 0])) == [-4, -2, 0, 2, 4]


def test_npz_source_with_labels_and_resize(tmp_path):
    path = tmp_path / "d.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.integers(0, 256, (20, 40, 30, 3), dtype=np.uint8), y=np.arange(20) % 4)
    examples = data.load(data_config(source="npz", path=str(path), resolution=16, channels=1), True, 0)
    assert examples.samples.shape == (20, 16, 16, 1) and examples.num_classes == 4


def test_npz_errors_name_the_file_and_the_missing_array(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, images=np.zeros((4, 8, 8), np.uint8))
    with pytest.raises(UserError, match="has no array 'x' \\(data.image_key\\); it holds: images"):
        data.load(data_config(source="npz", path=str(path)), False, 0)
    with pytest.raises(UserError, match="model.conditional needs labels"):
        data.load(data_config(source="npz", path=str(path), image_key="images"), True, 0)
    with pytest.raises(UserError, match=".npz file not found"):
        data.load(data_config(source="npz", path=str(tmp_path / "missing.npz")), False, 0)


def test_image_folder_with_one_sub_folder_per_class(tmp_path):
    from PIL import Image

    for label, colour in enumerate([(255, 0, 0), (0, 0, 255)]):
        os.makedirs(tmp_path / f"class_{label}")
        for i in range(3):
            Image.new("RGB", (50, 40), colour).save(tmp_path / f"class_{label}" / f"{i}.png")
    examples = data.load(data_config(source="folder", path=str(tmp_path), resolution=32), True, 0)
    assert examples.samples.shape == (6, 32, 32, 3) and examples.num_classes == 2
    red = examples.samples[examples.labels == 0]
    assert (red[..., 0] == 255).all() and (red[..., 2] == 0).all()


def test_idx_reader_rejects_files_that_are_not_idx(tmp_path):
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"PK\x03\x04 not an idx file")
    with pytest.raises(UserError, match="not an idx file"):
        files.read_idx(str(path))
    truncated = tmp_path / "short.gz"
    with gzip.open(truncated, "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\0" * 100)
    with pytest.raises(UserError, match=r"header says shape \(10, 28, 28\)"):
        files.read_idx(str(truncated))


def test_tfds_dataset_by_name_through_the_mock(monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setattr(tfds_source, "network_available", lambda: True)
    with tfds.testing.mock_data(num_examples=40):
        examples = data.load(data_config(source="tfds", name="mnist"), True, 0)
        colour = data.load(data_config(source="tfds", name="mnist", resolution=32, channels=3), False, 0)
    assert examples.samples.shape == (40, 28, 28, 1) and examples.num_classes == 10
    assert colour.samples.shape == (40, 32, 32, 3) and colour.labels is None


def test_tfds_without_network_fails_fast_and_says_how_to_use_local_files(monkeypatch, tmp_path):
    monkeypatch.setattr(tfds_source, "network_available", lambda: False)
    with pytest.raises(UserError, match="network is unreachable.*--set data.source=idx data.path="):
        data.load(data_config(source="tfds", name="mnist", tfds_data_dir=str(tmp_path)), False, 0)


@pytest.mark.parametrize("low, high, levels", [(0.0, 1.0, 256), (-1.0, 1.0, 256)])
def test_float_npz_images_in_either_range_keep_all_256_levels(tmp_path, low, high, levels):
    path = tmp_path / "f.npz"
    ramp = np.linspace(low, high, 256, dtype=np.float32).reshape(1, 16, 16)
    np.savez(path, x=np.repeat(ramp, 4, axis=0))
    images = data.load(data_config(source="npz", path=str(path)), False, 0).samples
    assert images.dtype == np.uint8 and len(np.unique(images)) == levels
    assert images.min() == 0 and images.max() == 255  # -1 (or 0) is black, 1 is white
    explicit = data.load(data_config(source="npz", path=str(path), range=[low, high]), False, 0).samples
    np.testing.assert_array_equal(explicit, images)


@pytest.mark.parametrize(
    "arrays, settings, message",
    [
        ({"x": np.full((4, 8, 8), 200.0)}, {}, r"'x'\): float images must lie in \[0, 1\] or \[-1, 1\], found values in \[200, 200\]"),
        ({"x": np.array([[[0.5, np.nan]]] * 4)}, {}, r"'x'\): 4 values are NaN or infinite"),
        ({"x": np.full((4, 8, 8), -0.5)}, {"range": [0, 1]}, r"data.range is \[0.0, 1.0\] but the values lie in \[-0.5, -0.5\]"),
        ({"x": np.full((4, 8, 8), 300, np.int32)}, {}, r"integer images must lie in \[0, 255\], found values in \[300, 300\]"),
        ({"x": np.zeros((4, 8, 8), np.uint8), "y": np.array([0, 1.5, 2, 3])}, {}, r"'y'\): labels must be whole class indices, found 1.5"),
        ({"x": np.zeros((4, 8, 8), np.uint8), "y": np.zeros((4, 10))}, {}, r"'y'\): expected labels of shape \[N\] .*got shape \(4, 10\)"),
    ],
)
def test_npz_data_that_would_be_silently_corrupted_is_refused(tmp_path, arrays, settings, message):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(UserError, match=message):
        data.load(data_config(source="npz", path=str(path), **settings), True, 0)


def test_a_npy_file_or_the_images_file_as_labels_is_refused(tmp_path, mnist_paths):
    np.save(tmp_path / "x.npy", np.zeros((4, 8, 8), np.uint8))
    with pytest.raises(UserError, match=r"x.npy is a .npy array, not an .npz archive .*np.savez\(path, x=images, y=labels\)"):
        data.load(data_config(source="npz", path=str(tmp_path / "x.npy")), False, 0)
    images, _ = mnist_paths
    with pytest.raises(UserError, match=r"t10k-images-idx3-ubyte.gz: expected labels of shape \[N\] .*got shape \(10000, 28, 28\)"):
        data.load(data_config(source="idx", path=images, labels_path=images), True, 0)


def test_a_corrupt_image_in_a_folder_is_named(tmp_path):
    from PIL import Image

    os.makedirs(tmp_path / "a")
    for i in range(300):  # more than one decoding batch: the bad file is in the second
        Image.new("L", (10, 12), i % 256).save(tmp_path / "a" / f"{i:03d}.png")
    (tmp_path / "a" / "270.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(UserError, match=r"cannot decode image .*a/270.png"):
        data.load(data_config(source="folder", path=str(tmp_path), resolution=8), False, 0)
    os.remove(tmp_path / "a" / "270.png")
    examples = data.load(data_config(source="folder", path=str(tmp_path), resolution=8, channels=1), False, 0)
    assert examples.samples.shape == (299, 8, 8, 1) and examples.samples[5].min() == 5
