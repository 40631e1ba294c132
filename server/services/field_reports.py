"""Use cases for the technician's field report: notes, checklist, parts, labour, resolution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select

from server.extensions import db
from server.models import FieldReport, PartUsage, User, WorkOrder
from server.models.base import utcnow
from server.services.errors import InvalidInput, ServiceError, VersionConflict
from server.services.job_feed import note_order_changed
from server.services.workflow_registry import definition_for

_REPORT_FIELDS = ("work_notes", "resolution_code", "labour_minutes", "follow_up_needed")


class ReportLocked(ServiceError):
    """The work is completed: the report is part of the record now."""

    status = 409


def current_report(order: WorkOrder) -> FieldReport | None:
    """Return the report of the order's current (or last) visit, if any."""
    return db.session.scalar(
        select(FieldReport)
        .where(FieldReport.work_order_id == order.id)
        .order_by(FieldReport.id.desc())
        .limit(1)
    )


def parts_of(order: WorkOrder) -> list[PartUsage]:
    """Return the parts recorded on the order."""
    return list(
        db.session.scalars(
            select(PartUsage).where(PartUsage.work_order_id == order.id).order_by(PartUsage.id)
        )
    )


def save_field_report(
    order: WorkOrder, data: Mapping[str, Any], actor: User, expected_version: int | None = None
) -> FieldReport:
    """Save the report as a draft; refused once the work is completed or the order closed."""
    definition = definition_for(order.workflow_name, order.workflow_version)
    category = definition.states[order.state].category
    if category in ("done", "cancelled") or order.completed_at is not None:
        raise ReportLocked(
            "report_locked", "The work is completed; the report can no longer change."
        )
    keys = {item["key"] for item in order.category.checklist}
    unknown = [a["key"] for a in data.get("checklist", []) if keys and a["key"] not in keys]
    if unknown:
        raise InvalidInput({"checklist": [f"Unknown checklist item: {', '.join(unknown)}."]})
    report = current_report(order)
    if report is None:
        visit = order.current_visit
        report = FieldReport(work_order_id=order.id, visit_id=visit.id if visit else None)
        db.session.add(report)
    elif expected_version is not None and report.version != expected_version:
        raise VersionConflict(report.version)
    else:
        # Every part of the report (parts and labour live in other rows) is under the
        # report's one version: touching the row makes each save a versioned UPDATE, so a
        # concurrent save from another phone fails instead of overwriting this one.
        report.updated_at = utcnow()
    for name in _REPORT_FIELDS:
        if name in data:
            setattr(report, name, data[name])
    if "checklist" in data:
        report.checklist = [dict(answer) for answer in data["checklist"]]
    report.reported_by_id = actor.id
    if "parts" in data:
        db.session.execute(delete(PartUsage).where(PartUsage.work_order_id == order.id))
        db.session.add_all(
            PartUsage(
                work_order_id=order.id, visit_id=report.visit_id, recorded_by_id=actor.id, **part
            )
            for part in data["parts"]
        )
    db.session.flush()
    note_order_changed(order)
    return report


def checklist_item_answered(item: Mapping[str, Any]) -> bool:
    """Return whether one checklist answer counts as answered (the API's one rule).

    An item is answered when ``ok`` is a boolean (the tick or cross a phone sends; a cross
    is an answer too) or when ``answer`` is a text with more than blanks in it. An item with
    neither (``ok`` missing or null, ``answer`` missing, null, empty or blank) is open.
    """
    answer = item.get("answer")
    return isinstance(item.get("ok"), bool) or (isinstance(answer, str) and bool(answer.strip()))
