"""Serving the DragGAN page in a thread and driving it in headless Chromium (the system's,
not Playwright's download, which cannot work offline): the browser test's machinery,
and what takes the README's screenshot (benchmarks/drag_page.py)."""

import contextlib
import os
import shutil
import socket
import threading
import time

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextlib.contextmanager
def served(editor):
    """The page of `editor` at http://127.0.0.1:PORT/ for the block."""
    import uvicorn

    from tfgan.drag.app import create_app

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(editor), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the page's server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextlib.contextmanager
def browser_page(url):
    """A Playwright page of headless Chromium at `url`."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise RuntimeError("the browser test needs Chromium from the system packages: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 640})
            page.goto(url)
            page.wait_for_function("document.body.dataset.loading === '0' && document.getElementById('status').textContent.startsWith('step')")
            yield page
        finally:
            browser.close()


def click_pixel(page, x, y):
    """Clicks pixel (x, y) of the image on the page's canvas."""
    box = page.locator("#image").bounding_box()
    side = int(page.evaluate("state.side"))
    scale = box["width"] / side
    page.mouse.click(box["x"] + (x + 0.5) * scale, box["y"] + (y + 0.5) * scale)


def new_sample(page, seed):
    """Asks for the sample of `seed` and waits until its image is the one shown (the status
    reads "step 0 · ready" before the answer too, so that alone would not do)."""
    page.fill("#seed", str(seed))
    page.click("#sample")  # the click handler marks the page loading before it returns
    wait(page, "document.body.dataset.loading === '0' && document.getElementById('status').textContent.startsWith('step 0 · ready')")


def drag(page, handle, target, timeout_ms=120_000):
    """Clicks the handle and the target, presses Start, and waits until the drag has ended."""
    click_pixel(page, *handle)
    click_pixel(page, *target)
    page.click("#start")
    wait(page, "document.getElementById('status').dataset.running === 'false' && +document.getElementById('status').dataset.steps > 0",
         timeout_ms)


def wait(page, condition, timeout_ms=30_000):
    """Waits for the JavaScript `condition`; on a timeout, fails saying what the page and the server show."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(condition, timeout=timeout_ms)
    except PlaywrightTimeout:
        server = page.evaluate("fetch('/api/state').then(r => r.json())")
        server.pop("image", None)
        raise AssertionError(f"waited {timeout_ms / 1000:.0f} s for {condition}; the page shows "
                             f"{page.text_content('#status')!r}, message {page.text_content('#message')!r}; the server {server}") from None


def shown_handles(page):
    """The handles the page lists, [(x, y), ...]."""
    items = page.locator("#handles li.handle")
    return [(int(items.nth(i).get_attribute("data-x")), int(items.nth(i).get_attribute("data-y"))) for i in range(items.count())]
