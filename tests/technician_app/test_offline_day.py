"""A whole day offline: everything done on the phone reaches the server exactly once."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.technician_app.conftest import (
    go_offline,
    go_online,
    screenshot,
    sign_in,
    watch_errors,
)

STEPS = ["accept", "start_travel", "arrive", "start_work", "complete"]

#: Read the phone's outbox and photos straight from IndexedDB (no app code involved).
READ_IDB = """
() => new Promise((resolve, reject) => {
  const open = indexedDB.open("fieldwork");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const tx = db.transaction(["outbox", "photos"], "readonly");
    const out = {};
    tx.objectStore("outbox").getAll().onsuccess = (e) => { out.outbox = e.target.result.map(
      (i) => ({kind: i.kind, status: i.status, key: i.key, createdAt: i.createdAt,
               transition: i.payload.transition || null,
               located: Boolean(i.payload.location)})); };
    tx.objectStore("photos").getAll().onsuccess = (e) => { out.photos = e.target.result.map(
      (p) => ({clientId: p.clientId, sha256: p.sha256, width: p.width, height: p.height})); };
    tx.oncomplete = () => { db.close(); resolve(out); };
  };
})
"""


def photo_file(
    color: tuple[int, int, int], name: str = "camera.jpg", size: tuple[int, int] = (2400, 1800)
) -> dict[str, Any]:
    """Return a camera-sized JPEG for set_input_files."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).ellipse([200, 200, 900, 900], fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def sign_pad(page: Any) -> None:
    """Draw a signature on the pad with the pointer."""
    pad = page.locator("[data-testid=signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 20, y + box["height"] * 0.6)
    page.mouse.down()
    for step in range(1, 25):
        page.mouse.move(x + 20 + step * 10, y + box["height"] * (0.3 + 0.3 * (step % 2)), steps=2)
    page.mouse.up()


def tap_step(page: Any, name: str) -> None:
    """Tap a step button; wait until the phone moved on to the next steps."""
    page.locator(f"[data-step={name}]").click()
    page.locator(f"[data-step={name}]").wait_for(state="detached")


def report_and_complete(page: Any, photos: int) -> None:
    """On a job in progress: tick the checklist, take photos, a part, sign, complete."""
    for item in page.locator("[data-testid=checklist-item]").all():
        item.get_by_role("button", name="OK", exact=True).click()
    page.locator("[data-testid=checklist-left]").filter(has_text="All answered").wait_for()
    colors = [(200, 30, 30), (30, 160, 40), (30, 60, 200), (200, 160, 30)]
    for index, color in enumerate(colors[:photos]):
        camera = page.locator("[data-testid=photo-camera]")
        camera.set_input_files(photo_file(color, f"IMG_{index}.jpg"))
        page.locator("[data-testid=photo-thumb]").nth(index).wait_for()
    page.fill("input[name=part_number]", "FLT-20")
    page.fill("input[name=part_description]", "Air filter")
    page.fill("input[name=part_quantity]", "2")
    page.get_by_role("button", name="Add part").click()
    page.wait_for_selector("[data-testid=part]")
    page.fill("input[name=labour_minutes]", "45")
    page.locator("input[name=labour_minutes]").press("Tab")  # saved when the field is left
    page.fill("textarea[name=work_notes]", "Replaced the clogged filter; pressure normal.")
    page.get_by_role("button", name="Save notes").click()
    page.get_by_text("Saved on the phone").wait_for()
    page.select_option("select[name=resolution_code]", "replaced_part")
    sign_pad(page)
    page.fill("input[name=signer_name]", "Zhou Min")
    page.get_by_role("button", name="Save signature").click()
    page.wait_for_selector("[data-testid=signed-by]")
    page.locator("[data-step=complete]").click()
    page.get_by_role("button", name="Confirm: Complete").click()
    page.locator("[data-step=complete]").wait_for(state="detached")


def run_background_work(app: Any) -> None:
    """Run the outbox relay until nothing is left (the worker's job: sheets, e-mails).

    In a thread of its own: the PDF signer runs asyncio, and Playwright's sync API keeps an
    event loop running in the test's thread.
    """
    import threading

    import server.jobs.tasks  # noqa: F401  (registers the tasks)
    from server.jobs import relay

    def drain() -> None:
        with app.app_context():
            while relay.run_once("technician-app-test"):
                pass

    worker = threading.Thread(target=drain)
    worker.start()
    worker.join(timeout=120)


def sheet_emails(app: Any, number: str) -> list[Any]:
    """Return the saved e-mails (no SMTP in tests) that carry the job's completion sheet."""
    from email import policy
    from email.parser import BytesParser

    folder = Path(app.config["FIELDWORK_SETTINGS"].instance_path) / "outbox"
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        pdfs = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
        if pdfs and number in str(message["Subject"]) + message.get_body().get_content():
            found.append(message)
    return found


def server_state(app: Any, job_id: int) -> dict[str, Any]:
    """Return what the server holds for a job: events, photos, signatures, report, outbox."""
    from server.extensions import db
    from server.models import Attachment, AttachmentKind, OutboxMessage, WorkOrder, WorkOrderEvent

    with app.app_context():
        order = db.session.get(WorkOrder, job_id)
        events = db.session.scalars(
            select(WorkOrderEvent)
            .where(WorkOrderEvent.work_order_id == job_id)
            .order_by(WorkOrderEvent.id)
        ).all()
        files = db.session.scalars(
            select(Attachment).where(Attachment.work_order_id == job_id)
        ).all()
        actions = db.session.scalars(
            select(OutboxMessage.action).where(OutboxMessage.work_order_id == job_id)
        ).all()
        from server.services.field_reports import current_report, parts_of

        report = current_report(order)
        return {
            "state": order.state,
            "transitions": [e.transition for e in events if e.transition],
            "captured": {e.transition: e.data.get("captured_at") for e in events if e.transition},
            "locations": {e.transition: e.data.get("location") for e in events if e.transition},
            "photos": [
                (a.client_id, a.sha256, a.width, a.height)
                for a in files
                if a.kind is AttachmentKind.PHOTO
            ],
            "signatures": [a.signer_name for a in files if a.kind is AttachmentKind.SIGNATURE],
            "checklist": report.checklist if report else [],
            "parts": [(p.part_number, p.quantity) for p in parts_of(order)],
            "resolution_code": report.resolution_code if report else None,
            "labour_minutes": report.labour_minutes if report else None,
            "work_notes": report.work_notes if report else None,
            "actions": Counter(actions),
        }


def test_a_whole_day_offline_reaches_the_server_once(
    app_server: dict[str, Any], phone: Any, tmp_path: Path
) -> None:
    """Sign in online; work a job offline; reload; reboot; sync → exactly once on the server."""
    profile = tmp_path / "phone-profile"
    job_id = app_server["jobs"]["cold_room"]

    context = phone(profile)
    page = context.pages[0]
    errors = watch_errors(page)
    sign_in(page, "anna", app_server["password"])
    # The shell is precached once the service worker is active: only then may we go offline.
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.reload()  # controlled by the service worker from here on
    assert page.evaluate("() => navigator.serviceWorker.controller !== null")
    page.goto("/app/settings")
    page.locator("input[name=share_position]").check()
    page.goto("/app/")
    page.wait_for_selector("[data-testid=job-card]")
    cards = page.locator("[data-testid=job-card]")
    # Emergency first, unmistakable.
    assert "EMERGENCY" in cards.first.inner_text()
    screenshot(page, "en-day")

    go_offline(context)
    page.locator(f"[data-testid=job-card][data-job-id='{job_id}'] a").click()
    page.wait_for_selector("[data-testid=job-screen]")
    assert page.locator("a[href^='tel:+862155550101']").count() == 1
    for name in ("accept", "start_travel", "arrive", "start_work"):
        tap_step(page, name)
    # Completion is refused on the phone for the server's reasons.
    page.locator("[data-step=complete]").click()
    blockers = page.locator("[data-testid=completion-blockers]").inner_text()
    for reason in ("photo", "checklist", "signature"):
        assert reason in blockers
    report_and_complete(page, photos=3)
    screenshot(page, "en-job-completed-offline")

    # The position joins each tap when the phone has it (the tap is stored at once).
    for _ in range(50):
        steps = [i for i in page.evaluate(READ_IDB)["outbox"] if i["kind"] == "transition"]
        if all(i["located"] for i in steps):
            break
        page.wait_for_timeout(100)
    # Reload with no network: the shell comes from the service worker, the day from IndexedDB.
    page.reload()
    page.wait_for_selector("[data-testid=job-screen]")
    queued = page.evaluate(READ_IDB)
    assert [i["status"] for i in queued["outbox"]] == ["waiting"] * len(queued["outbox"])
    assert [i["transition"] for i in queued["outbox"] if i["kind"] == "transition"] == STEPS
    assert page.locator("[data-testid=unsent-count]").inner_text() == (
        f"{len(queued['outbox'])} unsent"
    )
    context.close()

    # A reboot: a new browser on the same profile, still offline.
    context = phone(profile)
    go_offline(context)
    page = context.pages[0]
    errors += watch_errors(page)
    page.goto(f"/app/jobs/{job_id}")
    page.wait_for_selector("[data-testid=job-screen]")
    assert page.evaluate(READ_IDB)["outbox"] == queued["outbox"]
    assert server_state(app_server["app"], job_id)["transitions"] == ["assign"]

    go_online(context)
    page.locator("[data-testid=sync-now]").click()
    page.locator("[data-testid=unsent-count]").filter(has_text="All sent").wait_for(timeout=30000)
    page.locator("[data-testid=sheet-notice]").wait_for()
    screenshot(page, "en-job-synced")
    # A second sync sends nothing again.
    page.locator("[data-testid=sync-now]").click()
    page.locator("[data-testid=sync-now]").filter(has_text="Sync now").wait_for()
    context.close()

    state = server_state(app_server["app"], job_id)
    assert state["state"] == "completed"
    assert state["transitions"] == ["assign", *STEPS]
    taps = {i["transition"]: i["createdAt"] for i in queued["outbox"] if i["transition"]}
    for name in STEPS:
        assert datetime.fromisoformat(state["captured"][name]) == datetime.fromisoformat(
            taps[name]
        ), name
        assert state["locations"][name]["latitude"] == 31.2291
    phone_photos = {(p["clientId"], p["sha256"]) for p in queued["photos"]}
    assert {(client_id, sha) for client_id, sha, _, _ in state["photos"]} == phone_photos
    assert len(state["photos"]) == 3
    assert all(max(w, h) <= 1600 for _, _, w, h in state["photos"])
    assert state["signatures"] == ["Zhou Min"]
    assert [a["key"] for a in state["checklist"]] == ["power_off", "pressure"]
    assert state["parts"] == [("FLT-20", 2)]
    assert state["resolution_code"] == "replaced_part"
    assert state["labour_minutes"] == 45
    assert state["work_notes"] == "Replaced the clogged filter; pressure normal."
    assert state["actions"]["request_completion_sheet"] == 1
    # The worker's part: one signed completion sheet, one e-mail with it to the customer.
    run_background_work(app_server["app"])
    from server.extensions import db
    from server.models import CompletionSheet, WorkOrder

    with app_server["app"].app_context():
        sheets = db.session.scalars(
            select(CompletionSheet).where(CompletionSheet.work_order_id == job_id)
        ).all()
        number = db.session.get(WorkOrder, job_id).number
    assert len(sheets) == 1
    emails = sheet_emails(app_server["app"], number)
    assert [m["To"] for m in emails] == ["zhou@example.com"]
    assert errors == []
