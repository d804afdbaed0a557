"""`data.source: shapes`: a disc and a square per image, where the layout says, apart."""

import math

import numpy as np
import pytest

from tfgan import config, data
from tfgan.data import shapes
from tfgan.errors import ConfigError


def test_each_image_is_a_background_a_disc_and_a_square_where_the_layout_says():
    images, layout = shapes.draw(200, size=32, seed=3)
    assert images.shape == (200, 32, 32, 3) and images.dtype == np.uint8
    centres = np.arange(32) + 0.5
    x, y = np.meshgrid(centres, centres)  # x along a row, y down the image
    for i in range(200):
        (dx, dy), r = layout.disc_centre[i], layout.disc_radius[i]
        (sx, sy), h = layout.square_centre[i], layout.square_half[i]
        assert r <= dx <= 32 - r and r <= dy <= 32 - r and h <= sx <= 32 - h and h <= sy <= 32 - h  # wholly inside
        disc = (x - dx) ** 2 + (y - dy) ** 2 <= r**2
        square = (abs(x - sx) <= h) & (abs(y - sy) <= h)
        assert not (disc & square).any()  # apart
        for mask in (disc, square, ~(disc | square)):  # each region one plain colour
            assert len(np.unique(images[i][mask], axis=0)) == 1
        background, disc_colour = images[i][~(disc | square)][0].astype(int), images[i][disc][0].astype(int)
        assert background.max() <= 64 and disc_colour.min() >= 96 and disc_colour.max() >= 192
        # Pixel counts against the closed forms, within a pixel's worth of their perimeters.
        assert abs(disc.sum() - math.pi * r**2) <= 2 * math.pi * r
        assert abs(square.sum() - (2 * h) ** 2) <= 8 * h + 1


def test_the_same_seed_draws_the_same_images_and_another_seed_others():
    a, layout_a = shapes.draw(50, size=16, seed=0)
    b, layout_b = shapes.draw(50, size=16, seed=0)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(layout_a.disc_centre, layout_b.disc_centre)
    assert not np.array_equal(a, shapes.draw(50, size=16, seed=1)[0])
    sizes = shapes.draw(300, size=64, seed=0)[1].disc_radius / 64  # sizes scale with the image
    assert 0.1 <= sizes.min() and sizes.max() <= 0.2 and sizes.std() > 0.02


def test_the_shapes_source_loads_through_the_config_with_padding_and_channels():
    settings = config.from_dict({"data": {"source": "shapes", "num_examples": 12, "resolution": 16, "pad": 2, "channels": 1}})
    examples = data.load(settings.data, False, seed=5)
    assert examples.sample_shape == (20, 20, 1) and len(examples) == 12 and examples.num_classes == 0
    expected = shapes.draw(12, 16, seed=5)[0]
    assert examples.samples[:, 2:18, 2:18].std() > 20 and (examples.samples[:, :2] == 0).all()  # drawn, then padded black
    luminance = expected @ np.array([0.2989, 0.587, 0.114])  # tf.image.rgb_to_grayscale's weights
    assert np.abs(examples.samples[:, 2:18, 2:18, 0].astype(int) - luminance).max() <= 1  # the drawing, in grey


@pytest.mark.parametrize("settings, message", [
    ({"data": {"source": "shapes", "resolution": 4}}, "data.resolution: expected a size >= 8 for source 'shapes', got 4"),
    ({"data": {"source": "shapes"}, "model": {"network": "dcgan", "conditional": True}},
     "model.conditional: expected false for the unlabelled source 'shapes'"),
])
def test_shapes_settings_that_cannot_work_are_refused(settings, message):
    with pytest.raises(ConfigError, match=message):
        config.from_dict(settings)


def test_a_dcgan_trains_on_shapes_from_the_command_line(tmp_path):
    from tfgan import fit

    run_dir = tmp_path / "run"
    (tmp_path / "shapes.yaml").write_text("data: {source: shapes, num_examples: 64, resolution: 16}\n"
                                          "model: {network: dcgan, latent_dim: 8, dcgan: {filters: 8}}\n")
    code = fit.main(["--config", str(tmp_path / "shapes.yaml"), "--set", "train.steps=4", "train.batch_size=16", "log.every=2",
                     "log.images_every=4", "checkpoint.every=4", f"run_dir={run_dir}"])
    assert code == 0 and (run_dir / "checkpoints" / "checkpoint").exists()
    assert config.load(str(run_dir / "config.yaml")).data.source == "shapes"


def test_find_sees_every_drawn_image_as_clean_and_its_shapes_where_the_layout_says():
    for size in (32, 64):
        images, layout = shapes.draw(300, size=size, seed=4)
        for pixels in (images, images / 127.5 - 1.0):  # as drawn, and as a generator draws (floats in [-1, 1])
            found = shapes.find(pixels)
            assert found.clean.all()
            # A square's centre is its pixels' to half a pixel; a disc's (symmetric pixels) closer.
            assert np.abs(found.square_centre - layout.square_centre).max() <= 0.5
            assert np.abs(found.disc_centre - layout.disc_centre).max() <= 0.35
            assert found.parts() == {"clean": 1.0, "two_regions": 1.0, "plain_background": 1.0, "plain_regions": 1.0, "squares": 0.5, "discs": 0.5}


def test_find_calls_blobs_extra_specks_mottled_colours_and_two_squares_unclean():
    images, layout = shapes.draw(5, size=32, seed=6)
    centres = np.arange(32) + 0.5
    x, y = np.meshgrid(centres, centres)
    spoiled = images.copy()
    (dx, dy), r = layout.disc_centre[0], layout.disc_radius[0]  # 0: the disc painted over by its bounding square
    spoiled[0][(abs(x - dx) <= r) & (abs(y - dy) <= r)] = images[0][int(dy), int(dx)]
    far = (np.hypot(x - layout.disc_centre[1, 0], y - layout.disc_centre[1, 1]) > 12) & \
          (np.hypot(x - layout.square_centre[1, 0], y - layout.square_centre[1, 1]) > 12)
    fy, fx = np.argwhere(far)[0]
    spoiled[1, fy, fx] = 255  # 1: a stray bright pixel, a third region
    rng = np.random.default_rng(0)
    spoiled[2] = np.clip(images[2] + rng.normal(0, 40, images[2].shape) * (images[2].max(-1, keepdims=True) > 128), 0, 255)  # 2: mottled shapes
    spoiled[3] = np.clip(images[3] + rng.normal(0, 30, images[3].shape) * (images[3].max(-1, keepdims=True) <= 64), 0, 255)  # 3: a noisy background
    (sx, sy), h = layout.square_centre[4], layout.square_half[4]
    blob = np.hypot(x - sx, (y - sy) / 2.2) <= h  # 4: the square smeared into a tall ellipse
    spoiled[4][(abs(x - sx) <= h) & (abs(y - sy) <= h)] = images[4][0, 0]
    spoiled[4][blob] = images[4][int(sy), int(sx)]
    found = shapes.find(spoiled)
    assert found.clean.tolist() == [False] * 5
    # What each spoiled image still got right: two squares; a third region (a one-pixel square);
    # no plain shape; a background that is not plain, its brightest specks regions of their own;
    # a disc and a shape of neither outline.
    assert found.regions.tolist()[:3] == [2, 3, 2] and found.regions[3] > 3 and found.regions[4] == 2
    assert found.plain_background.tolist() == [True, True, True, False, True]
    assert found.plain_regions.tolist()[:3] == [2, 3, 0] and found.plain_regions[4] == 2
    assert found.squares[[0, 1, 2, 4]].tolist() == [2, 2, 0, 0] and found.discs.tolist() == [0, 1, 0, 1, 1]
    assert np.isnan(found.disc_centre).all() and shapes.find(images).clean.all()  # each spoiled image was clean before


def test_regions_give_each_drawn_shape_its_centre_colour_and_kind():
    images, layout = shapes.draw(20, 32, seed=5)
    for image, disc, square in zip(images, layout.disc_centre, layout.square_centre):
        found = {region.kind: region for region in shapes.regions(image)}
        assert set(found) == {"disc", "square"}
        np.testing.assert_allclose(found["disc"].centre, disc, atol=0.5)
        np.testing.assert_allclose(found["square"].centre, square, atol=0.5)
        np.testing.assert_array_equal(found["disc"].colour, image[found["disc"].pixels][0])  # one colour inside
    # As a generator draws them, in [-1, 1]: the same regions.
    again = shapes.regions(images[0].astype(np.float32) / 127.5 - 1.0)
    assert [r.kind for r in again] == [r.kind for r in shapes.regions(images[0])]
