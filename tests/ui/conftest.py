"""Browser fixtures: one live collector loaded with ``mllineage demo`` (and one with API keys on
over the same database), and one Chromium for the whole run, driven by Playwright.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``.ci/run``); Playwright never downloads
a browser here. Without it the browser tests skip, unless ``CI`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from mllineage.client import LineageClient
from mllineage.client.demo import demo_events
from mllineage.collector.app import create_app
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.settings import Settings
from tests.servers import running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
API_KEY = "ui-test-reader"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "ui"


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('ui') / 'demo.db'}"
    engine = make_engine(url, pool_size=2)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def demo_server(demo_database: str) -> Iterator[str]:
    """A collector on its own SQLite file with the demo workflow loaded through the client."""
    with running_server(create_app(Settings(database_url=demo_database))) as url:
        with LineageClient(url) as client:
            client.post_events(demo_events())
        yield url


@pytest.fixture(scope="session")
def keyed_server(demo_server: str, demo_database: str) -> Iterator[str]:
    """The same demo data behind API keys (read-only key ``API_KEY``)."""
    settings = Settings(database_url=demo_database, api_keys={API_KEY: ["read"]})
    with running_server(create_app(settings)) as url:
        yield url


HUB_READERS = 40


@pytest.fixture(scope="session")
def hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A collector whose one table is read by ``HUB_READERS`` jobs (a fan-out to collapse)."""
    from tests.collector.events import dataset, run_event

    url = f"sqlite:///{tmp_path_factory.mktemp('hub') / 'hub.db'}"
    engine = make_engine(url, pool_size=2)
    upgrade(engine)
    engine.dispose()
    hub = dataset("postgres://warehouse:5432", "public.customers")
    events = [
        run_event(
            "COMPLETE",
            i,
            job=("spark", f"reader_{i:03d}"),
            inputs=[hub],
            outputs=[dataset("s3://features", f"reader_{i:03d}_out")],
        )
        for i in range(HUB_READERS)
    ]
    with running_server(create_app(Settings(database_url=url))) as base:
        with LineageClient(base) as client:
            client.post_events(events)
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Console:
    """Console errors and uncaught page errors seen by one page."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.expected: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def expect(self, text: str) -> None:
        """Errors containing ``text`` are expected (the browser logs every 401 it receives)."""
        self.expected.append(text)

    def _message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} at {message.location}")

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(text in e for text in self.expected)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh page (own session storage) that fails the test on any console error."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme="light")
    page = context.new_page()
    page.set_default_timeout(10_000)
    console.watch(page)
    yield page
    context.close()
    assert console.unexpected() == []


def screenshot(page: Page, name: str) -> None:
    """Write docs/ui/<name>.png (the README shows the current ones)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
