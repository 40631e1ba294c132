"""Staying signed in: an expired sign-in asks for the password and keeps the queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from tests.technician_app.conftest import go_offline, go_online, screenshot, sign_in, watch_errors
from tests.technician_app.test_offline_day import server_state, tap_step


def expire_sign_ins(app: Any, user_id: int) -> None:
    """Let every token of the technician run out (access and refresh), committed."""
    from server.extensions import db
    from server.models import ApiToken
    from server.models.base import utcnow

    with app.app_context():
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()


def test_an_expired_sign_in_asks_for_the_password_and_sends_the_queue_after(
    app_server: dict[str, Any], phone: Any
) -> None:
    """Steps queued offline survive the expiry; after the password they are sent once."""
    job = app_server["jobs"]["expiry"]
    context = phone()
    page = context.pages[0]
    errors = watch_errors(page)
    sign_in(page, "anna", app_server["password"])
    go_offline(context)
    page.goto(f"/app/jobs/{job}")
    tap_step(page, "accept")
    expire_sign_ins(app_server["app"], app_server["techs"]["anna"])
    go_online(context)  # the app syncs when the network comes back: the server says 401
    notice = page.locator("[data-testid=session-expired]")
    notice.wait_for()
    assert "1 unsent changes are kept" in notice.inner_text()
    assert page.locator("input[name=username]").input_value() == "anna"
    screenshot(page, "en-session-expired")
    assert server_state(app_server["app"], job)["transitions"] == ["assign"]

    page.fill("input[name=password]", app_server["password"])
    page.click("button[type=submit]")
    page.locator("[data-testid=unsent-count]").filter(has_text="All sent").wait_for()
    assert server_state(app_server["app"], job)["transitions"] == ["assign", "accept"]
    assert errors == []


def test_someone_else_on_an_expired_phone_signs_the_last_technician_out_first(
    app_server: dict[str, Any], phone: Any
) -> None:
    """The expired screen offers 'Not anna? Sign out', which asks before discarding."""
    context = phone()
    page = context.pages[0]
    sign_in(page, "anna", app_server["password"])
    expire_sign_ins(app_server["app"], app_server["techs"]["anna"])
    page.locator("[data-testid=sync-now]").click()
    page.locator("[data-testid=session-expired]").wait_for()
    page.get_by_role("button", name="Not anna? Sign out").click()
    page.locator("[data-testid=session-expired]").wait_for(state="detached")
    assert page.locator("input[name=username]").input_value() == ""
    page.fill("input[name=username]", "liwei")
    page.fill("input[name=password]", app_server["password"])
    page.click("button[type=submit]")
    page.locator("nav.tabs").get_by_text("我的一天").wait_for()


def test_signing_out_asks_before_discarding_unsent_work(
    app_server: dict[str, Any], phone: Any
) -> None:
    """Cancel keeps the technician signed in with the queue; OK signs out and clears it."""
    context = phone()
    page = context.pages[0]
    sign_in(page, "anna", app_server["password"])
    go_offline(context)
    page.goto(f"/app/jobs/{app_server['jobs']['expiry']}")
    page.locator("[data-step]").first.wait_for()
    tap_step(page, page.locator("[data-step]").first.get_attribute("data-step"))
    page.goto("/app/settings")
    questions: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.locator("[data-testid=sign-out]").click()
    assert "1 changes are not sent yet" in questions[0]
    assert page.locator("[data-testid=unsent-count]").inner_text() == "1 unsent"
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.locator("[data-testid=sign-out]").click()
    page.locator("input[name=username]").wait_for()
    assert page.locator("input[name=username]").input_value() == ""
