"""Playwright in Debian's Chromium against the live test server.

Never `playwright install`: the browser is /usr/bin/chromium. Without it these tests skip, or fail
under REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import chromium_path, need_service
from tests.factories import TEST_PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "var" / "screenshots")
)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.services)
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    need_service(path is not None, "Chromium is not installed (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 860}, base_url=live_server.url)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.js_errors = errors
    yield pg
    context.close()


@pytest.fixture
def login(page):
    def do(user, password: str = TEST_PASSWORD):
        page.goto("/accounts/login/")
        page.fill("#id_login", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return do


def settle(page) -> None:
    """Wait until htmx is done: no request in flight and the swapped-in content wired up.

    htmx pushes the new URL and swaps before it processes the new content (after its 20 ms
    settle delay), so acting as soon as the URL changes may act on elements that ignore it."""
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots (or $SCREENSHOT_DIR) and return it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# The two widths every changed page is looked at in: a desktop and a phone.
SIZES = {"desktop": {"width": 1366, "height": 860}, "phone": {"width": 390, "height": 844}}


def axe_violations(
    page, within: str | None = None, impacts: tuple[str, ...] | None = None
) -> list[str]:
    """axe-core's violations on the page as it is now (axe-playwright-python), one line each;
    only inside the elements matching the CSS selector `within`, when given, and only those of
    the given `impacts` ("minor", "moderate", "serious", "critical"; all when None)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context={"include": [[within]]} if within else None)
    return [
        f"{v['id']} ({v.get('impact')}): {v['help']} ({len(v['nodes'])}, e.g. "
        + "; ".join(str(n.get("target")) for n in v["nodes"][:3])
        + ")"
        for v in results.response["violations"]
        if impacts is None or v.get("impact") in impacts
    ]


# The findings a person can't work around: what the acceptance tests forbid on every page.
SERIOUS = ("serious", "critical")


def fits(page, size: str) -> bool:
    """Nothing pushes the page wider than the screen (a table may scroll inside its own box)."""
    return page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"] + 1


def every_look(page, path: str, name: str, expected: tuple[str, ...] = ()) -> list[str]:
    """Open `path` in both themes at both sizes, screenshot each as `<name>-<theme>-<size>`, and
    return what is wrong with each look: an `expected` text missing from the main part, the page
    wider than the screen, axe-core's violations (an empty list when all is well)."""
    problems = []
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for size in SIZES:
            page.set_viewport_size(SIZES[size])
            page.evaluate(f"localStorage.setItem('theme', '{theme}')")
            page.goto(path)
            settle(page)
            screenshot(page, f"{name}-{theme}-{size}")
            where = f"{theme}, {size}"
            text = page.locator("main").inner_text()
            problems += [f"{where}: {e!r} missing" for e in expected if e not in text]
            if not fits(page, size):
                problems.append(f"{where}: wider than the screen")
            problems += [f"{where}: {v}" for v in axe_violations(page)]
    return problems
