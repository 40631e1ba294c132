"""RELIABILITY D6: only our host names are served; only the configured proxies are believed."""

from __future__ import annotations

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from server.config import load_settings
from server.models import Role
from tests.api.test_auth_tokens import sign_in
from tests.factories import PASSWORD


@pytest.mark.parametrize("path", ["/healthz", "/login", "/api/v1/work-orders"])
def test_a_foreign_host_header_is_refused_everywhere(client, path):
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_the_api_refuses_a_foreign_host_as_a_problem(client):
    response = client.get("/api/v1/work-orders", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"


def test_our_names_are_served_with_or_without_a_port(client):
    for host in ("localhost", "127.0.0.1:5000"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200


def test_the_base_url_host_and_listed_names_are_trusted():
    settings = load_settings(
        {
            "FIELDWORK_BASE_URL": "https://service.example.cn",
            "FIELDWORK_TRUSTED_HOSTS": "fieldwork.internal, .example.com",
        },
        overrides={},
    )
    assert set(settings.trusted_hosts) == {
        "service.example.cn",
        "fieldwork.internal",
        ".example.com",
        "localhost",
        "127.0.0.1",
    }
    with pytest.raises(ValueError, match="FIELDWORK_TRUSTED_HOSTS"):
        load_settings({"FIELDWORK_TRUSTED_HOSTS": "evil.example/path"}, overrides={})
    with pytest.raises(ValueError, match="FIELDWORK_PROXY_HOPS"):
        load_settings({"FIELDWORK_PROXY_HOPS": "all"}, overrides={})


def test_proxy_hops_wrap_the_app_only_when_configured(tmp_path):
    from server import create_app

    def built(**extra):
        return create_app(
            {
                "FIELDWORK_INSTANCE_PATH": str(tmp_path),
                "FIELDWORK_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                "FIELDWORK_SECRET_KEY": "x",
                **extra,
            }
        )

    assert not isinstance(built().wsgi_app, ProxyFix)
    behind = built(FIELDWORK_PROXY_HOPS="1").wsgi_app
    assert isinstance(behind, ProxyFix)
    assert behind.x_for == 1


def test_a_spoofed_forwarded_for_does_not_escape_the_sign_in_throttle(
    app, client, create_user, monkeypatch
):
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1))
    users = [create_user(Role.DISPATCHER) for _ in range(12)]
    behind_proxy = {"REMOTE_ADDR": "10.0.0.2"}

    def attempt(user, forwarded, password="wrong-password"):  # noqa: S107 - a test value
        return client.post(
            "/api/v1/auth/token",
            json={"username": user.username, "password": password},
            headers={"X-Forwarded-For": forwarded},
            environ_base=behind_proxy,
        )

    # The attacker varies the address it claims; the proxy appends the real one.
    for n, user in enumerate(users[:10]):
        assert attempt(user, f"198.51.100.{n}, 203.0.113.7").status_code == 401
    assert attempt(users[10], "198.51.100.99, 203.0.113.7", PASSWORD).status_code == 429
    # Another customer behind the same proxy has a bucket of their own.
    assert sign_in_from(client, users[11], "203.0.113.8", behind_proxy).status_code == 200


def sign_in_from(client, user, address, environ):
    return client.post(
        "/api/v1/auth/token",
        json={"username": user.username, "password": PASSWORD},
        headers={"X-Forwarded-For": address},
        environ_base=environ,
    )


def test_without_proxy_hops_forwarded_for_is_ignored(client, create_user):
    users = [create_user(Role.DISPATCHER) for _ in range(11)]
    for n, user in enumerate(users[:10]):
        response = client.post(
            "/api/v1/auth/token",
            json={"username": user.username, "password": "wrong-password"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )
        assert response.status_code == 401
    assert sign_in(client, users[10].username).status_code == 429
