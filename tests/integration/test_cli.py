"""The command line: migrate an empty database, seed it, and query it through the API."""

from __future__ import annotations

import pytest

from tests.conftest import dispose


@pytest.fixture
def empty_app(databases, tmp_path):
    """An app on a brand-new, empty database (nothing migrated yet)."""
    from server import create_app

    application = create_app(
        {
            "FIELDWORK_DATABASE_URL": databases.create(),
            "FIELDWORK_INSTANCE_PATH": str(tmp_path),
            "FIELDWORK_SECRET_KEY": "test",
            "TESTING": True,
        }
    )
    yield application
    dispose(application)


def test_upgrade_seed_and_query_an_empty_database(empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["seed-demo", "--orders", "60", "--customers", "20", "--technicians", "8"]
    )
    assert result.exit_code == 0, result.output
    assert "dispatcher1" in result.output
    assert "tech01" in result.output
    assert "Created 8 technicians, 20 customers, 60 work orders." in result.output

    client = empty_app.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"username": "dispatcher1", "password": "fieldwork-demo"}
    ).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    everything = client.get("/api/v1/work-orders?limit=200", headers=headers).get_json()["items"]
    assert len(everything) == 60
    states = {item["state"] for item in everything}
    assert len(states) >= 4, "demo orders are spread over the workflow"
    some_state = sorted(states)[0]
    filtered = client.get(f"/api/v1/work-orders?state={some_state}", headers=headers).get_json()
    assert filtered["items"]
    assert all(i["state"] == some_state for i in filtered["items"])
    detail = client.get(f"/api/v1/work-orders/{everything[0]['id']}", headers=headers).get_json()
    assert detail["events"][0]["kind"] == "WorkOrderCreated"


def test_seed_demo_refuses_a_database_with_real_users(empty_app):
    runner = empty_app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    created = runner.invoke(
        args=["create-user", "--role", "admin", "--username", "ops"],
        input="a long enough password\na long enough password\n",
    )
    assert created.exit_code == 0, created.output
    refused = runner.invoke(args=["seed-demo", "--orders", "5"])
    assert refused.exit_code != 0
    assert "non-demo users" in refused.output
    quiet = runner.invoke(args=["seed-demo", "--if-empty"])
    assert quiet.exit_code == 0
    assert "not seeding" in quiet.output


def test_create_user_rejects_a_short_password(empty_app):
    runner = empty_app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    result = runner.invoke(
        args=["create-user", "--role", "dispatcher", "--username", "x"], input="short\nshort\n"
    )
    assert result.exit_code != 0
    assert "at least 8" in result.output


def test_workflows_check_passes_on_the_shipped_files_and_fails_on_a_broken_one(app, tmp_path):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["workflows", "check"])
    assert ok.exit_code == 0, ok.output
    broken = tmp_path / "repair.v1.yaml"
    broken.write_text("name: repair\nversion: 1\ninitial: nowhere\nstates: {}\ntransitions: []\n")
    bad = runner.invoke(args=["workflows", "check", str(tmp_path)])
    assert bad.exit_code == 1
    assert "repair.v1.yaml:" in bad.output


def test_workflows_graph_prints_mermaid_and_dot(app):
    runner = app.test_cli_runner()
    mermaid = runner.invoke(args=["workflows", "graph", "repair", "--format", "mermaid"])
    assert mermaid.exit_code == 0
    assert "stateDiagram-v2" in mermaid.output
    dot = runner.invoke(
        args=["workflows", "graph", "repair", "--format", "dot", "--current", "on_site"]
    )
    assert dot.exit_code == 0
    assert "digraph" in dot.output
    unknown = runner.invoke(args=["workflows", "graph", "nope"])
    assert unknown.exit_code != 0


def test_disable_user_ends_their_tokens_and_enable_lets_them_back(empty_app):
    from server.extensions import db
    from server.models import User

    runner = empty_app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    runner.invoke(
        args=["create-user", "--role", "technician", "--username", "leaver"],
        input="a long enough password\na long enough password\n",
    )
    client = empty_app.test_client()
    sign_in = {"username": "leaver", "password": "a long enough password"}
    token = client.post("/api/mobile/v1/auth/token", json=sign_in).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/mobile/v1/jobs", headers=headers).status_code == 200

    disabled = runner.invoke(args=["disable-user", "leaver"])
    assert disabled.exit_code == 0, disabled.output
    assert "disabled and signed out everywhere" in disabled.output
    assert client.get("/api/mobile/v1/jobs", headers=headers).status_code == 401
    assert client.post("/api/mobile/v1/auth/token", json=sign_in).status_code == 401

    assert runner.invoke(args=["disable-user", "leaver", "--enable"]).exit_code == 0
    assert client.post("/api/mobile/v1/auth/token", json=sign_in).status_code == 200
    assert runner.invoke(args=["disable-user", "nobody"]).exit_code != 0
    with empty_app.app_context():
        assert db.session.scalar(db.select(User.is_active).where(User.username == "leaver"))


def test_seed_demo_refuses_what_looks_like_a_real_deployment(databases, tmp_path):
    from server import create_app

    app = create_app(
        {
            "FIELDWORK_DATABASE_URL": databases.create(),
            "FIELDWORK_INSTANCE_PATH": str(tmp_path),
            "FIELDWORK_SECRET_KEY": "test",
            "FIELDWORK_BASE_URL": "https://service.example.cn",
            "TESTING": True,
        }
    )
    try:
        runner = app.test_cli_runner()
        runner.invoke(args=["db", "upgrade"])
        refused = runner.invoke(args=["seed-demo", "--orders", "2"])
        assert refused.exit_code != 0
        assert "looks like a real deployment" in refused.output
        forced = runner.invoke(args=["seed-demo", "--orders", "2", "--force"])
        assert forced.exit_code == 0, forced.output
    finally:
        dispose(app)
