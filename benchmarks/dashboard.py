"""The person page in Chromium: JavaScript and CSS bytes transferred (gzip on) and the time
from navigation to the hypnogram drawn, with 90 nights of data.

    .venv/bin/python -m benchmarks.dashboard            # --runs 15 --nights 90

It seeds the organisation the browser tests use (SQLite), serves it with ``somna serve`` in a
process of its own, signs in, then loads the person page ``--runs`` times, each in a fresh
browser context so that every run downloads every asset. Bytes are what Chromium's network
layer received (headers and gzipped bodies) for scripts and style sheets. "Drawn" is the
``hypnogram-drawn`` performance mark ``assets/app.js`` sets right after uPlot has rendered;
beside it stand the same navigation's own milestones (HTML received, DOMContentLoaded, load),
the baseline the chart adds to.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, sync_playwright
from tests.conftest import TEST_SECRET
from tests.support.server import free_port
from tests.web.browser import launch_args, seeded_database, sign_in

from somna import __version__

ASSET_TYPES = ("Script", "Stylesheet")
STATIC = Path(__file__).parents[1] / "src" / "somna" / "web" / "static"
# What the person page loads (it has no self-refreshing part, so no htmx).
ASSETS = ("app.js", "app.css", "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css")


def _signed_in_state(browser: Browser, url: str, email: str) -> Any:
    context = browser.new_context()
    sign_in(context.new_page(), url, email)
    state = context.storage_state()
    context.close()
    return state


def _one_run(browser: Browser, url: str, state: Any, path: str) -> dict[str, Any]:
    """One navigation in a new context: the session cookie, an empty cache."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, storage_state=state)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    kinds: dict[str, str] = {}
    received: dict[str, float] = {}
    cdp.on("Network.responseReceived", lambda e: kinds.__setitem__(e["requestId"], e["type"]))
    cdp.on(
        "Network.loadingFinished",
        lambda e: received.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    page.goto(f"{url}{path}", wait_until="load")
    page.wait_for_selector("#hypnogram[data-drawn='1']")
    timing = page.evaluate(
        """() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const mark = performance.getEntriesByName('hypnogram-drawn')[0];
          return {drawn: mark.startTime, response_end: nav.responseEnd,
                  dom_content_loaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd};
        }"""
    )
    assets = sum(size for rid, size in received.items() if kinds.get(rid) in ASSET_TYPES)
    context.close()
    return {**timing, "asset_bytes": assets, "all_bytes": sum(received.values())}


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):7.1f} {p90:7.1f} {ordered[0]:7.1f}"


def _serve(folder: str, database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SOMNA_DATABASE_URL": database_url,
        "SOMNA_DATA_DIR": folder,
        "SOMNA_SECRET_KEY": TEST_SECRET,
        "SOMNA_LOG_LEVEL": "WARNING",
        "SOMNA_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "somna", "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code < 500:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("somna serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--nights", type=int, default=90)
    args = parser.parse_args()
    raw = sum((STATIC / name).stat().st_size for name in ASSETS)
    with tempfile.TemporaryDirectory() as folder:
        database_url, seeded = seeded_database(Path(folder), nights=args.nights)
        port = free_port()
        server = _serve(folder, database_url, port)
        url = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(**launch_args())
                path = f"/people/{seeded.person.id}"
                state = _signed_in_state(browser, url, seeded.owner_email)
                runs = [_one_run(browser, url, state, path) for _ in range(args.runs)]
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    load = os.getloadavg()[0]
    print(f"somna {__version__}, Python {platform.python_version()}, {args.nights} nights, "
          f"{args.runs} runs, load average {load:.1f}")  # fmt: skip
    print(f"JS+CSS on the person page: {runs[0]['asset_bytes']:,.0f} bytes received "
          f"({raw:,} bytes uncompressed); whole page {runs[0]['all_bytes']:,.0f} bytes")  # fmt: skip
    print("milliseconds from navigation start    median     p90    best")
    for key, label in [("response_end", "HTML received"),
                       ("dom_content_loaded", "DOMContentLoaded"),
                       ("load", "load event"), ("drawn", "hypnogram drawn")]:  # fmt: skip
        print(f"  {label:<34} {_summary([run[key] for run in runs])}")


if __name__ == "__main__":
    main()
