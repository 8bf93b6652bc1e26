"""What the browser tests share: Debian's Chromium driven by Playwright, a real uvicorn
server over a temporary bank, a tab that fails the test when a page fetches anything from
another host or the Content-Security-Policy blocks something, and :func:`check` (axe-core
finds no violation; a full-page screenshot to test-output/screenshots/).

A test module takes the fixtures by assignment (``browser = support.browser``, ``page =
support.page``) and defines its own module-scoped ``server`` fixture, the base URL of a
server it starts with :func:`serve` over the bank it needs.

Needs /usr/bin/chromium (CI installs it) and axe-core (`make test` runs
`npm install --prefix .cache/npm axe-core@4`).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-output" / "screenshots"
#: the password of the curator ``ana`` the browser tests sign in as
PASSWORD = "curator-pass-1"
#: the marks of every browser test module
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium is not installed (apt-get install chromium); "
                              "CI installs it"),
]
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1200, "height": 900}


def _axe_source() -> str:
    if AXE.is_file():
        return AXE.read_text("utf-8")
    if os.environ.get("CI"):
        pytest.fail(f"{AXE} is missing; run `npm install --prefix .cache/npm axe-core@4` "
                    "(make test does)")
    pytest.skip(f"{AXE} is missing; run `npm install --prefix .cache/npm axe-core@4`")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1 in a thread: its base URL."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port,
                            log_level="warning", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-sync",
                  "--no-first-run", "--disable-component-update",
                  "--disable-default-apps"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A laptop-sized tab on ``server`` that fails the test if a page fetched anything from
    another host, or the pages' Content-Security-Policy had to block something."""
    context = browser.new_context(base_url=server, viewport=LAPTOP)
    tab = context.new_page()
    outside: list[str] = []
    tab.on("request", lambda req: outside.append(req.url)
           if not req.url.startswith(server) and not req.url.startswith("data:") else None)
    refused: list[str] = []  # anything the pages' Content-Security-Policy had to block
    tab.on("console", lambda msg: refused.append(msg.text)
           if "Content Security Policy" in msg.text else None)
    yield tab
    context.close()
    assert outside == [], "the pages fetched something from outside the server"
    assert refused == [], f"the Content-Security-Policy blocked: {refused[:3]}"


def check(page: Any, name: str) -> None:
    """No axe-core violation on the page; keep a full-page screenshot."""
    page.evaluate(_axe_source())  # run by the browser's debugger, as no page script may
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert result == [], f"axe-core violations on {page.url}: {result}"


def fits_the_width(page: Any) -> bool:
    """Nothing scrolls the page sideways (wide tables scroll in their own container)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def sign_in_by_keyboard(page: Any, next_path: str, username: str = "ana",
                        password: str = PASSWORD) -> None:
    """Sign in on the sign-in page by keyboard alone, then land on ``next_path``."""
    page.goto(f"/signin?next={next_path}")
    check(page, "signin")
    page.get_by_label("Username").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Tab")  # tabbing reaches the submit button …
    assert page.evaluate("document.activeElement.type") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")  # … and Enter submits the form
    assert page.url.endswith(next_path)
