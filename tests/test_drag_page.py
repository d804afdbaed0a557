"""The DragGAN page in a real browser (headless Chromium through Playwright): a drag
moves the handle shown toward its target and changes the image; Stop, Undo and a
bad upload behave as a user expects."""

import time
import urllib.request

import numpy as np
import pytest

from page_driver import browser_page, drag, new_sample, served, shown_handles, wait


@pytest.fixture(scope="module")
def url(stylegan2_run):
    from tfgan.drag.app import Editor
    from tfgan.export import run

    generator, _, _ = run.load_generator(stylegan2_run["run_dir"])
    # A larger step than the default 2e-3: the tiny run is 4 steps old, and the test should be brief.
    editor = Editor(generator, run.load_discriminator(stylegan2_run["run_dir"], generator), max_steps=40, invert_steps=20, learning_rate=0.1)
    with served(editor) as address:
        yield address, editor


def test_a_drag_in_the_browser_moves_the_handle_toward_its_target_and_changes_the_image(url):
    url, _ = url
    with browser_page(url) as page:
        new_sample(page, 4)
        before = page.get_attribute("#image", "data-image")
        drag(page, (4, 5), (12, 5))
        (handle,) = shown_handles(page)
        assert np.hypot(handle[0] - 12, handle[1] - 5) < 8 - 2  # it started 8 px away
        assert page.get_attribute("#image", "data-image") != before
        status = page.text_content("#status")
        assert "D's score" in status and ("arrived" in status or "stopped" in status)
        assert "target (12, 5)" in page.text_content("#handles")


def test_stop_ends_a_drag_between_steps_and_undo_restores_the_image_before_it(url):
    url, editor = url
    editor.max_steps = 100_000  # a drag that only Stop ends
    try:
        _stop_then_undo(url)
    finally:
        editor.max_steps = 40


def _stop_then_undo(url):
    with browser_page(url) as page:
        new_sample(page, 7)
        before = page.get_attribute("#image", "data-image")
        page.mouse.click(*_pixel(page, 3, 3))
        page.mouse.click(*_pixel(page, 3, 14))
        page.click("#start")
        wait(page, "+document.getElementById('status').dataset.steps >= 2")
        page.click("#stop")
        wait(page, "document.getElementById('status').dataset.running === 'false'")
        steps = int(page.get_attribute("#status", "data-steps"))
        assert steps >= 2 and "stopped" in page.text_content("#status")
        dragged = page.get_attribute("#image", "data-image")
        assert _pixels(dragged).shape == _pixels(before).shape and np.abs(_pixels(dragged) - _pixels(before)).max() > 2
        page.click("#undo")
        wait(page, f"document.getElementById('image').dataset.image !== {dragged!r} && document.getElementById('status').dataset.steps === '0'")
        # The image before the drag, rendered again (to the rounding of a pixel).
        assert np.abs(_pixels(page.get_attribute("#image", "data-image")) - _pixels(before)).max() <= 1


def test_an_upload_that_is_not_an_image_is_refused_with_a_message(url, tmp_path):
    url, _ = url
    (tmp_path / "notes.png").write_text("not an image")
    with browser_page(url) as page:
        page.set_input_files("#upload", str(tmp_path / "notes.png"))
        wait(page, "document.getElementById('message').textContent.length > 0")
        assert page.text_content("#message") == "the upload is not an image; expected a PNG or JPEG"


def _pixel(page, x, y):
    box = page.locator("#image").bounding_box()
    scale = box["width"] / int(page.evaluate("state.side"))
    return box["x"] + (x + 0.5) * scale, box["y"] + (y + 0.5) * scale


def _pixels(data):
    """The picture of a base64 PNG, as int [H, W, C]."""
    import base64
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data)))).astype(int)


def test_an_uploaded_image_is_inverted_and_becomes_the_image_to_edit(url, tmp_path):
    from PIL import Image

    url, _ = url
    picture = np.zeros((16, 16, 3), np.uint8)
    picture[4:12, 4:12] = (250, 120, 40)  # an orange square on black
    Image.fromarray(picture).save(tmp_path / "square.png")
    with browser_page(url) as page:
        new_sample(page, 1)
        before = page.get_attribute("#image", "data-image")
        page.set_input_files("#upload", str(tmp_path / "square.png"))
        wait(page, "document.getElementById('message').textContent.startsWith('inverted: PSNR')")
        assert float(page.text_content("#message").split("PSNR ")[1].split(" dB")[0]) > 0
        assert np.abs(_pixels(page.get_attribute("#image", "data-image")) - _pixels(before)).max() > 2
        assert page.text_content("#status").startswith("step 0 · ready")


def test_clicks_on_the_image_while_a_new_sample_loads_place_no_point(url):
    url, editor = url
    sample = editor.sample

    def slow_sample(*args):
        time.sleep(1.5)
        return sample(*args)

    editor.sample = slow_sample
    try:
        with browser_page(url) as page:
            page.fill("#seed", "5")
            page.click("#sample")
            page.mouse.click(*_pixel(page, 3, 3))
            page.mouse.click(*_pixel(page, 9, 3))
            assert page.evaluate("document.body.dataset.loading") == "1" and shown_handles(page) == []
            wait(page, "document.body.dataset.loading === '0'")
            assert shown_handles(page) == []
            assert _pixels(page.get_attribute("#image", "data-image")).tolist() == _pixels(editor.snapshot()["image"]).tolist()
            page.mouse.click(*_pixel(page, 3, 3))  # the new sample takes clicks
            page.mouse.click(*_pixel(page, 9, 3))
            assert shown_handles(page) == [(3, 3)]
    finally:
        del editor.sample


def test_the_server_answers_while_an_upload_is_inverted(url, tmp_path):
    from PIL import Image

    url, editor = url
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(tmp_path / "grey.png")
    editor.invert_steps = 1000
    try:
        with browser_page(url) as page:
            page.set_input_files("#upload", str(tmp_path / "grey.png"))
            started, answers = time.monotonic(), []
            while page.evaluate("document.body.dataset.loading") != "0":
                asked = time.monotonic()
                with urllib.request.urlopen(url + "api/state", timeout=120) as response:
                    assert response.status == 200
                answers.append(time.monotonic() - asked)
                time.sleep(0.1)
            inverting = time.monotonic() - started
            assert page.text_content("#message").startswith("inverted: PSNR")
    finally:
        editor.invert_steps = 20
    # The inversion took seconds; the page's other requests were answered meanwhile, not after it.
    assert inverting > 3 and len(answers) > 5 and max(answers) < 1.0, (inverting, answers)
