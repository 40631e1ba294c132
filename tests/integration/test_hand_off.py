"""A hand-off to another department tells the colleague, in their language, who and why."""

from __future__ import annotations

import dataclasses
from email import message_from_bytes
from email.policy import default

from server.extensions import db
from server.jobs import relay
from server.models import Delivery, OutboxMessage, Role
from server.services.ownership import hand_off_work_order


def test_the_colleague_gets_an_email_with_who_and_why_once(
    app, create_work_order, create_user, tmp_path, monkeypatch
):
    import server.jobs.tasks  # noqa: F401  (registers the notify task)

    settings = dataclasses.replace(
        app.config["FIELDWORK_SETTINGS"], instance_path=tmp_path, smtp_url=None
    )
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
    dispatcher = create_user(Role.DISPATCHER, display_name="Dispatcher Chen")
    order = create_work_order(actor=dispatcher)
    while relay.run_once("w"):  # what creating the order queued
        pass
    for saved in (tmp_path / "outbox").glob("*.eml"):
        saved.unlink()
    billing = create_user(
        Role.MANAGER, display_name="周会计", email="zhou@example.cn", locale="zh_CN"
    )
    hand_off_work_order(order, billing, dispatcher, "客户要求退款")
    db.session.commit()
    while relay.run_once("w"):
        pass
    assert relay.run_once("w") == 0
    [saved] = list((tmp_path / "outbox").glob("*.eml"))
    email = message_from_bytes(saved.read_bytes(), policy=default)
    assert email["To"] == "zhou@example.cn"
    assert email["Subject"] == f"工单 {order.number} 已转交给您"
    body = email.get_body(("plain",)).get_content()
    assert "Dispatcher Chen 已将工单" in body
    assert "原因：客户要求退款" in body
    deliveries = db.session.scalars(
        db.select(Delivery)
        .join(OutboxMessage)
        .where(OutboxMessage.work_order_id == order.id, Delivery.channel == "email")
        .where(Delivery.recipient == "zhou@example.cn")
    ).all()
    assert [d.status for d in deliveries] == ["sent"]
