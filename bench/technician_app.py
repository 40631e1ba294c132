"""The technicians' app on a phone: first-load JavaScript, offline cold start, Fast-3G sync.

Run: ``python -m bench.technician_app [--runs 5]``. Needs the built app
(``make technician-app``) and Debian's Chromium; Lighthouse is used only if ``npx
--no-install lighthouse`` finds it.

What it does, on a throw-away SQLite database built by the real migrations and seeded like
the browser tests (``tests/technician_app/conftest.py``, whose helpers it imports), plus
enough jobs that technician "anna" holds 40:

1. adds up the gzip-9 size of every JavaScript file ``dist/index.html`` loads at startup
   (its module scripts and modulepreloads, and the static imports inside them);
2. signs in on a Pixel 7 profile, lets the first sync finish and the service worker take
   control, closes the page, goes offline and opens ``/app/`` in a new page, timing from
   navigation start (``performance.now()``) until 40 job cards are on screen; median of
   ``--runs``;
3. offline, taps four steps on seven jobs (28 steps) and takes three photos on two of them
   (6 photos), then goes online under CDP Fast-3G emulation and presses Sync, timing until
   "All sent" and adding up the request bodies the server received;
4. runs Lighthouse (its default, mobile) on ``/app/`` when it is installed (that path has not
   been run here: Lighthouse is not in the project).

It prints the figures and the target checks (PASS/FAIL); it never fails on a missed target.

What it does not measure: the cold start is a new page in the same browser, so the browser
process (and possibly the service worker) is already running, not a phone reboot. The CDP
throttling is set on the page's session; requests the service worker makes itself may not
be throttled by it (Chromium applies page emulation to the worker only in some versions),
so the Fast-3G time is a lower bound if the app syncs from the worker. The byte count is
the request bodies (``Content-Length``) the server received under ``/api/`` while the sync
ran, counted by a WSGI wrapper in this process: no headers, no responses, no TLS, no
retried chunks the emulation dropped before they reached the server.
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "technician_app" / "dist"
FIRST_LOAD_LIMIT = 150 * 1024
COLD_START_LIMIT = 1.0
JOBS = 40
#: Chrome DevTools' "Fast 3G" preset (bytes per second, milliseconds).
FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
    "uploadThroughput": 750 * 1024 / 8 * 0.9,
}
STEPS = ["accept", "start_travel", "arrive", "start_work"]
LIGHTHOUSE_TARGETS = {"performance": 90, "accessibility": 95, "best-practices": 95}
IMPORT = re.compile(r"""(?:import|export)\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+\.js)["']""")


class _StartupScripts(HTMLParser):
    """Collect the module scripts and modulepreloads of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.sources.append(str(values["src"]))
        if tag == "link" and values.get("rel") == "modulepreload" and values.get("href"):
            self.sources.append(str(values["href"]))


def dist_file(url: str) -> Path:
    """Return the file under dist/ that an ``/app/…`` URL serves."""
    return DIST / url.split("?")[0].removeprefix("/app/").lstrip("/")


def first_load_js() -> list[tuple[str, int, int]]:
    """Return (file, raw bytes, gzip-9 bytes) for each JS file loaded at startup."""
    parser = _StartupScripts()
    parser.feed((DIST / "index.html").read_text(encoding="utf-8"))
    pending = [dist_file(src) for src in parser.sources if src.endswith(".js")]
    seen: dict[Path, tuple[int, int]] = {}
    while pending:
        path = pending.pop()
        if path in seen or not path.is_file():
            continue
        data = path.read_bytes()
        seen[path] = (len(data), len(gzip.compress(data, compresslevel=9)))
        # Static imports only: dynamic import() chunks load later, on demand.
        text = data.decode("utf-8", errors="replace")
        for target in IMPORT.findall(re.sub(r"import\s*\(", "", text)):
            pending.append((path.parent / target).resolve())
    return [(str(p.relative_to(DIST)), raw, packed) for p, (raw, packed) in sorted(seen.items())]


def seed_extra_jobs(app: Any, technician_id: int, count: int) -> list[int]:
    """Assign ``count`` more jobs, spread over today's shift, to the technician."""
    from server.extensions import db
    from server.models import Category, Customer, User
    from server.services.work_orders import apply_transition, create_work_order, update_work_order

    with app.app_context():
        category = db.session.query(Category).filter_by(code="HVAC-REPAIR").one()
        customer = db.session.query(Customer).first()
        dispatcher = db.session.query(User).filter_by(username="disp").one()
        site = customer.sites[0]
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        ids = []
        for index in range(count):
            order = create_work_order(
                {
                    "category_id": category.id,
                    "customer_id": customer.id,
                    "site_id": site.id,
                    "asset_id": site.assets[0].id,
                    "title": f"Bench job {index + 1}",
                    "description": "Seeded by bench.technician_app.",
                },
                dispatcher,
            )
            apply_transition(
                order, "assign", dispatcher, {"assignee_id": technician_id}, order.version
            )
            begins = start + timedelta(minutes=10 * index)
            update_work_order(
                order,
                {"scheduled_start_at": begins, "scheduled_end_at": begins + timedelta(hours=1)},
                dispatcher,
                order.version,
            )
            ids.append(order.id)
        db.session.commit()
        return ids


class BodyCounter:
    """Count the request bodies the server receives under /api/ (WSGI middleware)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests = 0
        self.bytes = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/api/"):
            with self.lock:
                self.requests += 1
                self.bytes += int(environ.get("CONTENT_LENGTH") or 0)
        return self.app(environ, start_response)

    def reset(self) -> None:
        """Start counting from zero."""
        with self.lock:
            self.requests = 0
            self.bytes = 0


def start_server(workdir: Path) -> tuple[dict[str, Any], Any, threading.Thread]:
    """Serve Fieldwork on a free port over a fresh, seeded SQLite database."""
    from werkzeug.serving import make_server

    from tests.integration.races import make_app
    from tests.technician_app.conftest import seed_app

    app = make_app(f"sqlite:///{workdir / 'bench.db'}", workdir / "instance", migrate=True)
    data = seed_app(app)
    anna = sum(1 for name in data["jobs"] if name not in ("zh_one", "zh_two", "not_yours"))
    data["extra"] = seed_extra_jobs(app, data["techs"]["anna"], JOBS - anna)
    data["counter"] = BodyCounter(app)
    server = make_server("127.0.0.1", 0, data["counter"], threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    data["url"] = f"http://127.0.0.1:{server.server_port}"
    data["app"] = app
    return data, server, thread


def noisy_photo(seed: int) -> dict[str, Any]:
    """Return a camera-sized JPEG with enough detail to stay large after the app's resize."""
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    small = Image.frombytes("RGB", (220, 165), rng.randbytes(220 * 165 * 3))
    image = small.resize((2400, 1800), Image.Resampling.BICUBIC).filter(ImageFilter.SMOOTH)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return {"name": f"IMG_{seed}.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def cold_start(context: Any, runs: int) -> tuple[list[float], int]:
    """Return the offline cold-start times (s) and the cards seen on the last run."""
    from tests.technician_app.conftest import go_offline, go_online

    go_offline(context)
    times = []
    cards = 0
    try:
        for _ in range(runs):
            for old in list(context.pages):
                old.close()
            page = context.new_page()
            page.goto("/app/", wait_until="commit")
            page.wait_for_function(
                "(n) => document.querySelectorAll('[data-testid=job-card]').length >= n",
                arg=JOBS,
                timeout=30000,
                polling="raf",
            )
            times.append(page.evaluate("performance.now()") / 1000)
            cards = page.locator("[data-testid=job-card]").count()
    finally:
        go_online(context)
    return times, cards


def queue_day(page: Any, job_ids: list[int]) -> int:
    """Offline: tap four steps on each job and take three photos on the first two."""
    from tests.technician_app.test_offline_day import tap_step

    photos = 0
    for index, job_id in enumerate(job_ids):
        page.goto(f"/app/jobs/{job_id}")
        page.wait_for_selector("[data-testid=job-screen]")
        for name in STEPS:
            tap_step(page, name)
        if index < 2:
            for shot in range(3):
                page.locator("[data-testid=photo-camera]").set_input_files(
                    noisy_photo(index * 3 + shot)
                )
                page.locator("[data-testid=photo-thumb]").nth(shot).wait_for()
                photos += 1
    return photos


def replay(context: Any, page: Any, job_ids: list[int], counter: BodyCounter) -> dict[str, Any]:
    """Queue a day offline, then sync it under Fast 3G; return the figures."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    from tests.technician_app.conftest import go_offline, go_online

    go_offline(context)
    photos = queue_day(page, job_ids)
    unsent = page.locator("[data-testid=unsent-count]").inner_text()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    counter.reset()
    began = time.perf_counter()
    # Playwright's set_offline(False) clears the emulation, so throttle right after it. The
    # app starts syncing on its own when it sees the network come back; press Sync unless
    # it is already busy (the button is disabled while a sync runs).
    go_online(context)
    cdp.send("Network.emulateNetworkConditions", FAST_3G)
    try:
        page.locator("[data-testid=sync-now]").click(timeout=2000)
    except PlaywrightTimeoutError:
        pass  # disabled: the app's own sync on reconnect is already running
    page.locator("[data-testid=unsent-count]").filter(has_text="All sent").wait_for(timeout=600000)
    seconds = time.perf_counter() - began
    cdp.send(
        "Network.emulateNetworkConditions",
        {**FAST_3G, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    return {
        "steps": len(job_ids) * len(STEPS),
        "photos": photos,
        "unsent": unsent,
        "seconds": seconds,
        "requests": counter.requests,
        "bytes": counter.bytes,
    }


def lighthouse(url: str) -> dict[str, float] | None:
    """Return Lighthouse's category scores for ``url``, or None if it is not installed."""
    import json
    import os

    npx = shutil.which("npx")
    if npx is None:
        return None
    check = subprocess.run(  # noqa: S603
        [npx, "--no-install", "lighthouse", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check.returncode != 0:
        return None
    result = subprocess.run(  # noqa: S603
        [
            npx,
            "--no-install",
            "lighthouse",
            url,
            "--output=json",
            "--quiet",
            "--chrome-flags=--headless --no-sandbox",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ, "CHROME_PATH": shutil.which("chromium") or "chromium"},
    )
    categories = json.loads(result.stdout)["categories"]
    return {name: round(100 * categories[name]["score"]) for name in LIGHTHOUSE_TARGETS}


def verdict(ok: bool) -> str:
    """Return PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def main() -> None:
    """Run the four measurements and print them."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="offline cold starts (default 5)")
    args = parser.parse_args()
    if not (DIST / "index.html").is_file():
        raise SystemExit("The app is not built: run `make technician-app`.")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise SystemExit("Chromium is not installed (apt package chromium).")

    files = first_load_js()
    total = sum(packed for _, _, packed in files)
    print("First-load JavaScript (gzip -9):")
    for name, raw, packed in files:
        print(f"  {name:40} {raw / 1024:8.1f} KB raw {packed / 1024:8.1f} KB gzip")
    print(
        f"First-load JS: {total / 1024:.1f} KB gzip (limit {FIRST_LOAD_LIMIT // 1024} KB):"
        f" {verdict(total <= FIRST_LOAD_LIMIT)}"
    )

    from playwright.sync_api import sync_playwright

    from tests.conftest import dispose
    from tests.technician_app.conftest import phone_options, sign_in

    with tempfile.TemporaryDirectory(prefix="fieldwork-bench-app-") as tmp:
        workdir = Path(tmp)
        data, server, thread = start_server(workdir)
        try:
            with sync_playwright() as playwright:
                context = playwright.chromium.launch_persistent_context(
                    str(workdir / "profile"),
                    executable_path=executable,
                    headless=True,
                    args=["--no-sandbox"],
                    **phone_options(playwright, data["url"]),
                )
                context.set_default_timeout(30000)
                page = context.pages[0]
                sign_in(page, "anna", data["password"])
                page.evaluate("async () => { await navigator.serviceWorker.ready; }")
                page.reload()
                page.wait_for_selector("[data-testid=job-card]")
                times, cards = cold_start(context, args.runs)
                median = statistics.median(times)
                print(
                    f"Offline cold start, {cards} cards: median {median:.3f} s of {len(times)}"
                    f" (min {min(times):.3f}, max {max(times):.3f}; limit"
                    f" {COLD_START_LIMIT:.0f} s): {verdict(median <= COLD_START_LIMIT)}"
                )

                page = context.pages[0]
                page.goto("/app/")
                page.wait_for_selector("[data-testid=job-card]")
                figures = replay(context, page, data["extra"][:7], data["counter"])
                print(
                    f"Fast-3G replay: {figures['steps']} steps + {figures['photos']} photos"
                    f" ({figures['unsent']} before sync) sent in {figures['seconds']:.1f} s,"
                    f" {figures['requests']} requests, {figures['bytes'] / 1024:.1f} KB of"
                    " request bodies received by the server (no target)"
                )
                context.close()

            scores = lighthouse(f"{data['url']}/app/")
            if scores is None:
                print(
                    "Lighthouse: SKIP (not installed: npm i -D lighthouse@<a release that"
                    " supports Node 20> in a scratch folder)"
                )
            else:
                for name, target in LIGHTHOUSE_TARGETS.items():
                    print(
                        f"Lighthouse {name}: {scores[name]} (target {target}):"
                        f" {verdict(scores[name] >= target)}"
                    )
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
            if "app" in data:
                dispose(data["app"])


if __name__ == "__main__":
    main()
