"""Token endpoints: sign in, rotate, sign out, throttling."""

from __future__ import annotations

from datetime import timedelta

from server.auth.tokens import token_hash
from server.extensions import db
from server.models import ApiToken, Role
from server.models.base import utcnow
from tests.factories import PASSWORD


def sign_in(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_sign_in_returns_a_bearer_token_pair_stored_only_as_hashes(client, create_user):
    user = create_user(Role.DISPATCHER)
    response = sign_in(client, user.username)
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert len(body["access_token"]) > 40
    assert body["access_token"] != body["refresh_token"]
    stored = {t.token_hash for t in db.session.scalars(db.select(ApiToken))}
    assert token_hash(body["access_token"]) in stored
    assert body["access_token"] not in stored


def test_username_is_case_insensitive_but_password_is_exact(client, create_user):
    user = create_user(Role.DISPATCHER)
    assert sign_in(client, user.username.upper()).status_code == 200
    assert sign_in(client, user.username, PASSWORD.upper()).status_code == 401


def test_wrong_password_is_a_401_problem(client, create_user):
    user = create_user(Role.DISPATCHER)
    response = sign_in(client, user.username, "wrong password")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "invalid_credentials"


def test_disabled_user_cannot_sign_in_and_loses_live_tokens(client, create_user):
    user = create_user(Role.DISPATCHER)
    token = sign_in(client, user.username).get_json()["access_token"]
    user.is_active = False
    db.session.flush()
    assert sign_in(client, user.username).status_code == 401
    response = client.get("/api/v1/categories", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_sign_in(client, create_user):
    user = create_user(Role.DISPATCHER)
    first = sign_in(client, user.username).get_json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    # The old refresh token comes back (stolen copy): refused, and the family is revoked.
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    headers = {"Authorization": f"Bearer {second['access_token']}"}
    assert client.get("/api/v1/categories", headers=headers).status_code == 401


def test_logout_revokes_access_and_refresh_tokens(client, create_user):
    user = create_user(Role.DISPATCHER)
    pair = sign_in(client, user.username).get_json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/v1/categories", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/categories", headers=headers).status_code == 401
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refresh.status_code == 401


def test_expired_access_token_is_refused(client, create_user):
    user = create_user(Role.DISPATCHER)
    pair = sign_in(client, user.username).get_json()
    row = db.session.scalar(
        db.select(ApiToken).where(ApiToken.token_hash == token_hash(pair["access_token"]))
    )
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    response = client.get(
        "/api/v1/categories", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_mobile_token_does_not_work_on_the_integration_api(client, create_user, api_headers):
    from server.models import TokenAudience

    user = create_user(Role.DISPATCHER)
    headers = api_headers(user, TokenAudience.MOBILE)
    assert client.get("/api/v1/categories", headers=headers).status_code == 401


def test_console_cookie_alone_does_not_authenticate_the_api(client, create_user):
    user = create_user(Role.DISPATCHER)
    page = client.get("/login")
    token = page.data.split(b'name="csrf_token" type="hidden" value="')[1].split(b'"')[0].decode()
    signed_in = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302
    assert client.get("/api/v1/categories").status_code == 401


def test_ten_failed_sign_ins_a_minute_for_one_account_are_throttled(client, create_user):
    user = create_user(Role.DISPATCHER)
    for attempt in range(10):
        # Different client addresses: the per-account limit still applies.
        response = client.post(
            "/api/v1/auth/token",
            json={"username": user.username, "password": f"nope{attempt}"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{attempt}"},
        )
        assert response.status_code == 401
    blocked = client.post(
        "/api/v1/auth/token",
        json={"username": user.username, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.99"},
    )
    assert blocked.status_code == 429
    assert blocked.mimetype == "application/problem+json"
    assert blocked.get_json()["code"] == "rate_limited"
    # Another account from a fresh address is not affected.
    other = create_user(Role.DISPATCHER)
    assert sign_in(client, other.username).status_code == 200


def test_ten_failed_sign_ins_from_one_address_are_throttled(client, create_user):
    users = [create_user(Role.DISPATCHER) for _ in range(11)]
    for user in users[:10]:
        assert sign_in(client, user.username, "wrong-password").status_code == 401
    assert sign_in(client, users[10].username).status_code == 429


def test_successful_sign_ins_do_not_count_against_the_limit(client, create_user):
    user = create_user(Role.DISPATCHER)
    for _ in range(12):
        assert sign_in(client, user.username).status_code == 200
