"""Every console and customer page, on the real demo data, for every role, in both languages.

A template that calls a missing filter, or a message whose translation lost a placeholder,
fails only when it renders; so this walks the site through the Flask test client: every GET
route of the ``console`` and ``customer`` blueprints, URL parameters filled from demo rows,
plus the query strings and htmx fragments that pick other templates and branches. The
admin, the manager and a dispatcher walk all of the console; a technician and a visitor
(who are refused) one URL per route; the visitor walks the customer pages. All of it in
English and in Chinese. No answer may be a 5xx, and every template under
``templates/console/`` and ``templates/customer/`` must have been rendered, or loaded while
rendering one (``{% include %}``, ``{% extends %}``, ``{% import %}``), at least once.

A new route without parameter values here, or a template that no page reaches, fails the
test until it is added.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, template_rendered
from sqlalchemy import func, select, update

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
#: The blueprints whose pages this walks, and whose template folders must be covered.
AREAS = ("console", "customer")
#: The demo company, smaller than ``seed-demo``'s default so the walk stays quick.
DEMO_SIZE = {"orders": 60, "technicians": 8, "customers": 20}
#: The demo dispatcher walks every value; the admin and the manager, one order per workflow.
DISPATCHER = "dispatcher1"
OFFICE = ("admin", "manager")
#: The technician is refused the console (the dashboard tells them so).
TECHNICIAN = "tech01"
LANGUAGES = ("en", "zh_CN")
HTMX = {"HX-Request": "true"}


@dataclass
class Demo:
    """The app on the seeded demo database and the values its URLs are filled with."""

    app: Flask
    password: str
    #: URL parameter -> values to walk (each value at least once).
    parameters: dict[str, list[Any]]
    #: Endpoint -> parameter values of its own (a name meaning something else there, or
    #: routes where a few values are enough).
    own_parameters: dict[str, dict[str, list[Any]]]
    #: The values the admin and the manager walk instead (fewer orders).
    brief_parameters: dict[str, list[Any]]
    #: Extra (endpoint, query, htmx) requests that reach other templates or branches.
    variants: list[tuple[str, dict[str, Any], bool]]


def _seed(app: Flask) -> Demo:
    """Run the real demo seed, issue customer links, and pick the rows URLs will name."""
    from server.extensions import db
    from server.models import Attachment, Customer, Role, User, WorkOrder
    from server.seed import DEMO_PASSWORD, seed_demo
    from server.services.customer_portal import issue_customer_link

    with app.app_context():
        seed_demo(**DEMO_SIZE)
        db.session.flush()
        # One order per (workflow, state): each shows other parts of the pages.
        orders = list(
            db.session.scalars(
                select(func.min(WorkOrder.id))
                .group_by(WorkOrder.workflow_name, WorkOrder.state)
                .order_by(func.min(WorkOrder.id))
            )
        )
        open_per_workflow = list(
            db.session.scalars(
                select(func.min(WorkOrder.id))
                .where(WorkOrder.closed_at.is_(None))
                .group_by(WorkOrder.workflow_name)
                .order_by(func.min(WorkOrder.id))
            )
        )
        tokens = [
            issue_customer_link(db.session.get(WorkOrder, order_id), None).token
            for order_id in orders
        ]
        db.session.commit()
        customers = db.session.scalars(
            select(Customer.id).order_by(Customer.is_company, Customer.id)
        ).all()
        search = db.session.get(Customer, customers[-1]).name[:2]
        technicians = db.session.scalars(
            select(User.id).where(User.role == Role.TECHNICIAN).order_by(User.id).limit(2)
        ).all()
        attachment = db.session.scalar(select(Attachment).order_by(Attachment.id).limit(1))
        workflows = sorted(set(db.session.scalars(select(WorkOrder.workflow_name))))
        # The board's busiest future: the last day an open order is planned on.
        latest = db.session.scalar(
            select(func.max(WorkOrder.scheduled_start_at)).where(WorkOrder.closed_at.is_(None))
        )
    with_file = [attachment.work_order_id if attachment else orders[0]]
    parameters: dict[str, list[Any]] = {
        "order_id": orders,
        "customer_id": [customers[0], customers[-1]],  # a person and a company
        "user_id": list(technicians),
        "attachment_id": [attachment.id if attachment else 1],
        "variant": ["thumb", "display", "file"],
        "revision": [1],
        "name": workflows,
        "token": [*tokens, "not-a-live-token"],
    }
    own_parameters = {
        "console.vendor_file": {"name": ["htmx.min.js", "leaflet/leaflet.css", "nothing.js"]},
        "console.work_order_attachment": {"order_id": with_file},
        "console.work_order_sheet": {"order_id": with_file},
        # These show the detail page's partials, or the diagram, again: fewer orders do.
        "console.work_order_live": {"order_id": open_per_workflow},
        "console.work_order_workflow_svg": {"order_id": open_per_workflow},
        "customer.technician_photo": {"token": tokens[:2]},
        "customer.completion_sheet_download": {"token": tokens[:2]},
    }
    day = {"day": latest.date().isoformat()} if latest else {}
    variants = [
        ("console.board", {"view": "week"}, False),
        ("console.board", day, False),
        ("console.board", {"view": "week", **day, "fragment": "grid"}, True),
        ("console.board", {"fragment": "grid", "selected": orders[0]}, True),
        ("console.board", {"day": "not-a-day", "team": "x" * 60}, False),
        ("console.board_live", {"since": "0", **day}, True),
        ("console.board_day_plan", day, False),
        ("console.work_order_list", {"fragment": "rows"}, True),
        ("console.work_order_list", {"deadline": "breached", "sort": "-updated_at"}, False),
        ("console.work_order_list", {"priority": "urgent", "from": "yesterday", "q": "AC"}, False),
        ("console.work_order_list", {"state": "closed", "q": search}, False),
        ("console.work_order_csv", {"deadline": "at_risk"}, False),
        ("console.customer_list", {"q": search}, False),
        ("console.intake", {"customer_id": customers[-1]}, False),
        ("console.intake_customer_search", {"q": search}, True),
        ("console.intake_customer_search", {"q": ""}, True),
        ("console.reports", {"group": "technician"}, False),
        ("console.reports", {"group": "category", "from": "2020-01-01", "to": "2030-12-31"}, False),
        ("console.reports", {"group": "nonsense", "from": "later"}, False),
        ("console.reports_csv", {"group": "technician"}, False),
    ]
    brief = {"order_id": open_per_workflow}
    return Demo(app, DEMO_PASSWORD, parameters, own_parameters, brief, variants)


@pytest.fixture(scope="module")
def demo(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """Build one app for the module on a fresh database holding the real demo seed."""
    from tests.conftest import build_app, dispose

    app = build_app(databases.create(), tmp_path_factory.mktemp("every-page"))
    # The optimizer's time budget per proposed day plan: the walk asks for a dozen.
    app.config["CONSOLE_DAY_PLAN_SECONDS"] = 0.05
    try:
        yield _seed(app)
    finally:
        dispose(app)


def _get_rules(app: Flask, area: str) -> list[Any]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] == area and "GET" in (rule.methods or ())
    ]


def _urls(demo: Demo, rule: Any, brief: bool = False) -> list[str]:
    """Return the URLs that walk ``rule``: each value of each of its parameters once."""
    values = demo.parameters | (demo.brief_parameters if brief else {})
    values |= demo.own_parameters.get(rule.endpoint, {})
    missing = sorted(name for name in rule.arguments if name not in values)
    assert not missing, f"{rule.rule}: add values for {missing} to Demo.parameters"
    names = sorted(rule.arguments)
    longest = max((len(values[n]) for n in names), default=1)
    cycles = [itertools.cycle(values[n]) for n in names]
    return [
        demo.app.url_for(rule.endpoint, **{n: next(c) for n, c in zip(names, cycles, strict=True)})
        for _ in range(longest)
    ]


def _plan(demo: Demo, area: str, how: str) -> list[tuple[str, str, bool]]:
    """Return (endpoint, URL, htmx) to walk: ``all`` values and the variants, ``brief`` (fewer
    orders) and the variants, or ``one`` URL per route."""
    with demo.app.test_request_context():
        plan = [
            (rule.endpoint, url, False)
            for rule in _get_rules(demo.app, area)
            for url in _urls(demo, rule, brief=how == "brief")[: 1 if how == "one" else None]
        ]
        if how != "one":
            plan += [
                (endpoint, demo.app.url_for(endpoint, **query), htmx)
                for endpoint, query, htmx in demo.variants
                if endpoint.startswith(f"{area}.")
            ]
    return plan


class _Errors(logging.Handler):
    """Keep the tracebacks the app logs for unexpected errors (it answers them with a 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.tracebacks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            # The last frames: the template line and the error, not Flask's dispatching.
            lines = logging.Formatter().formatException(record.exc_info).splitlines()
            self.tracebacks.append("\n".join(["  …", *lines[-16:]]))


@dataclass
class Walk:
    """What the walk saw: templates rendered and loaded, routes visited, failures."""

    errors: _Errors = field(default_factory=_Errors)
    rendered: set[str] = field(default_factory=set)
    loaded: set[str] = field(default_factory=set)
    endpoints: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    requests: int = 0

    def fetch(self, client: Any, who: str, method: str, url: str, **kwargs: Any) -> Any:
        """Request ``url``; record a 5xx as a failure, with the traceback the app logged."""
        self.requests += 1
        before = len(self.errors.tracebacks)
        response = client.open(url, method=method, **kwargs)
        response.close()  # files (vendor scripts, PDFs) are streamed: let go of them
        if response.status_code >= 500:
            logged = "\n".join(self.errors.tracebacks[before:])
            self.failures.append(f"{who} {method} {url} answered {response.status_code}\n{logged}")
        return response

    def pages(self, client: Any, who: str, language: str, plan: list[Any]) -> None:
        headers = {"Accept-Language": language.replace("_", "-")}
        for endpoint, url, htmx in plan:
            if endpoint.startswith("customer."):
                url += ("&" if "?" in url else "?") + f"lang={language}"
            self.endpoints.add(endpoint)
            self.fetch(client, who, "GET", url, headers=headers | (HTMX if htmx else {}))

    def posted_customer_pages(self, client: Any, language: str) -> None:
        """Reach the customer templates only a POST renders (a form refused, a request taken)."""
        who, url = f"visitor/{language}", f"/request?lang={language}"
        self.fetch(client, who, "POST", url, data={})  # no CSRF token: "form expired"
        token = _csrf_token(client.get(url).get_data(as_text=True))
        # The honeypot field filled: thanked like a person, and nothing is kept.
        self.fetch(client, who, "POST", url, data={"csrf_token": token, "website": "x"})


def _csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found is not None, "no form with a CSRF token on the page"
    return found[1]


def _signed_in(demo: Demo, username: str | None) -> Any:
    """Return a test client of its own, signed in as ``username`` unless that is None."""
    from server.extensions import limiter

    with demo.app.app_context():
        limiter.reset()  # sign-ins and public form posts are rate limited per address
    client = demo.app.test_client()
    if username is not None:
        token = _csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login",
            data={"username": username, "password": demo.password, "csrf_token": token},
        )
        assert response.status_code == 302, f"{username} could not sign in"
    return client


def _speak(demo: Demo, language: str) -> None:
    """Set every user's language (the console speaks the signed-in user's)."""
    from server.extensions import db
    from server.models import User

    with demo.app.app_context():
        db.session.execute(update(User).values(locale=language))
        db.session.commit()


@pytest.fixture(scope="module")
def walk(demo: Demo) -> Iterator[Walk]:
    """Walk every page for every walker in both languages; return what was seen."""
    seen = Walk()
    env = demo.app.jinja_env
    load = env.get_template

    def get_template(name: Any, *args: Any, **kwargs: Any) -> Any:
        # Pages, their parents, includes and imports all load through here while rendering.
        template = load(name, *args, **kwargs)
        seen.loaded.add(str(template.name))
        return template

    def rendered(_app: Any, template: Any, **_context: Any) -> None:
        seen.rendered.add(str(template.name))

    everything = _plan(demo, "console", "all")
    brief = _plan(demo, "console", "brief")
    one_each = _plan(demo, "console", "one")
    customer = _plan(demo, "customer", "all")
    errors = logging.getLogger("fieldwork.errors")
    errors.addHandler(seen.errors)
    env.get_template = get_template  # type: ignore[method-assign]
    try:
        with template_rendered.connected_to(rendered, demo.app):
            # Signed in once each: the language is read from the user on every request.
            walkers = [
                (username, _signed_in(demo, username), plan)
                for username, plan in [
                    (DISPATCHER, everything),
                    *((name, brief) for name in OFFICE),
                    (TECHNICIAN, one_each),
                    (None, one_each + customer),
                ]
            ]
            for language in LANGUAGES:
                _speak(demo, language)
                for username, client, plan in walkers:
                    seen.pages(client, f"{username or 'visitor'}/{language}", language, plan)
                seen.posted_customer_pages(_signed_in(demo, None), language)
        yield seen
    finally:
        del env.get_template
        errors.removeHandler(seen.errors)


def test_every_page_renders_for_every_role_in_both_languages(walk: Walk, demo: Demo) -> None:
    failures = "\n".join(walk.failures)
    assert not walk.failures, f"{len(walk.failures)} of {walk.requests} requests:\n{failures}"

    routes = {rule.endpoint for area in AREAS for rule in _get_rules(demo.app, area)}
    assert sorted(routes - walk.endpoints) == [], "GET routes the walk never visited"

    templates = {
        path.relative_to(TEMPLATES).as_posix()
        for area in AREAS
        for path in (TEMPLATES / area).rglob("*.html")
    }
    assert walk.rendered <= walk.loaded
    assert sorted(templates - walk.loaded) == [], "templates no page of the walk rendered"
