"""Console sessions end after 2 idle hours and 12 hours in all (RELIABILITY B3).

The clock is moved forward by patching the sessions module's ``utcnow``: the session rows
keep their real timestamps, as they would when a browser comes back later.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.auth import console_sessions
from server.auth.console_sessions import ABSOLUTE_LIFETIME, IDLE_LIFETIME
from server.models.base import utcnow


@pytest.fixture
def clock(monkeypatch):
    """Move the sessions' clock: ``clock(hours=3)`` puts it 3 hours ahead of now."""
    start = utcnow()

    def move(**ahead: float) -> None:
        monkeypatch.setattr(console_sessions, "utcnow", lambda: start + timedelta(**ahead))

    return move


def signed_in(client) -> bool:
    response = client.get("/")
    if response.status_code == 302:
        assert "/login" in response.location
        return False
    assert response.status_code == 200
    return True


def test_the_documented_lifetimes():
    assert IDLE_LIFETIME == timedelta(hours=2)
    assert ABSOLUTE_LIFETIME == timedelta(hours=12)


def test_a_session_left_idle_past_two_hours_needs_a_new_sign_in(client, office, clock):
    clock(hours=1, minutes=59)
    assert signed_in(client)
    clock(hours=1, minutes=59 + 121)  # idle again for just over two hours
    assert not signed_in(client)
    clock(hours=4, minutes=5)  # and it stays over: the next request does not revive it
    assert not signed_in(client)


def test_a_session_in_use_lasts_twelve_hours_and_no_longer(client, office, clock):
    for hour in range(1, 12):
        clock(hours=hour, minutes=30)  # a request every 90 minutes or less keeps it alive
        assert signed_in(client), f"signed out after {hour}.5 hours of use"
    clock(hours=12, minutes=1)
    assert not signed_in(client)


def test_signing_out_ends_the_session_on_the_server(client, office, app):
    _user, token = office
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    # Replaying the old cookie after sign-out does not bring the session back.
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie.value)
    assert not signed_in(client)
