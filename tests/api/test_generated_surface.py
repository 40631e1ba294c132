"""Generated requests against both APIs for every role: never a 5xx, always as documented.

schemathesis draws positive and negative requests for every operation of each API's own
OpenAPI document, then runs its stateful phase: scenarios that follow the documents' links
(create an order, then read, change, assign and move it by the id and version the answers
gave). Each role gets its own seeded world and the API it works with (the technician the
mobile API; dispatcher, manager and admin the integration API); each also knocks on the
other API's door, which must answer 401 or 403. Every request sent is counted, by API, role
and phase; one run sends at least ``MINIMUM_TOTAL`` of them (#14).

A failure is reported once per operation and kind, with the request that showed it and,
for a server error, the end of the traceback the app logged.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import logging
import os
import sys
import time
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful.state_machine import StepOutput
from schemathesis.openapi.checks import UndefinedStatusCode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from tests.conftest import dispose
from tests.integration.races import make_app, seed_race
from tests.mobile_api.conftest import jpeg_bytes, png_bytes

DOCUMENTS = {"api": "/api/v1/openapi.json", "mobile": "/api/mobile/v1/openapi.json"}
PREFIXES = {"api": "/api/v1", "mobile": "/api/mobile/v1"}
OFFICE = ("dispatcher", "manager", "admin")

#: Generated cases per operation in each stateless mode.
EXAMPLES = 55
#: Stateful scenarios per role, and the most steps (requests) in each.
SCENARIOS = 80
STEPS = 20
#: Cases per operation where a role knocks on the other API's door.
DENIED_EXAMPLES = 4
#: Requests one whole run sends at the least (#14).
MINIMUM_TOTAL = 15_000

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
#: What a scenario checks besides: what was created can be read, what was deleted is gone.
SCENARIO_CHECKS = [*CHECKS, ensure_resource_availability, use_after_free]


@dataclass(frozen=True)
class Part:
    """One test item: an API, the role calling it, a phase, and the fewest requests it sends."""

    api: str
    role: str
    phase: str
    floor: int

    @property
    def name(self) -> str:
        return f"{self.api}/{self.role}/{self.phase}"


PARTS = [
    *(
        Part("mobile", "technician", phase, floor)
        for phase, floor in (("positive", 1100), ("negative", 1100), ("stateful", 900))
    ),
    *(
        Part("api", role, phase, floor)
        for role in OFFICE
        for phase, floor in (("positive", 1200), ("negative", 1200), ("stateful", 900))
    ),
    # Each office role on the mobile API, the technician on the integration API.
    Part("cross", "everyone", "denied", 450),
]


# --- The world each part runs in -------------------------------------------------------------


@pytest.fixture
def world(databases, tmp_path):
    """Commit a small world (3 orders, 2 technicians, one customer) and every role's tokens."""
    app = make_app(databases.create(), tmp_path, migrate=True)
    seeded = seed_race(
        app,
        3,
        2,
        assign_to_first=True,
        checklist=[{"key": "safety", "en": "Safe", "zh_CN": "安全"}],
    )
    phone = {"Authorization": f"Bearer {seeded['tech_token']}"}
    client = app.test_client()
    photo = client.post(
        "/api/mobile/v1/jobs/1/photos",
        headers=phone,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(jpeg_bytes()), "p.jpg"), "client_id": str(uuid.uuid4())},
    )
    signature = client.post(
        "/api/mobile/v1/jobs/1/signature",
        headers=phone,
        json={
            "client_id": str(uuid.uuid4()),
            "signer_name": "A",
            "signer_role": "customer",
            "signed_at": "2026-11-23T10:00:00+08:00",
            "png_base64": base64.b64encode(png_bytes()).decode(),
        },
    )
    assert (photo.status_code, signature.status_code) == (201, 201)
    tokens = {"technician": {"mobile": seeded["tech_token"]}}
    with app.app_context():
        from server.auth.tokens import issue_token_pair
        from server.extensions import db
        from server.models import Role, TokenAudience, User

        dispatcher = db.session.scalar(db.select(User).filter_by(username="race-dispatcher"))
        users = {"dispatcher": dispatcher}
        for role in (Role.MANAGER, Role.ADMIN):
            users[role.value] = _office_user(role)
        for role, user in users.items():
            tokens[role] = {
                "api": issue_token_pair(user, TokenAudience.API).access_token,
                # A token no office user can get (the mobile sign-in refuses them): the
                # mobile API must still refuse them with 403.
                "mobile": issue_token_pair(user, TokenAudience.MOBILE).access_token,
            }
        db.session.commit()
    yield app, tokens
    dispose(app)


def _office_user(role):
    from server.services.users import create_user

    return create_user(
        username=f"generated-{role.value}", password="", role=role, password_hash="-"
    )


# --- Sending, counting, checking -------------------------------------------------------------


class _LastError(logging.Handler):
    """Keep the last record the app's error handlers logged (the traceback of a 500)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.record: logging.LogRecord | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.record = record


@dataclass
class Traffic:
    """Sends generated cases with one role's token; counts them and collects failures."""

    part: str
    headers: dict[str, str]
    errors: _LastError
    sent: int = 0
    #: Stateful steps whose request took values from an earlier answer along a link.
    linked: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    failures: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def call(self, case: Any) -> Any:
        """Send ``case`` as this role; return the response."""
        if not case.path.startswith("/auth/"):  # logout would revoke the token for everyone
            case.headers = {**(case.headers or {}), **self.headers}
        self.errors.record = None
        self.sent += 1
        try:
            response = case.call()
        except Exception as error:  # the transport re-raises what the app let escape
            self.fail(case, f"unhandled {type(error).__name__}", _traceback_of(error))
            return None
        self.statuses[f"{response.status_code // 100}xx"] += 1
        return response

    def check(self, case: Any, response: Any, recorder: Any = None) -> None:
        """Run the conformance checks; remember each kind of failure once per operation."""
        try:
            checks = CHECKS if recorder is None else SCENARIO_CHECKS
            case.validate_response(response, checks=checks, recorder=recorder)
        except FailureGroup as group:
            server_error = response.status_code >= 500
            for failure in group.exceptions:
                if server_error and isinstance(failure, UndefinedStatusCode):
                    continue  # the server error says it already
                detail = str(failure.message or "")[:500]
                if server_error and self.errors.record is not None:
                    detail += "\n" + _traceback_of_record(self.errors.record)
                self.fail(case, failure.title, detail, response.status_code)

    def send(self, case: Any) -> Any:
        """Call and check ``case``."""
        response = self.call(case)
        if response is not None:
            self.check(case, response)
        return response

    def fail(self, case: Any, kind: str, detail: str, status: int | None = None) -> None:
        key = (case.operation.label, kind)
        if key in self.failures:
            self.failures[key][0] += 1
        else:
            self.failures[key] = [1, _request_of(case, self.part), status, detail]

    def report(self) -> str:
        """Describe every failure: operation, kind, how often, one request, the evidence."""
        lines = []
        for (label, kind), (count, request, status, detail) in sorted(self.failures.items()):
            lines.append(f"[{self.part}] {label}: {kind} ({count}x, status {status})")
            lines.append(f"    {request}")
            lines.extend(f"    | {line}" for line in detail.strip().splitlines()[-12:])
        return "\n".join(lines)


def _request_of(case: Any, part: str) -> str:
    prefix = PREFIXES.get(part.split("/")[0], "")
    query = "&".join(f"{k}={v}" for k, v in (case.query or {}).items())
    path = case.formatted_path + (f"?{query}" if query else "")
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    sent = case.body is not None and case.body is not NOT_SET
    text = json.dumps(case.body, ensure_ascii=False, default=repr)[:400] if sent else ""
    return f"{case.method} {prefix}{path} headers={headers} body={text}"


def _traceback_of(error: BaseException) -> str:
    """Return the last frames of our code in ``error``'s traceback, and its first line."""
    import traceback

    here = f"{Path.cwd()}/"
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if "site-packages" not in frame.filename] or frames
    lines = [
        f"{frame.filename.removeprefix(here)}:{frame.lineno} in {frame.name}: {frame.line}"
        for frame in ours[-4:]
    ]
    message = (str(error).splitlines() or [""])[0][:300]
    lines.append(f"{type(error).__module__}.{type(error).__qualname__}: {message}")
    return "\n".join(lines)


def _traceback_of_record(record: logging.LogRecord) -> str:
    if record.exc_info:
        return _traceback_of(record.exc_info[1])  # type: ignore[arg-type]
    return record.getMessage()


def _settings(examples: int, **extra: Any) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        **extra,
    )


def _load(app: Any, api: str) -> Any:
    schema = schemathesis.openapi.from_wsgi(DOCUMENTS[api], app)
    # Only the links the document declares: inferred ones guess (a site id for an order id).
    schema.config.phases.stateful.inference.algorithms = []
    return schema


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _generate(schema: Any, mode: GenerationMode, traffic: Traffic, examples: int) -> None:
    """Send ``examples`` cases of ``mode`` to every operation of ``schema``."""
    for operation in _operations(schema):
        # Each role and mode draws its own (reproducible) cases, not the same ones again.
        salt = zlib.crc32(f"{traffic.part}:{operation.label}".encode())

        @seed(salt)
        @given(case=operation.as_strategy(generation_mode=mode))
        @_settings(examples)
        def run(case: Any) -> None:
            traffic.send(case)

        try:
            run()
        except Unsatisfiable:
            pass  # nothing to make invalid (no parameters, no body)


def _follow_links(schema: Any, traffic: Traffic) -> None:
    """Run the stateful phase: scenarios that chain operations along the document's links."""
    scenarios = 0

    class Scenario(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            nonlocal scenarios
            scenarios += 1

        def step(self, input: Any) -> StepOutput | None:
            case = input.case
            if input.transition is not None:
                traffic.linked += 1
            response = traffic.call(case)
            if response is None:
                return None
            self.after_call(response, case)  # the recorder lets checks see earlier steps
            traffic.check(case, response, recorder=self.recorder)
            return StepOutput(response, case)

    for attempt in range(10):
        if scenarios >= SCENARIOS:
            break
        seed(zlib.crc32(f"{traffic.part}:{attempt}".encode()))(Scenario)
        try:
            Scenario.run(settings=_settings(SCENARIOS - scenarios, stateful_step_count=STEPS))
        except Flaky:
            # Hypothesis replayed a prefix of choices, but the data the server holds changed
            # since (a bundle empty now): go on with fresh scenarios, as schemathesis does.
            continue


# --- The test ---------------------------------------------------------------------------------


@pytest.fixture
def app_errors():
    """Keep the last warning or error the app's error handlers log (a 500's traceback)."""
    handler = _LastError()
    logger = logging.getLogger("fieldwork.errors")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.mark.parametrize("part", PARTS, ids=[part.name for part in PARTS])
def test_generated_requests_never_fail_and_match_the_document(
    world, app_errors, part, request, tmp_path_factory, capsys, record_property
):
    app, tokens = world
    started = time.perf_counter()
    parts: list[Traffic] = []
    try:
        if part.phase == "denied":
            parts = _knock_on_the_other_door(app, tokens, app_errors)
        else:
            token = tokens[part.role][part.api]
            parts = [Traffic(part.name, {"Authorization": f"Bearer {token}"}, app_errors)]
            schema = _load(app, part.api)
            assert len(_operations(schema)) >= 12
            if part.phase == "stateful":
                _follow_links(schema, parts[0])
            else:
                _generate(schema, GenerationMode(part.phase), parts[0], EXAMPLES)
    finally:
        sent = sum(traffic.sent for traffic in parts)
        record_property("generated_requests", sent)
        run = _tally(request, tmp_path_factory, part, parts, time.perf_counter() - started)
        if run is not None:
            with capsys.disabled():
                sys.stderr.write(f"\n{run.summary}\n")
    failures = "\n".join(traffic.report() for traffic in parts if traffic.failures)
    print(failures or f"{part.name}: {sent} requests, no failures")
    assert not failures, failures
    assert sent >= part.floor, (part.name, sent)
    if run is not None and run.complete:
        assert run.total >= MINIMUM_TOTAL, run.summary


def _knock_on_the_other_door(
    app: Any, tokens: dict[str, dict[str, str]], errors: _LastError
) -> list[Traffic]:
    """Send every office role's tokens to the mobile API and the technician's to /api/v1."""
    doors = [
        *(("mobile", role, kind) for role in OFFICE for kind in ("api", "mobile")),
        ("api", "technician", "mobile"),
    ]
    result = []
    for api, role, kind in doors:
        headers = {"Authorization": f"Bearer {tokens[role][kind]}"}
        traffic = Traffic(f"{api}/{role}/denied ({kind} token)", headers, errors)
        # A token of the other API is unknown here (401); a mobile token of an office user
        # is known, but the role may not use the phone API (403).
        expected = 403 if (api, kind) == ("mobile", "mobile") else 401
        for operation in _operations(_load(app, api)):
            if operation.definition.raw.get("security") and "/auth/" not in operation.path:
                _refused(operation, traffic, expected, kind)
        result.append(traffic)
    return result


def _refused(operation: Any, traffic: Traffic, expected: int, kind: str) -> None:
    """Send a few cases of ``operation``; each must be refused with ``expected``."""

    @seed(zlib.crc32(f"{traffic.part}:{kind}:{operation.label}".encode()))
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @_settings(DENIED_EXAMPLES)
    def run(case: Any) -> None:
        response = traffic.send(case)
        if response is not None and response.status_code != expected:
            traffic.fail(case, f"not refused with {expected}", "", response.status_code)

    run()


# --- Counting across test items (and xdist workers) ------------------------------------------


@dataclass(frozen=True)
class Run:
    """What every part of this run sent, once the last one finished."""

    summary: str
    total: int
    complete: bool


def _tally(
    request: Any, tmp_path_factory: Any, part: Part, parts: list[Traffic], seconds: float
) -> Run | None:
    """Add this part's counts to the run's tally; the last part to finish gets the run's."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the workers of this run
    selected = {
        item.callspec.params["part"].name
        for item in request.session.items
        if getattr(item, "module", None) is request.module
        and getattr(item, "originalname", None) == request.node.originalname
    }
    row = {
        "part": part.name,
        "seconds": round(seconds, 1),
        "traffic": [
            {
                "name": traffic.part,
                "sent": traffic.sent,
                "linked": traffic.linked,
                "failures": len(traffic.failures),
                "statuses": dict(traffic.statuses),
            }
            for traffic in parts
        ],
    }
    with (Path(root) / "generated-surface.jsonl").open("a+", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.write(json.dumps(row) + "\n")
        file.flush()
        file.seek(0)
        rows = [json.loads(text) for text in file.read().splitlines() if text]
    if not selected <= {row["part"] for row in rows}:
        return None
    complete = selected == {p.name for p in PARTS}
    total = 0
    lines = ["generated requests sent (schemathesis), by API / role / phase:"]
    for row in sorted(rows, key=lambda row: row["part"]):
        for index, traffic in enumerate(row["traffic"]):
            total += traffic["sent"]
            counts = " ".join(f"{k}={v}" for k, v in sorted(traffic["statuses"].items()))
            if traffic["linked"]:
                counts += f" linked={traffic['linked']}"
            took = f"  {row['seconds']}s" if index == 0 else ""
            lines.append(
                f"  {traffic['name']:<40} {traffic['sent']:>6}  {counts}  "
                f"failure kinds={traffic['failures']}{took}"
            )
    lines.append(f"  {'total':<40} {total:>6}" + ("" if complete else "  (a selection)"))
    return Run("\n".join(lines), total, complete)
