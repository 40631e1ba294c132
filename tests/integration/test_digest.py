"""The morning digest reaches the office users who want it, once, in their language."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest

from server.extensions import db
from server.jobs import relay
from server.jobs.digest import queue_daily_digests
from server.models import Role
from server.models.base import utcnow
from server.services.notification_preferences import set_preferences


@pytest.fixture
def outbox_dir(app, tmp_path, monkeypatch):
    import server.jobs.tasks  # noqa: F401  (registers the tasks)

    settings = dataclasses.replace(
        app.config["FIELDWORK_SETTINGS"], instance_path=tmp_path, smtp_url=None
    )
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
    return tmp_path / "outbox"


def saved_mail(outbox_dir):
    return {
        m["To"]: m
        for m in (
            message_from_bytes(p.read_bytes(), policy=default) for p in outbox_dir.glob("*.eml")
        )
    }


def test_each_office_user_who_wants_it_gets_one_digest_in_their_language(
    outbox_dir, create_user, create_work_order
):
    create_user(Role.DISPATCHER, email="li@example.cn", locale="zh_CN", display_name="李调度")
    create_user(Role.MANAGER, email="ann@example.com", locale="en", display_name="Ann")
    create_user(Role.TECHNICIAN, email="tech@example.com")  # technicians get no digest
    quiet = create_user(Role.DISPATCHER, email="quiet@example.com")
    set_preferences(quiet, {"digest": {"email": False}})
    late = create_work_order()
    late.resolve_by = utcnow() - timedelta(hours=1)
    create_work_order()
    db.session.commit()

    assert queue_daily_digests(utcnow()) == 2
    db.session.commit()
    while relay.run_once("w"):
        pass
    assert relay.run_once("w") == 0

    mail = saved_mail(outbox_dir)
    assert sorted(mail) == ["ann@example.com", "li@example.cn"]
    assert mail["ann@example.com"]["Subject"].endswith(": 2 open, 1 late, 2 unassigned")
    chinese = mail["li@example.cn"]
    assert "在办 2，超时 1，未派 2" in chinese["Subject"]
    text = chinese.get_body(("plain",)).get_content()
    assert "李调度，早上好" in text
    assert "  新建：2" in text  # states by their Chinese labels
