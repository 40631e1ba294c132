"""Generated requests against each API's own OpenAPI document: never a 5xx, and every
response matches what the document says (schemathesis, positive and negative cases)."""

from __future__ import annotations

import base64
import io
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import dispose
from tests.integration.races import make_app, seed_race
from tests.mobile_api.conftest import jpeg_bytes, png_bytes

#: Cases per operation and generation mode; with ~17 operations this exceeds 1,000 cases.
EXAMPLES = 40
MINIMUM_CASES = 1000


@pytest.fixture
def seeded(databases, tmp_path):
    app = make_app(databases.create(), tmp_path, migrate=True)
    world = seed_race(
        app,
        3,
        1,
        assign_to_first=True,
        checklist=[{"key": "safety", "en": "Safe", "zh_CN": "安全"}],
    )
    headers = {"Authorization": f"Bearer {world['tech_token']}"}
    office_token = world["token"]
    client = app.test_client()
    client.post(
        "/api/mobile/v1/jobs/1/photos",
        headers=headers,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(jpeg_bytes()), "p.jpg"), "client_id": str(uuid.uuid4())},
    )
    client.post(
        "/api/mobile/v1/jobs/1/signature",
        headers=headers,
        json={
            "client_id": str(uuid.uuid4()),
            "signer_name": "A",
            "signer_role": "customer",
            "signed_at": "2026-11-23T10:00:00+08:00",
            "png_base64": base64.b64encode(png_bytes()).decode(),
        },
    )
    with app.app_context():
        from server.auth.tokens import issue_token_pair
        from server.extensions import db
        from server.models import Role, TokenAudience
        from server.services.users import create_user

        admin = create_user(
            username="schema-admin", password="", role=Role.ADMIN, password_hash="-"
        )
        admin_token = issue_token_pair(admin, TokenAudience.API).access_token
        db.session.commit()
    yield (
        app,
        {
            "mobile": headers,
            "api": {"Authorization": f"Bearer {office_token}"},
            # Admin-only operations (webhooks, users) answer a dispatcher 403 whatever the
            # input: only an admin's token lets their bodies and parameters be exercised.
            "api-admin": {"Authorization": f"Bearer {admin_token}"},
        },
    )
    dispose(app)


@pytest.mark.parametrize(
    ("api", "document"),
    [
        ("mobile", "/api/mobile/v1/openapi.json"),
        ("api", "/api/v1/openapi.json"),
        ("api-admin", "/api/v1/openapi.json"),
    ],
)
def test_generated_requests_never_fail_and_match_the_document(seeded, api, document):
    app, tokens = seeded
    headers = tokens[api]
    schema = schemathesis.openapi.from_wsgi(document, app)
    checks = [
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
        content_type_conformance,
    ]
    total = 0
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            total += _exercise(operation, mode, headers, checks, failures)
    print(f"{document}: {total} generated requests, {len(failures)} failures")
    assert failures == [], "\n".join(failures[:20])
    assert total >= MINIMUM_CASES, total


def _exercise(operation, mode, headers, checks, failures) -> int:
    """Run generated cases of one operation; return how many ran."""
    seen = [0]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        seen[0] += 1
        if "/auth/" not in operation.label:  # logout would revoke the token for everyone
            case.headers = {**(case.headers or {}), **headers}
        try:
            case.call_and_validate(checks=checks)
        except (Exception, BaseExceptionGroup) as error:  # collect, report all at the end
            failures.append(f"{operation.label} [{mode.value}]: {str(error)[:600]}")

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to make invalid (no parameters, no body)
    return seen[0]
