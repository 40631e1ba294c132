"""``/api/v1/technicians``: who can be dispatched, with skills and hours."""

from __future__ import annotations

from flask import Response, jsonify
from marshmallow import Schema, fields, validate
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from server.api import bp
from server.api.fields import PageArgsSchema, Text
from server.auth.permissions import Capability
from server.business_time import Day
from server.extensions import db
from server.models import Role, TechnicianProfile, TechnicianSkill, User
from server.operations import operation
from server.problems import Problem, load_args


class SkillSchema(Schema):
    """A skill and its level (1-5)."""

    skill = fields.String()
    level = fields.Integer()


class CertificationSchema(Schema):
    """A certificate and its expiry."""

    name = fields.String()
    number = fields.String(allow_none=True)
    expires_on = Day(allow_none=True)


class WorkingHoursSchema(Schema):
    """One weekly working period (local time)."""

    weekday = fields.Integer()
    starts_at = fields.Time()
    ends_at = fields.Time()


class TechnicianSchema(Schema):
    """A technician as dispatchers see them."""

    id = fields.Integer(attribute="user.id")
    username = fields.String(attribute="user.username")
    display_name = fields.String(attribute="user.display_name")
    phone = fields.String(attribute="user.phone", allow_none=True)
    email = fields.String(attribute="user.email", allow_none=True)
    is_active = fields.Boolean(attribute="user.is_active")
    team = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    home_latitude = fields.Float(allow_none=True)
    home_longitude = fields.Float(allow_none=True)
    is_on_call = fields.Boolean()
    max_jobs_per_day = fields.Integer()
    skills = fields.List(fields.Nested(SkillSchema))
    certifications = fields.List(fields.Nested(CertificationSchema))
    working_hours = fields.List(fields.Nested(WorkingHoursSchema))


class TechnicianListArgsSchema(PageArgsSchema):
    """Filters for the technician list."""

    skill = Text(40)
    team = Text(40)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=200))


class TechnicianListSchema(Schema):
    """A page of technicians."""

    items = fields.List(fields.Nested(TechnicianSchema))
    next_cursor = fields.String(allow_none=True)


def _technicians_query():  # type: ignore[no-untyped-def]
    return (
        select(TechnicianProfile)
        .join(User, TechnicianProfile.user_id == User.id)
        .where(User.role == Role.TECHNICIAN)
        .options(
            selectinload(TechnicianProfile.user),
            selectinload(TechnicianProfile.skills),
            selectinload(TechnicianProfile.certifications),
            selectinload(TechnicianProfile.working_hours),
        )
    )


@bp.get("/technicians")
@operation(
    "List technicians with skills, certifications and hours.",
    capability=Capability.TECHNICIANS_READ,
    args=TechnicianListArgsSchema(),
    response=TechnicianListSchema(),
    tag="technicians",
    errors=(422,),
)
def list_technicians() -> Response:
    """List technicians, filtered by skill or team, in id order."""
    args = load_args(TechnicianListArgsSchema())
    query = _technicians_query()
    if args.get("skill"):
        query = query.where(
            exists().where(
                TechnicianSkill.technician_id == TechnicianProfile.user_id,
                TechnicianSkill.skill == args["skill"],
            )
        )
    if args.get("team"):
        query = query.where(TechnicianProfile.team == args["team"])
    cursor = args.get("cursor")
    if cursor:
        if not cursor.isdigit() or int(cursor) > 2**31:
            raise Problem(
                422, "validation_failed", "Invalid cursor.", errors={"cursor": ["Invalid cursor."]}
            )
        query = query.where(TechnicianProfile.user_id > int(cursor))
    limit = args["limit"]
    rows = list(db.session.scalars(query.order_by(TechnicianProfile.user_id).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].user_id) if len(rows) > limit else None
    return jsonify(TechnicianListSchema().dump({"items": rows[:limit], "next_cursor": next_cursor}))


@bp.get("/technicians/<int:technician_id>")
@operation(
    "Get one technician.",
    capability=Capability.TECHNICIANS_READ,
    response=TechnicianSchema(),
    tag="technicians",
    errors=(404,),
)
def get_technician(technician_id: int) -> Response:
    """Return one technician."""
    profile = db.session.scalar(
        _technicians_query().where(TechnicianProfile.user_id == technician_id)
    )
    if profile is None:
        raise Problem(404, "not_found", "No such technician.")
    return jsonify(TechnicianSchema().dump(profile))
