"""A work order keeps the workflow version it started with; new orders take the newest."""

from __future__ import annotations

import shutil

import pytest

from server.models import Role
from server.services.errors import Refused
from server.services.work_orders import apply_transition
from workflows import default_definitions_dir

V2_EXTRA_TRANSITION = """
  - name: close_as_duplicate
    from: new
    to: cancelled
    labels: {en: Close as duplicate, zh_CN: 作为重复单关闭}
    roles: [dispatcher, manager]
"""


@pytest.fixture
def definition_dirs(tmp_path):
    only_v1 = tmp_path / "v1"
    both = tmp_path / "v1v2"
    only_v1.mkdir()
    both.mkdir()
    source = default_definitions_dir() / "repair.v1.yaml"
    shutil.copy(source, only_v1)
    shutil.copy(source, both)
    text = source.read_text(encoding="utf-8").replace("version: 1", "version: 2", 1)
    head, _, tail = text.partition("transitions:\n")
    (both / "repair.v2.yaml").write_text(
        head + "transitions:\n" + V2_EXTRA_TRANSITION + tail, encoding="utf-8"
    )
    return only_v1, both


def test_in_flight_orders_stay_on_their_version(
    app, monkeypatch, definition_dirs, create_work_order, create_user
):
    only_v1, both = definition_dirs
    dispatcher = create_user(Role.DISPATCHER)
    monkeypatch.setitem(app.config, "FIELDWORK_WORKFLOWS_DIR", str(only_v1))
    old = create_work_order(actor=dispatcher)
    assert (old.workflow_name, old.workflow_version) == ("repair", 1)

    monkeypatch.setitem(app.config, "FIELDWORK_WORKFLOWS_DIR", str(both))
    new = create_work_order(actor=dispatcher)
    assert new.workflow_version == 2

    # The old order still follows version 1, which has no such step ...
    with pytest.raises(Refused) as refused:
        apply_transition(old, "close_as_duplicate", dispatcher, {}, old.version)
    assert refused.value.details["reasons"][0]["code"] == "unknown_transition"
    # ... and keeps working through version 1's steps.
    apply_transition(old, "triage", dispatcher, {}, old.version)
    assert old.state == "triaged"
    assert old.workflow_version == 1
    # The new order has it.
    apply_transition(new, "close_as_duplicate", dispatcher, {}, new.version)
    assert new.state == "cancelled"
