"""Completing an order e-mails the signed sheet to the customer, once, through the outbox."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from server.extensions import db
from server.jobs import relay
from server.models import (
    CompletionSheet,
    Delivery,
    OutboxMessage,
    OutboxStatus,
    Role,
    WorkOrderEvent,
)
from server.models.base import utcnow
from server.services.completion_sheets import latest_sheet, resend_sheet, sheet_bytes
from tests.integration.test_notifications import Inbox, free_port


@pytest.fixture
def smtp(app, monkeypatch):
    import server.jobs.tasks  # noqa: F401  (registers the tasks, the sheet's among them)

    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings = dataclasses.replace(
        app.config["FIELDWORK_SETTINGS"], smtp_url=f"smtp://127.0.0.1:{port}"
    )
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
    yield inbox
    controller.stop()


def drain():
    while relay.run_once("w"):
        pass


def pdf_parts(message):
    return [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]


def test_completing_an_order_emails_the_signed_sheet_once(smtp, complete_order, phone_jpegs, store):
    order, message = complete_order("zh_CN", photos=phone_jpegs[:1], email="li@example.cn")
    drain()
    drain()  # a second pass finds nothing more to send

    # Other completion actions may write to the customer too; the sheet comes exactly once.
    with_sheet = [m for m in smtp.messages if pdf_parts(m)]
    assert len(with_sheet) == 1, [(m["To"], m["Subject"]) for m in smtp.messages]
    email = with_sheet[0]
    assert email["To"] == "li@example.cn"
    assert order.number in email["Subject"]
    assert "服务报告" in email["Subject"]
    [attachment] = pdf_parts(email)
    data = attachment.get_content()
    sheet = latest_sheet(order)
    assert attachment.get_filename() == f"{order.number}-r1.pdf"
    assert (
        hashlib.sha256(data).hexdigest()
        == sheet.sha256
        == hashlib.sha256(sheet_bytes(sheet, store)).hexdigest()
    )
    body = email.get_body(("plain",)).get_content()
    assert f"/verify/{sheet.document_id}" in body
    assert "已签名的服务报告随本邮件附上" in body
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status is OutboxStatus.DONE
    assert [
        d.status
        for d in db.session.scalars(
            db.select(Delivery).where(Delivery.outbox_message_id == message.id)
        )
    ] == ["sent"]
    assert (
        db.session.scalar(
            db.select(db.func.count()).where(CompletionSheet.work_order_id == order.id)
        )
        == 1
    )


def test_smtp_down_retries_without_issuing_a_second_sheet(
    app, complete_order, phone_jpegs, monkeypatch
):
    import server.jobs.tasks  # noqa: F401

    port = free_port()
    settings = dataclasses.replace(
        app.config["FIELDWORK_SETTINGS"], smtp_url=f"smtp://127.0.0.1:{port}"
    )
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
    order, message = complete_order("en", photos=phone_jpegs[:1], email="li@example.com")
    relay.run_once("w")
    db.session.expire_all()
    pending = db.session.get(OutboxMessage, message.id)
    assert pending.status is OutboxStatus.PENDING
    assert "SMTP" in pending.last_error
    first = latest_sheet(order)
    assert first is not None  # stored before the e-mail was tried

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        pending.available_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        drain()
    finally:
        controller.stop()
    [email] = [m for m in inbox.messages if pdf_parts(m)]
    assert "Your service report" in email["Subject"]
    assert latest_sheet(order).id == first.id


def test_resend_queues_the_same_sheet_again(smtp, complete_order, phone_jpegs, create_user):
    order, _ = complete_order("en", photos=phone_jpegs[:1], email="li@example.com")
    drain()
    dispatcher = create_user(Role.DISPATCHER)
    resend_sheet(order, dispatcher)
    db.session.commit()
    drain()
    sent = [m for m in smtp.messages if pdf_parts(m)]
    assert len(sent) == 2
    first, second = (pdf_parts(m)[0].get_content() for m in sent)
    assert first == second
    assert sent[0]["Message-ID"] != sent[1]["Message-ID"]
    assert (
        db.session.scalar(
            db.select(db.func.count()).where(CompletionSheet.work_order_id == order.id)
        )
        == 1
    )


def test_resends_are_capped_per_day(complete_order, phone_jpegs, create_user):
    from server.services.completion_sheets import MAX_RESENDS_PER_DAY, TooManyResends

    order, _ = complete_order("en", photos=phone_jpegs[:1], email="li@example.com")
    dispatcher = create_user(Role.DISPATCHER)
    for _ in range(MAX_RESENDS_PER_DAY):
        resend_sheet(order, dispatcher)
    with pytest.raises(TooManyResends):
        resend_sheet(order, dispatcher)
    queued = db.select(db.func.count()).where(
        OutboxMessage.work_order_id == order.id, OutboxMessage.payload["resend"].as_boolean()
    )
    assert db.session.scalar(queued) == MAX_RESENDS_PER_DAY
    # A day later the dispatcher may send it again.
    db.session.execute(
        db.update(WorkOrderEvent)
        .where(WorkOrderEvent.kind == "CompletionSheetResent")
        .values(occurred_at=utcnow() - timedelta(hours=25))
    )
    resend_sheet(order, dispatcher)
    assert db.session.scalar(queued) == MAX_RESENDS_PER_DAY + 1


def test_a_render_over_its_budget_is_retried_later_and_stores_nothing(
    smtp, complete_order, phone_jpegs, monkeypatch
):
    from pdf.render_process import RenderBudget, shared_render_process

    renderer = shared_render_process()
    monkeypatch.setattr(renderer, "budget", RenderBudget(max_pdf_bytes=1_000))
    order, message = complete_order("en", photos=phone_jpegs[:1], email="li@example.com")
    relay.run_once("w")
    db.session.expire_all()
    pending = db.session.get(OutboxMessage, message.id)
    assert pending.status is OutboxStatus.PENDING  # retried with backoff, then dead-lettered
    assert "at most 1,000 are accepted" in pending.last_error
    assert latest_sheet(order) is None
    assert not [m for m in smtp.messages if pdf_parts(m)]

    monkeypatch.setattr(renderer, "budget", RenderBudget())
    pending.available_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    drain()
    assert latest_sheet(order) is not None
    assert len([m for m in smtp.messages if pdf_parts(m)]) == 1
