"""Real-browser tests: headless Chromium driven by Selenium, the app served by waitress.

Use from a test module (the star import brings the fixtures, found by name)::

    from tests.browser import *  # noqa: F403
    from tests.browser import live_server, save_screenshot

``browser`` is a headless Chromium (1280x900, English) for one test. Without
Chromium, chromedriver or Selenium the browser tests are skipped; with
``BACKOFFICE_REQUIRE_BROWSER=1`` (CI) they fail instead, so a broken browser
setup cannot pass as green. ``BACKOFFICE_CHROMIUM`` and
``BACKOFFICE_CHROMEDRIVER`` name the binaries when they are not on ``PATH``.

``live_server(app)`` serves a WSGI app with waitress on 127.0.0.1 (a free port
chosen by the kernel) in a thread, and yields its base URL.

``save_screenshot(driver, name)`` writes ``screenshots/<name>.png`` (git-ignored)
for people to look at; ``BACKOFFICE_SCREENSHOTS`` names another directory.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from waitress.server import create_server

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
except ImportError:  # an optional test dependency: the browser tests skip without it
    webdriver = None
    WebDriverException = OSError

REQUIRE_BROWSER = os.environ.get("BACKOFFICE_REQUIRE_BROWSER") == "1"
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(os.environ.get("BACKOFFICE_SCREENSHOTS") or ROOT / "screenshots")
WINDOW = (1280, 900)


def _binary(variable: str, *names: str) -> str | None:
    chosen = os.environ.get(variable)
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    return next((found for name in names if (found := shutil.which(name))), None)


def _unavailable(reason: str):
    if REQUIRE_BROWSER:
        pytest.fail(f"a browser is required (BACKOFFICE_REQUIRE_BROWSER=1): {reason}")
    pytest.skip(reason)


def chrome_options(chromium: str):
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--lang=en-US",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(argument)
    # English first, so Accept-Language is the same on every machine.
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@pytest.fixture
def browser():
    """A headless Chromium for one test; quit afterwards."""
    if webdriver is None:
        _unavailable("selenium is not installed (pip install -e '.[test]')")
    chromium = _binary("BACKOFFICE_CHROMIUM", "chromium", "chromium-browser", "google-chrome")
    driver_path = _binary("BACKOFFICE_CHROMEDRIVER", "chromedriver")
    if chromium is None or driver_path is None:
        _unavailable("Chromium or chromedriver not found")
    try:
        driver = webdriver.Chrome(
            service=Service(executable_path=driver_path), options=chrome_options(chromium)
        )
    except WebDriverException as exc:
        _unavailable(f"Chromium did not start: {exc}")
    driver.set_window_size(*WINDOW)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@contextmanager
def live_server(app, host: str = "127.0.0.1"):
    """Serve ``app`` in a thread for the duration of the block; yields the base URL."""
    server = create_server(app, host=host, port=0, threads=4, clear_untrusted_proxy_headers=True)
    runner = threading.Thread(target=server.run, name="live-server", daemon=True)
    runner.start()
    try:
        yield f"http://{host}:{server.effective_port}"
    finally:
        _stop(server, runner)


def _stop(server, runner: threading.Thread) -> None:
    """End the server's loop by closing every channel (the listening socket and the
    trigger among them) from the loop's own thread, through the trigger: closed
    from this thread, a socket could vanish under the loop's poll (an OSError, bad
    file descriptor, in the live-server thread). The loop ends when its map is
    empty; then the worker threads are stopped."""
    logging.getLogger("waitress").setLevel(logging.ERROR)

    def close_all():
        for channel in list(server._map.values()):
            channel.handle_close()

    server.trigger.pull_trigger(close_all)
    runner.join(timeout=10)
    while server._map:  # the loop thread is gone (it failed): close from here
        for channel in list(server._map.values()):
            channel.handle_close()
    server.task_dispatcher.shutdown()


def save_screenshot(driver, name: str, *, full_page: bool = True) -> Path:
    """``screenshots/<name>.png``: the whole page, or only the window."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if not full_page:
        driver.save_screenshot(str(path))
        return path
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    try:
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {
                    "x": 0,
                    "y": 0,
                    "width": size["width"],
                    "height": size["height"],
                    "scale": 1,
                },
            },
        )
    except WebDriverException:  # Chromium refuses now and then (after a resize): the window
        driver.save_screenshot(str(path))
        return path
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def console_errors(driver) -> list[str]:
    """Severe messages of the page's console since the last call (failed loads, JS errors)."""
    return [
        entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"
    ]


def horizontal_overflow(driver) -> int:
    """How many CSS pixels the page is wider than the window (0 when it fits)."""
    return driver.execute_script(
        "const root = document.documentElement;"
        "return Math.max(0, root.scrollWidth - root.clientWidth);"
    )


def click_and_wait(driver, wait, element) -> None:
    """Click what leads to another page and wait until that page has loaded.

    The page being left is marked (a property of its window object, which a
    new document does not have); the wait ends when the window answering is
    unmarked and its document complete. Asking the old page's elements
    whether they went stale raced with the navigation: Chromium sometimes
    answered "Node with given id does not belong to the document" instead.
    """
    driver.execute_script("window.__leaving = true;")
    element.click()
    wait.until(_arrived)


def _arrived(driver) -> bool:
    try:
        return driver.execute_script(
            "return !window.__leaving && document.readyState === 'complete';"
        )
    except WebDriverException:  # between two documents
        return False
