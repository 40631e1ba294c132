"""Browser tests of the console: a live server on committed data, driven by Chromium.

The app runs in a thread (werkzeug ``make_server``) on a free port over a database of its
own (SQLite, or PostgreSQL with ``--db=postgresql``) built by the real migrations and
seeded through the services, like ``tests/integration/races.py`` does. Playwright drives
Debian's Chromium headless (``playwright install`` is never needed). Screenshots go to
``tests/console/artifacts/`` (ignored by git).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: Where npm put axe-core (``make`` runs ``npm ci``).
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def seed_console(app: Any) -> dict[str, Any]:
    """Commit the people, categories, customers and jobs the scenarios start from."""
    from server.extensions import db
    from server.models import Category, Priority, Role
    from server.services.customers import create_customer
    from server.services.users import create_technician_profile, create_user
    from server.services.work_orders import apply_transition, create_work_order, update_work_order
    from tests.factories import PASSWORD, _password_hash

    with app.app_context():
        hashed = _password_hash()
        dispatcher = create_user(
            username="disp",
            password="",
            role=Role.DISPATCHER,
            display_name="Dana Dispatcher",
            password_hash=hashed,
        )
        create_user(
            username="boss",
            password="",
            role=Role.ADMIN,
            display_name="Ada Admin",
            password_hash=hashed,
        )
        shifts = [(day, time(8), time(18)) for day in range(7)]
        techs = []
        for index, (name, lat) in enumerate(
            [("Li Wei 李伟", 31.20), ("Zhang Min 张敏", 31.23), ("Chen Jie 陈杰", 31.25)]
        ):
            tech = create_user(
                username=f"tech{index + 1}",
                password="",
                role=Role.TECHNICIAN,
                display_name=name,
                locale="zh_CN",
                password_hash=hashed,
            )
            create_technician_profile(
                tech,
                skills=[("hvac", 4), ("electrical", 2)] if index < 2 else [("plumbing", 3)],
                certifications=[
                    ("低压电工作业证", date.today() + timedelta(days=10 + 200 * index))
                ],
                working_hours=shifts,
                team="puxi",
                home_latitude=lat,
                home_longitude=121.45,
            )
            techs.append(tech)
        hvac = Category(
            code="HVAC-REPAIR",
            name_en="Air-conditioning repair",
            name_zh="空调维修",
            workflow_name="repair",
            required_skill="hvac",
            default_priority=Priority.HIGH,
        )
        plumbing = Category(
            code="PLUMBING",
            name_en="Plumbing",
            name_zh="水管维修",
            workflow_name="repair",
            required_skill="plumbing",
        )
        db.session.add_all([hvac, plumbing])
        customer = create_customer(
            {
                "name": "上海联华超市",
                "is_company": True,
                "contacts": [{"name": "周经理", "phone": "+86 21 5555 0101", "is_primary": True}],
                "sites": [
                    {
                        "address": "上海市静安区南京西路1266号",
                        "latitude": 31.229,
                        "longitude": 121.455,
                        "assets": [{"model": "Daikin VRV", "serial_number": "DK0001"}],
                    }
                ],
            },
            actor=None,
        )
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        planned = create_work_order(
            {
                "category_id": hvac.id,
                "customer_id": customer.id,
                "site_id": customer.sites[0].id,
                "title": "冷库温度过高",
            },
            dispatcher,
        )
        apply_transition(planned, "assign", dispatcher, {"assignee_id": techs[0].id}, 1)
        update_work_order(
            planned,
            {
                "scheduled_start_at": now + timedelta(hours=1),
                "scheduled_end_at": now + timedelta(hours=2),
            },
            dispatcher,
            planned.version,
        )
        for title in ("出风口漏水", "噪音很大"):
            create_work_order(
                {"category_id": hvac.id, "customer_id": customer.id, "title": title}, dispatcher
            )
        db.session.commit()
        return {
            "password": PASSWORD,
            "techs": [t.id for t in techs],
            "tech_names": [t.display_name for t in techs],
            "customer": customer.id,
        }


@pytest.fixture(scope="session")
def live_server(
    databases: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Run the console on a free port over committed demo data; return its URL and data."""
    from tests.conftest import dispose
    from tests.integration.races import make_app

    instance = tmp_path_factory.mktemp("console-instance")
    app = make_app(databases.create(), instance, migrate=True)
    # No tile server in tests: the map must still work.
    app.config["FIELDWORK_SETTINGS"] = replace(app.config["FIELDWORK_SETTINGS"], map_tile_url="")
    data = seed_console(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    data["url"] = f"http://127.0.0.1:{server.server_port}"
    data["app"] = app
    try:
        yield data
    finally:
        server.shutdown()
        server.server_close()  # joins the request threads still running
        thread.join(timeout=10)
        dispose(app)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Return a headless Debian Chromium driven by Playwright.

    Module-scoped: Playwright's sync API keeps an asyncio loop running in this thread while it
    lives, and later tests in the same process whose libraries call asyncio.run() (pyHanko's
    signing, firebase-admin's close) would fail next to it.
    """
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Chromium is not installed: `make test` installs it (test-system-deps).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Remember each phase's outcome on the test item (the tab screenshots failures)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def tab(
    request: pytest.FixtureRequest, live_server: dict[str, Any], chromium: Any
) -> Iterator[Any]:
    """Return a fresh browser tab (own cookies) with the server's URL as base."""
    context = chromium.new_context(
        base_url=live_server["url"], viewport={"width": 1440, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Blocked by the Content Security Policy, or failed to load: the page is broken too.
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for index, open_page in enumerate(context.pages):
            screenshot(open_page, f"failed-{request.node.name}-{index}")
    context.close()


def sign_in(page: Any, username: str, password: str) -> None:
    """Sign in through the login form."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (from node_modules) on the page; return its violations."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make node_modules/.installed` (npm ci)")
    # Evaluated through the DevTools protocol, so the page's CSP does not block it.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    return list(result)


def csrf_token(client: Any, path: str = "/login") -> str:
    """Return the CSRF token of the first form on ``path`` (Flask test client)."""
    import re

    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found is not None, f"no form on {path}"
    return found.group(1)


@pytest.fixture
def office(client: Any, create_user: Any) -> tuple[Any, str]:
    """A dispatcher signed in to the console (test client); returns (user, csrf token)."""
    from server.models import Role
    from tests.factories import PASSWORD

    user = create_user(Role.DISPATCHER)
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    return user, csrf_token(client, "/profile")
