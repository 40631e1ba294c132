"""A push (ids only) is shown by the service worker and makes the open app sync."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.technician_app.conftest import sign_in, watch_errors


def assign_new_job(app: Any, data: dict[str, Any], title: str) -> int:
    """Open and assign a job to anna as the dispatcher, committed; return its id."""
    from server.extensions import db
    from server.models import Category, User, WorkOrder
    from server.services.work_orders import apply_transition, create_work_order

    with app.app_context():
        dispatcher = db.session.get(User, data["dispatcher"])
        template = db.session.get(WorkOrder, data["jobs"]["cold_room"])
        category = db.session.scalars(db.select(Category)).first()
        order = create_work_order(
            {
                "category_id": category.id,
                "customer_id": template.customer_id,
                "site_id": template.site_id,
                "title": title,
                "scheduled_start_at": datetime.now(UTC) + timedelta(hours=2),
            },
            dispatcher,
        )
        apply_transition(
            order, "assign", dispatcher, {"assignee_id": data["techs"]["anna"]}, order.version
        )
        db.session.commit()
        return order.id


def test_a_push_is_shown_in_the_technicians_words_and_the_app_syncs(
    app_server: dict[str, Any], phone: Any
) -> None:
    """The payload carries ids only: the notification names the job, the day shows it."""
    context = phone()
    page = context.pages[0]
    errors = watch_errors(page)
    sign_in(page, "anna", app_server["password"])
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    for _ in range(50):
        found = [r for r in registrations if r["scopeURL"].endswith("/app/")]
        if found:
            break
        page.wait_for_timeout(100)
    registration = found[0]

    job_id = assign_new_job(app_server["app"], app_server, "Compressor tripping")
    payload = {
        "v": 1,
        "kind": "work_order_assigned",
        "job_id": job_id,
        "url": f"/app/jobs/{job_id}",
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": app_server["url"],
            "registrationId": registration["registrationId"],
            "data": json.dumps(payload),
        },
    )
    # The open app synced because of the push: the new job is on the phone, no tap needed.
    page.locator(f"[data-testid=job-card][data-job-id='{job_id}']").wait_for()
    shown = page.evaluate(
        "async () => (await (await navigator.serviceWorker.ready).getNotifications())"
        ".map(n => ({title: n.title, body: n.body, url: n.data.url, tag: n.tag}))"
    )
    # The job was not on the phone when the push came: the generic words are used.
    assert shown == [
        {
            "title": "New job: a job",
            "body": "Tap to open it.",
            "url": f"/app/jobs/{job_id}",
            "tag": f"job-{job_id}",
        }
    ]
    # A second push about the same job, now on the phone, names it (and replaces the first).
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": app_server["url"],
            "registrationId": registration["registrationId"],
            "data": json.dumps({**payload, "kind": "work_order_changed"}),
        },
    )
    page.wait_for_timeout(500)
    shown = page.evaluate(
        "async () => (await (await navigator.serviceWorker.ready).getNotifications())"
        ".map(n => n.title)"
    )
    assert shown == ["A job changed: Compressor tripping"]
    # The push's link form (/app/#/jobs/N) opens the job too.
    page.goto(f"/app/#/jobs/{job_id}")
    page.locator(f"[data-testid=job-screen][data-job-id='{job_id}']").wait_for()
    assert errors == []


def test_pulling_the_day_down_syncs(app_server: dict[str, Any], phone: Any) -> None:
    """A thumb pull from the top of My day fetches a job assigned meanwhile."""
    context = phone()
    page = context.pages[0]
    sign_in(page, "anna", app_server["password"])
    job_id = assign_new_job(app_server["app"], app_server, "Condensate pump dead")
    cdp = context.new_cdp_session(page)
    for kind, y in (
        ("touchStart", 150),
        ("touchMove", 220),
        ("touchMove", 300),
        ("touchEnd", None),
    ):
        points = [] if y is None else [{"x": 180, "y": y}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    page.locator(f"[data-testid=job-card][data-job-id='{job_id}']").wait_for()
