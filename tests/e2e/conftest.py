"""The dashboard as a user starts it (`python server.py`), and Chromium from the OS packages
driven by Playwright. Screenshots land under artifacts/screenshots/ (CI keeps them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from agent_core.testing.environment import unconfigured_environment
from agent_core.testing.net import free_port, wait_for_http
from tests.conftest import ROOT, service_missing

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "artifacts" / "screenshots"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def running_dashboard(database: Path, **settings: str) -> Iterator[str]:
    """`python server.py` over `database` (on a free port unless PORT is given); yields its
    URL, stops it after."""
    port = settings.pop("PORT", None) or str(free_port())
    env = unconfigured_environment(SQLITE_PATH=str(database), PORT=port, **settings)
    # A file, not a pipe: nobody reads a pipe while the tests run, and a server whose access
    # log fills the pipe's buffer stops answering.
    log = database.with_suffix(".log")
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "server.py"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    if not wait_for_http(f"{url}/_stcore/health"):
        server.kill()
        pytest.fail(f"the dashboard did not start:\n{log.read_text(errors='replace')}")
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        service_missing("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    yield opened
    context.close()


def shoot(page: Page, name: str) -> None:
    """Save a full-page screenshot as artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _again_after_a_rerun(act: Callable[[], None], done: Callable[[], None]) -> None:
    """`act`, then `done` (which fails within seconds when the act was lost); up to three
    times. A Streamlit rerun that redraws a widget mid-act drops what the act did (seen on a
    loaded machine), so the act is made again."""
    for attempt in range(3):
        act()
        try:
            done()
            return
        except (AssertionError, PlaywrightTimeoutError):
            if attempt == 2:
                raise


def send_message(page: Page, box: Locator, message: str) -> None:
    """Type a message in a chat box and send it, until the conversation shows it (a rerun
    between typing and Enter drops what was typed)."""

    def send() -> None:
        box.fill(message)
        box.press("Enter")

    shown = page.get_by_test_id("stChatMessage").filter(has_text=message).first
    _again_after_a_rerun(send, lambda: expect(shown).to_be_visible(timeout=10_000))


def choose(box: Locator, option: Locator, typed: str = "") -> None:
    """Open a select box (typing `typed` to narrow its list) and pick `option` (a rerun
    closes the list before the option is clicked)."""

    def open_list() -> None:
        box.click()
        if typed:
            box.page.keyboard.type(typed)

    _again_after_a_rerun(open_list, lambda: option.click(timeout=10_000))
