"""The dashboard served over loopback to Debian's Chromium, driven by pytest-playwright.

One seeded server (SQLite, the embedded worker, the WHOOP sandbox) per module and one browser
per session keep the run short. Chromium is never downloaded: the system one is used, found at
``SOMNA_CHROMIUM`` or ``/usr/bin/chromium``; without it the tests skip, except under CI=true.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Route

from somna import migrations
from somna.app import create_app
from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.kit.time import utc_now
from somna.sandbox import WhoopConfig, WhoopSandbox
from tests.conftest import make_settings
from tests.support.databases import unavailable
from tests.support.server import free_port, serve_in_thread
from tests.web.support import PASSWORD, Seeded, seed

T = TypeVar("T")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SOURCE = Path(__file__).parent / "vendor" / "axe.min.js"
# Served by the test itself (a Playwright route) from the page's own origin, so the page's
# Content-Security-Policy stays in force while axe-core runs.
AXE_PATH = "/__test__/axe.min.js"


def chromium_path() -> str | None:
    candidates = [os.environ.get("SOMNA_CHROMIUM", ""), "/usr/bin/chromium"]
    candidates.append(shutil.which("chromium") or "")
    return next((path for path in candidates if path and os.access(path, os.X_OK)), None)


def launch_args() -> dict[str, Any]:
    path = chromium_path()
    if path is None:
        unavailable("Chromium", FileNotFoundError("install it with `apt-get install chromium`"))
    return {"executable_path": path, "headless": True, "args": CHROMIUM_FLAGS}


@dataclass(frozen=True)
class Dashboard:
    url: str
    settings: Settings
    seeded: Seeded
    whoop: WhoopSandbox


async def _seed(database_url: str, nights: int) -> Seeded:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await seed(session, datetime.now(UTC).date(), nights=nights)
    finally:
        await engine.dispose()


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on a thread of its own: Playwright's sync API keeps an
    event loop marked as running on this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def seeded_database(folder: Path, *, nights: int = 90) -> tuple[str, Seeded]:
    """A migrated SQLite database in ``folder`` with the seeded organisation."""
    database_url = f"sqlite+aiosqlite:///{folder / 'somna.db'}"
    migrations.upgrade(database_url)
    return database_url, run_apart(_seed(database_url, nights))


def serve_dashboard(folder: Path, *, nights: int = 90) -> Iterator[Dashboard]:
    database_url, seeded = seeded_database(folder, nights=nights)
    whoop = WhoopSandbox(WhoopConfig(seed=11, days=14, per_minute=100_000), people=1)
    whoop.freeze_clock(utc_now())
    port = free_port()
    with whoop:
        settings = make_settings(
            database_url, folder, public_url=f"http://127.0.0.1:{port}", worker_in_app=True,
            whoop_requests_per_minute=0, job_poll_seconds=0.2, **whoop.settings_overrides(),
        )  # fmt: skip
        with serve_in_thread(create_app(settings), port=port) as url:
            yield Dashboard(url, settings, seeded, whoop)


@dataclass
class Watch:
    """What a page did: console errors, uncaught exceptions, every URL it requested."""

    origin: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def request(self, request: Request) -> None:
        self.requests.append(request.url)

    def foreign(self) -> list[str]:
        own = urlsplit(self.origin).netloc
        return [url for url in self.requests if urlsplit(url).netloc != own]

    def page_errors(self, *, allow_status_errors: bool = False) -> list[str]:
        """Console errors; a page answered with 4xx on purpose logs one line, allowed then."""
        return [
            text
            for text in self.errors
            if not (allow_status_errors and "the server responded with a status of 4" in text)
        ]


def watch(context: BrowserContext, page: Page, origin: str) -> Watch:
    seen = Watch(origin)
    page.on("console", seen.console)
    page.on("pageerror", lambda error: seen.errors.append(f"uncaught: {error}"))
    page.on("request", seen.request)

    def serve_axe(route: Route) -> None:
        route.fulfill(body=AXE_SOURCE.read_text(), content_type="application/javascript")

    context.route(f"{origin}{AXE_PATH}", serve_axe)
    return seen


def sign_in(page: Page, url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda target: "/sign-in" not in target)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical violations axe-core finds on the page as it is now."""
    page.add_script_tag(url=AXE_PATH)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": item["id"], "impact": item["impact"], "nodes": [n["target"] for n in item["nodes"]]}
        for item in result["violations"]
        if item["impact"] in ("serious", "critical")
    ]


def api_token(page: Page, url: str, email: str) -> dict[str, str]:
    response = page.request.post(
        f"{url}/api/v1/auth/token", data=json.dumps({"username": email, "password": PASSWORD}),
        headers={"content-type": "application/json"},
    )  # fmt: skip
    assert response.ok, response.text()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
