"""A dispatcher changes a job while the phone is offline: the app shows it, loses nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.technician_app.conftest import go_offline, go_online, screenshot, sign_in, watch_errors
from tests.technician_app.test_offline_day import server_state, tap_step


def reassign(app: Any, job_id: int, technician_id: int, dispatcher_id: int) -> None:
    """Reassign a job as the dispatcher, committed."""
    from server.extensions import db
    from server.models import User, WorkOrder
    from server.services.work_orders import apply_transition

    with app.app_context():
        order = db.session.get(WorkOrder, job_id)
        dispatcher = db.session.get(User, dispatcher_id)
        apply_transition(
            order, "reassign", dispatcher, {"assignee_id": technician_id}, order.version
        )
        db.session.commit()


def reschedule(app: Any, job_id: int, dispatcher_id: int) -> None:
    """Move a job an hour later as the dispatcher (a new version), committed."""
    from server.extensions import db
    from server.models import User, WorkOrder
    from server.services.work_orders import update_work_order

    with app.app_context():
        order = db.session.get(WorkOrder, job_id)
        dispatcher = db.session.get(User, dispatcher_id)
        update_work_order(
            order,
            {
                "scheduled_start_at": order.scheduled_start_at + timedelta(hours=1),
                "scheduled_end_at": order.scheduled_end_at + timedelta(hours=1),
            },
            dispatcher,
            order.version,
        )
        db.session.commit()


def test_reassigned_while_offline_is_refused_and_shown_other_jobs_go_through(
    app_server: dict[str, Any], phone: Any
) -> None:
    """Steps on a job taken away are refused with the new state; the other job's are sent."""
    jobs = app_server["jobs"]
    context = phone()
    page = context.pages[0]
    errors = watch_errors(page)
    sign_in(page, "anna", app_server["password"])
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")

    go_offline(context)
    page.goto(f"/app/jobs/{jobs['leak']}")
    tap_step(page, "accept")
    tap_step(page, "start_travel")
    page.goto(f"/app/jobs/{jobs['emergency']}")
    tap_step(page, "accept")
    reassign(
        app_server["app"], jobs["leak"], app_server["techs"]["other"], app_server["dispatcher"]
    )

    go_online(context)
    page.locator("[data-testid=sync-now]").click()
    page.locator("[data-testid=sync-now]").filter(has_text="Sync now").wait_for()
    page.goto(f"/app/jobs/{jobs['leak']}")
    queue = page.locator("[data-testid=job-queue]")
    queue.get_by_text("The server refused a step").wait_for()
    statuses = queue.locator("[data-testid=queue-item]")
    assert [item.get_attribute("data-status") for item in statuses.all()] == ["refused", "held"]
    assert "No such work order." in queue.inner_text()
    page.get_by_text("This job is no longer yours on the server.").wait_for()
    screenshot(page, "en-conflict")

    # The other job's step went through, and the refused one changed nothing.
    assert server_state(app_server["app"], jobs["emergency"])["transitions"] == [
        "assign",
        "accept",
    ]
    assert server_state(app_server["app"], jobs["leak"])["transitions"] == ["assign", "reassign"]

    # The technician lets them go: the job leaves the phone at the next sync.
    page.on("dialog", lambda dialog: dialog.accept())
    queue.get_by_role("button", name="Discard my steps").click()
    queue.wait_for(state="detached")
    page.locator("[data-testid=sync-now]").click()
    page.get_by_text("This job is not on this phone.").wait_for()
    page.goto("/app/")
    assert page.locator(f"[data-testid=job-card][data-job-id='{jobs['leak']}']").count() == 0
    assert errors == []


def test_a_changed_job_shows_what_changed_and_sends_the_steps_again_on_request(
    app_server: dict[str, Any], phone: Any
) -> None:
    """A 409: the new state is shown, later steps are held, "try again" sends them once."""
    jobs = app_server["jobs"]
    context = phone()
    page = context.pages[0]
    errors = watch_errors(page)
    sign_in(page, "anna", app_server["password"])
    go_offline(context)
    page.goto(f"/app/jobs/{jobs['moved']}")
    tap_step(page, "accept")
    tap_step(page, "arrive")
    reschedule(app_server["app"], jobs["moved"], app_server["dispatcher"])
    go_online(context)
    page.locator("[data-testid=sync-now]").click()
    queue = page.locator("[data-testid=job-queue]")
    queue.get_by_text("The server refused a step").wait_for()
    assert "The job changed on the server: it is now “Assigned”." in queue.inner_text()
    assert [
        i.get_attribute("data-status") for i in queue.locator("[data-testid=queue-item]").all()
    ] == [
        "refused",
        "held",
    ]
    # What changed: the dispatcher moved the job an hour on.
    changes = page.locator("[data-testid=conflict-changes]")
    changes.wait_for()
    assert changes.inner_text().startswith("Time:")
    screenshot(page, "en-conflict-409")
    queue.get_by_role("button", name="Try my steps again").click()
    queue.wait_for(state="detached")
    page.locator("[data-testid=unsent-count]").filter(has_text="All sent").wait_for()
    assert server_state(app_server["app"], jobs["moved"])["transitions"] == [
        "assign",
        "accept",
        "arrive",
    ]
    assert errors == []
