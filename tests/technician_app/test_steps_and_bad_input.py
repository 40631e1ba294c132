"""Steps that ask for input (decline, hold), and what the app does with bad input."""

from __future__ import annotations

from typing import Any

from tests.technician_app.conftest import go_offline, go_online, sign_in, watch_errors
from tests.technician_app.test_offline_day import server_state, tap_step


def events_of(app: Any, job_id: int) -> list[tuple[str | None, dict[str, Any]]]:
    """Return (transition, data) of the job's events."""
    from sqlalchemy import select

    from server.extensions import db
    from server.models import WorkOrderEvent

    with app.app_context():
        rows = db.session.scalars(
            select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == job_id)
        ).all()
        return [(row.transition, dict(row.data)) for row in rows]


def test_decline_needs_a_reason_and_hold_offers_the_reasons_by_name(
    app_server: dict[str, Any], phone: Any
) -> None:
    """Offline: decline one job with a reason; put another on hold from the labelled list."""
    jobs = app_server["jobs"]
    context = phone()
    page = context.pages[0]
    errors = watch_errors(page)
    sign_in(page, "anna", app_server["password"])
    go_offline(context)
    page.goto(f"/app/jobs/{jobs['decline']}")
    page.locator("[data-step=decline]").click()
    confirm = page.get_by_role("button", name="Confirm: Decline")
    assert confirm.is_disabled()  # the reason is required
    page.fill("textarea[name=reason]", "Van broke down")
    confirm.click()
    page.get_by_text("Nothing to do on this job now.").wait_for()  # queued: the job is declined

    page.goto(f"/app/jobs/{jobs['hold']}")
    for step in ("accept", "arrive", "start_work"):
        tap_step(page, step)
    page.locator("[data-step=put_on_hold]").click()
    options = page.locator("select[name=reason] option").all_inner_texts()
    assert options == [
        "Waiting for parts",
        "Waiting for the customer",
        "Waiting for site access",
        "Other",
    ]
    page.select_option("select[name=reason]", "waiting_for_parts")
    page.get_by_role("button", name="Confirm: Put on hold").click()
    page.locator("[data-step=resume_work]").wait_for()

    go_online(context)
    page.locator("[data-testid=sync-now]").click()
    page.locator("[data-testid=unsent-count]").filter(has_text="All sent").wait_for()
    declined = [
        data for name, data in events_of(app_server["app"], jobs["decline"]) if name == "decline"
    ]
    assert declined[0]["reason"] == "Van broke down"
    held = server_state(app_server["app"], jobs["hold"])
    assert held["state"] == "on_hold"
    hold_event = [
        data for name, data in events_of(app_server["app"], jobs["hold"]) if name == "put_on_hold"
    ]
    assert hold_event[0]["reason"] == "waiting_for_parts"
    # The declined job left the technician's list.
    page.goto("/app/")
    assert page.locator(f"[data-testid=job-card][data-job-id='{jobs['decline']}']").count() == 0
    assert errors == []


def test_bad_input_gets_clear_words_and_nothing_leaks(
    app_server: dict[str, Any], phone: Any
) -> None:
    """A file that is not a picture is refused on the phone; another's job id shows nothing."""
    context = phone()
    page = context.pages[0]
    sign_in(page, "anna", app_server["password"])
    page.goto(f"/app/jobs/{app_server['jobs']['not_yours']}")
    page.get_by_text("This job is not on this phone.").wait_for()
    assert "Someone else" not in page.locator("body").inner_text()

    page.goto(f"/app/jobs/{app_server['jobs']['bad_input']}")
    for step in ("accept", "arrive", "start_work"):
        tap_step(page, step)
    page.locator("[data-testid=photo-camera]").set_input_files(
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"this is not a picture"}
    )
    page.get_by_text("That file is not a picture.").wait_for()
    assert page.locator("[data-testid=photo-thumb]").count() == 0
    # An empty signature pad cannot be saved, whatever name is typed.
    page.fill("input[name=signer_name]", "Zhou Min")
    page.get_by_role("button", name="Save signature").click()
    page.get_by_text("The pad is empty: ask the customer to sign.").wait_for()
    assert page.locator("[data-testid=signed-by]").count() == 0
    assert page.locator("[data-testid=job-unsent]").inner_text() == "3 unsent"  # the steps only


#: Damage the first outbox item in IndexedDB, as a buggy extension or a curious user might.
TAMPER = """
() => new Promise((resolve) => {
  const open = indexedDB.open("fieldwork");
  open.onsuccess = () => {
    const store = open.result.transaction("outbox", "readwrite").objectStore("outbox");
    const cursor = store.openCursor();
    cursor.onsuccess = () => {
      const item = cursor.result.value;
      item.payload = null;
      delete item.sentBody;
      cursor.result.update(item).onsuccess = () => { open.result.close(); resolve(item.jobId); };
    };
  };
})
"""


def test_a_tampered_record_is_refused_and_the_rest_goes_through(
    app_server: dict[str, Any], phone: Any
) -> None:
    """A damaged outbox item does not break the screens and never blocks other jobs."""
    jobs = app_server["jobs"]
    context = phone()
    page = context.pages[0]
    errors = watch_errors(page)
    sign_in(page, "anna", app_server["password"])
    go_offline(context)
    page.goto(f"/app/jobs/{jobs['tamper_a']}")
    tap_step(page, "accept")
    page.goto(f"/app/jobs/{jobs['tamper_b']}")
    tap_step(page, "accept")
    assert page.evaluate(TAMPER) == jobs["tamper_a"]
    page.goto(f"/app/jobs/{jobs['tamper_a']}")
    page.locator("[data-testid=job-screen]").wait_for()
    go_online(context)
    page.locator("[data-testid=sync-now]").click()
    page.locator("[data-testid=refusal-reason]").wait_for()
    assert server_state(app_server["app"], jobs["tamper_b"])["transitions"] == ["assign", "accept"]
    assert server_state(app_server["app"], jobs["tamper_a"])["transitions"] == ["assign"]
    assert errors == []
