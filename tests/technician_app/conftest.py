"""Browser tests of the technicians' app: a live server on a real database, Pixel 7 Chromium.

The server runs in a thread over a database of its own (SQLite, or PostgreSQL with
``--db=postgresql``) built by the real migrations, like the console's browser tests. The app
is the real build (``make technician-app``); Playwright drives Debian's Chromium with the
service worker allowed. Screenshots go to ``tests/technician_app/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BUILD = Path(__file__).resolve().parents[2] / "technician_app" / "dist"
CHECKLIST = [
    {"key": "power_off", "en": "Power isolated", "zh_CN": "已断电"},
    {"key": "pressure", "en": "Refrigerant pressure checked", "zh_CN": "已检查冷媒压力"},
]


def seed_app(app: Any) -> dict[str, Any]:
    """Commit a dispatcher, two technicians (en, zh_CN), a customer and their jobs."""
    from server.extensions import db
    from server.models import Category, Priority, Role
    from server.services.customers import create_customer
    from server.services.users import create_technician_profile, create_user
    from server.services.work_orders import apply_transition, create_work_order, update_work_order
    from tests.factories import PASSWORD, _password_hash

    with app.app_context():
        hashed = _password_hash()
        dispatcher = create_user(
            username="disp", password="", role=Role.DISPATCHER, password_hash=hashed
        )
        shifts = [(day, time(0), time(23, 59)) for day in range(7)]
        techs = {}
        for username, name, locale in (
            ("anna", "Anna Field", "en"),
            ("liwei", "Li Wei 李伟", "zh_CN"),
            ("other", "Otto Other", "en"),
        ):
            tech = create_user(
                username=username,
                password="",
                role=Role.TECHNICIAN,
                display_name=name,
                locale=locale,
                password_hash=hashed,
            )
            create_technician_profile(tech, skills=[("hvac", 4)], working_hours=shifts)
            techs[username] = tech
        hvac = Category(
            code="HVAC-REPAIR",
            name_en="Air-conditioning repair",
            name_zh="空调维修",
            workflow_name="repair",
            required_skill="hvac",
            default_priority=Priority.NORMAL,
            checklist=CHECKLIST,
        )
        db.session.add(hvac)
        customer = create_customer(
            {
                "name": "Lianhua Supermarket 上海联华超市",
                "is_company": True,
                "contacts": [
                    {
                        "name": "Zhou Min 周敏",
                        "phone": "+86 21 5555 0101",
                        "email": "zhou@example.com",
                        "is_primary": True,
                    }
                ],
                "sites": [
                    {
                        "address": "1266 West Nanjing Road 南京西路1266号",
                        "district": "Jing'an 静安区",
                        "city": "Shanghai",
                        "latitude": 31.229,
                        "longitude": 121.455,
                        "access_notes": "Loading dock at the back, code 4711",
                        "assets": [{"model": "Daikin VRV", "serial_number": "DK0001"}],
                    }
                ],
            },
            actor=None,
        )
        site = customer.sites[0]
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        jobs: dict[str, int] = {}

        def job(key: str, tech: str, title: str, hours: int, **extra: Any) -> None:
            order = create_work_order(
                {
                    "category_id": hvac.id,
                    "customer_id": customer.id,
                    "site_id": site.id,
                    "asset_id": site.assets[0].id,
                    "title": title,
                    "description": f"{title}: reported by the store manager.",
                    **extra,
                },
                dispatcher,
            )
            apply_transition(
                order, "assign", dispatcher, {"assignee_id": techs[tech].id}, order.version
            )
            update_work_order(
                order,
                {
                    "scheduled_start_at": start + timedelta(hours=hours),
                    "scheduled_end_at": start + timedelta(hours=hours + 1),
                },
                dispatcher,
                order.version,
            )
            jobs[key] = order.id

        job("cold_room", "anna", "Cold room too warm", 0)
        job("leak", "anna", "Water dripping from the vent", 1)
        job("emergency", "anna", "Freezer alarm", 0, priority="emergency")
        job("moved", "anna", "Noisy compressor", 2)
        job("tour", "anna", "Filter service", 3)
        job("expiry", "anna", "Thermostat check", 4)
        job("flaky", "anna", "Ice on the evaporator", 5)
        job("upload", "anna", "Fan blade cracked", 6)
        job("decline", "anna", "Duct cleaning", 7)
        job("hold", "anna", "Valve replacement", 8)
        job("bad_input", "anna", "Drain pan overflowing", 9)
        job("tamper_a", "anna", "Heat pump noisy", 10)
        job("tamper_b", "anna", "Humidifier leak", 11)
        job("zh_one", "liwei", "冷库温度过高", 0)
        job("zh_two", "liwei", "出风口漏水", 1, priority="emergency")
        job("not_yours", "other", "Someone else's job", 0)
        db.session.commit()
        return {
            "password": PASSWORD,
            "jobs": jobs,
            "techs": {name: tech.id for name, tech in techs.items()},
            "dispatcher": dispatcher.id,
        }


@pytest.fixture(scope="session")
def app_server(
    databases: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Run Fieldwork on a free port over committed data; return its URL, app and data."""
    from tests.conftest import dispose
    from tests.integration.races import make_app

    if not (BUILD / "index.html").is_file():
        pytest.fail("The app is not built: run `make technician-app`.")
    instance = tmp_path_factory.mktemp("app-instance")
    app = make_app(databases.create(), instance, migrate=True)
    data = seed_app(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    data["url"] = f"http://127.0.0.1:{server.server_port}"
    data["app"] = app
    try:
        yield data
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        dispose(app)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    """Return Playwright's sync API (module-scoped, as the console's tests explain)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def chromium(playwright: Any) -> Iterator[Any]:
    """Return a headless Debian Chromium."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Chromium is not installed: `make test` installs it (test-system-deps).")
    browser = playwright.chromium.launch(
        executable_path=executable, headless=True, args=["--no-sandbox"]
    )
    yield browser
    browser.close()


def phone_options(playwright: Any, base_url: str, locale: str = "en-GB") -> dict[str, Any]:
    """Return the context options of a Pixel 7 in Shanghai with the service worker on."""
    device = {k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"}
    return {
        **device,
        "base_url": base_url,
        "locale": locale,
        "timezone_id": "Asia/Shanghai",
        "service_workers": "allow",
        "geolocation": {"latitude": 31.2291, "longitude": 121.4551, "accuracy": 12},
        "permissions": ["geolocation", "notifications"],
    }


def watch_errors(page: Any) -> list[str]:
    """Collect the page's script errors and CSP refusals."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    return errors


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, username: str, password: str) -> None:
    """Open the app and sign in; wait until the jobs and their details are on the phone."""
    page.goto("/app/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=job-card]")
    # "Synced …" appears once the first sync ended, details included.
    page.locator("[data-testid=last-synced]").filter(
        has_text=re.compile("Synced|已同步")
    ).wait_for()


def go_offline(context: Any) -> None:
    """Cut the network for the pages and for the service worker's own fetches."""
    context.set_offline(True)
    # playwright#2311: set_offline does not reach the service worker; abort its requests.
    context.route("**/*", lambda route: route.abort("internetdisconnected"))


def go_online(context: Any) -> None:
    """Give the network back."""
    context.unroute("**/*")
    context.set_offline(False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Remember each phase's outcome on the test item (failed tests get screenshots)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def phone(
    request: pytest.FixtureRequest, playwright: Any, app_server: dict[str, Any], tmp_path: Path
) -> Iterator[Any]:
    """Return ``launch(profile=None, locale=…)``: a Pixel 7 browser (persistent on a profile)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Chromium is not installed: `make test` installs it (test-system-deps).")
    opened: list[Any] = []
    #: Requests to anywhere but our server: a CDN or tracker would show up here.
    foreign: list[str] = []

    def launch(profile: Path | None = None, locale: str = "en-GB") -> Any:
        options = phone_options(playwright, app_server["url"], locale)
        context = playwright.chromium.launch_persistent_context(
            str(profile or tmp_path / f"profile-{len(opened)}"),
            executable_path=executable,
            headless=True,
            args=["--no-sandbox"],
            **options,
        )
        context.set_default_timeout(15000)
        context.on(
            "request",
            lambda request: (
                foreign.append(request.url)
                if not request.url.startswith((app_server["url"], "data:", "blob:", "about:"))
                else None
            ),
        )
        opened.append(context)
        return context

    yield launch
    report = getattr(request.node, "report_call", None)
    for index, context in enumerate(opened):
        try:
            if report is not None and report.failed:
                for number, page in enumerate(context.pages):
                    screenshot(page, f"failed-{request.node.name}-{index}-{number}")
            context.close()
        except Exception:  # noqa: S110 - already closed by the test
            pass
    assert foreign == [], f"the app fetched from elsewhere: {foreign}"
