"""The map of today's jobs and technicians, and the technicians page."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from server.body_limits import FORM_OVERHEAD, accepts_body
from server.console import bp
from server.console.app_link import app_link
from server.console.helpers import deadline_status, office_only, state_label
from server.console.views import local_day_bounds, local_today
from server.extensions import blob_store, db
from server.images import MAX_BYTES
from server.models import Role, TechnicianProfile, User, WorkOrder, WorkOrderEvent
from server.models.base import utcnow
from server.services.attachments import AttachmentRejected
from server.services.devices import current_availability
from server.services.technician_photos import (
    PORTRAIT_CONTENT_TYPE,
    clear_technician_photo,
    set_technician_photo,
    technician_photo_bytes,
)

#: Certifications expiring within this many days are highlighted.
EXPIRY_WARNING_DAYS = 30


def tile_url() -> str:
    """Return the tile server URL template (``FIELDWORK_MAP_TILE_URL``; empty: no tiles)."""
    settings = current_app.config.get("FIELDWORK_SETTINGS")
    return str(getattr(settings, "map_tile_url", "") or "")


def last_positions(technician_ids: list[int]) -> dict[int, tuple[float, float]]:
    """Return each technician's last known position (phone reports, else located steps)."""
    if not technician_ids:
        return {}
    since = utcnow() - timedelta(days=1)
    events = db.session.scalars(
        select(WorkOrderEvent)
        .where(
            WorkOrderEvent.actor_id.in_(technician_ids),
            WorkOrderEvent.occurred_at >= since,
        )
        .order_by(WorkOrderEvent.id.desc())
        .limit(2000)
    )
    found: dict[int, tuple[float, float]] = {}
    for event in events:
        location = (event.data or {}).get("location") or {}
        lat = location.get("latitude", location.get("lat"))
        lon = location.get("longitude", location.get("lon"))
        number = int | float
        if event.actor_id not in found and isinstance(lat, number) and isinstance(lon, number):
            found[event.actor_id] = (float(lat), float(lon))  # type: ignore[index]
    try:
        from server.models.dispatch import TechnicianPosition
    except ImportError:
        return found
    rows = db.session.execute(
        select(
            TechnicianPosition.technician_id,
            TechnicianPosition.latitude,
            TechnicianPosition.longitude,
        ).where(TechnicianPosition.technician_id.in_(technician_ids))
    ).all()
    found.update({tech: (lat, lon) for tech, lat, lon in rows})
    return found


@bp.get("/map")
@office_only
def map_view() -> Response | str:
    """Show today's jobs and the technicians' last known positions."""
    start, end = local_day_bounds(local_today())
    jobs = db.session.scalars(
        select(WorkOrder)
        .where(
            WorkOrder.closed_at.is_(None),
            WorkOrder.scheduled_start_at >= start,
            WorkOrder.scheduled_start_at < end,
        )
        .options(selectinload(WorkOrder.site), selectinload(WorkOrder.assignee))
        .limit(2000)
    ).all()
    techs = db.session.scalars(
        select(User)
        .join(TechnicianProfile, TechnicianProfile.user_id == User.id)
        .where(User.role == Role.TECHNICIAN, User.is_active.is_(True))
        .options(selectinload(User.technician_profile))
        .limit(2000)
    ).all()
    positions = last_positions([t.id for t in techs])
    points: list[dict[str, Any]] = []
    for job in jobs:
        if job.site and job.site.latitude is not None and job.site.longitude is not None:
            points.append(
                {
                    "kind": "job",
                    "lat": job.site.latitude,
                    "lon": job.site.longitude,
                    "label": f"{job.number} · {state_label(job)}",
                    "status": deadline_status(job),
                }
            )
    for tech in techs:
        position = positions.get(tech.id)
        profile = tech.technician_profile
        if position is None and profile and profile.home_latitude is not None:
            position = (profile.home_latitude, profile.home_longitude or 0.0)
        if position:
            points.append(
                {"kind": "tech", "lat": position[0], "lon": position[1], "label": tech.display_name}
            )
    url = tile_url()
    response = current_app.make_response(
        render_template(
            "console/map/index.html",
            jobs=jobs,
            techs=techs,
            positions=positions,
            points_json=json.dumps(points, ensure_ascii=False),
            tile_url=url,
            attribution=_("Map data © OpenStreetMap contributors"),
        )
    )
    if url.startswith(("https://", "http://")):
        from urllib.parse import urlsplit

        parts = urlsplit(url.replace("{s}", "a"))
        origin = f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"
        if "{s}." in url:
            origin = f"{parts.scheme}://*.{parts.netloc.split('.', 1)[1]}"
        from server.headers import CSP

        response.headers["Content-Security-Policy"] = CSP.replace(
            "img-src 'self' data: blob:", f"img-src 'self' data: blob: {origin}"
        )
    return response


@bp.get("/technicians")
@office_only
def technician_list() -> str:
    """Show technicians: skills, certifications, shifts and on-call, current load."""
    techs = db.session.scalars(
        select(User)
        .join(TechnicianProfile, TechnicianProfile.user_id == User.id)
        .where(User.role == Role.TECHNICIAN)
        .options(
            selectinload(User.technician_profile).selectinload(TechnicianProfile.skills),
            selectinload(User.technician_profile).selectinload(TechnicianProfile.certifications),
            selectinload(User.technician_profile).selectinload(TechnicianProfile.working_hours),
        )
        .order_by(User.display_name)
        .limit(500)
    ).all()
    load = dict(
        db.session.execute(
            select(WorkOrder.assignee_id, func.count())
            .where(WorkOrder.closed_at.is_(None), WorkOrder.assignee_id.is_not(None))
            .group_by(WorkOrder.assignee_id)
        ).all()
    )
    today = local_today()
    status = {t.id: current_availability(t) for t in techs} if len(techs) <= 100 else {}
    return render_template(
        "console/technicians/list.html",
        techs=techs,
        load=load,
        today=today,
        soon=today + timedelta(days=EXPIRY_WARNING_DAYS),
        status=status,
        availability_labels={
            "available": _("Available"),
            "on_break": _("On a break"),
            "travelling": _("Travelling"),
            "training": _("In training"),
            "off_shift": _("Off shift"),
            "on_leave": _("On leave"),
        },
        weekdays=[_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
        app_link=app_link(_("QR code: the technicians’ app")),
    )


# --- Technician photos ------------------------------------------------------------------------


def _technician_or_404(user_id: int) -> User:
    technician: User | None = db.session.scalar(
        select(User)
        .join(TechnicianProfile, TechnicianProfile.user_id == User.id)
        .where(User.id == user_id, User.role == Role.TECHNICIAN)
    )
    if technician is None:
        abort(404)
    return technician


def _back_to_row(user_id: int) -> Response:
    return redirect(url_for("console.technician_list") + f"#technician-{user_id}")


def _photo_refusal(code: str) -> str:
    """Say in the user's language why an upload cannot be a photo."""
    messages: dict[str, str] = {
        "image_not_an_image": _("This file is not a photo. Upload a JPEG, PNG or WebP photo."),
        "image_type_not_allowed": _(
            "This kind of image cannot be used. Upload a JPEG, PNG or WebP photo."
        ),
        "image_too_large": _(
            "The photo is larger than %(megabytes)d MB.", megabytes=MAX_BYTES // (1024 * 1024)
        ),
        "image_too_many_pixels": _("The photo has too many pixels to be read safely."),
        "image_truncated": _("The photo file is incomplete. Upload it again."),
        "image_corrupt": _("The photo file is damaged and cannot be read."),
    }
    fallback: str = _("This file cannot be used as a photo.")
    return messages.get(code, fallback)


@bp.get("/technicians/<int:user_id>/photo")
@office_only
def technician_photo(user_id: int) -> Response:
    """Send a technician's photo (the stored 320 px copy)."""
    photo = technician_photo_bytes(_technician_or_404(user_id), blob_store())
    if photo is None:
        abort(404)
    response = current_app.response_class(photo, mimetype=PORTRAIT_CONTENT_TYPE)
    response.headers["Cache-Control"] = "private"
    return response


@bp.post("/technicians/<int:user_id>/photo")
@accepts_body(MAX_BYTES + FORM_OVERHEAD)
@office_only
def technician_photo_upload(user_id: int) -> Response:
    """Make the uploaded image the technician's photo; refusals are flashed, nothing changes."""
    technician = _technician_or_404(user_id)
    upload = request.files.get("photo")
    # One byte over the limit is enough for the check to call it too large. Bodies over
    # MAX_CONTENT_LENGTH never get here: Werkzeug answers those with the 413 page.
    data = upload.stream.read(MAX_BYTES + 1) if upload and upload.filename else b""
    if not data:
        flash(_("Choose a photo to upload."), "error")
        return _back_to_row(user_id)
    try:
        set_technician_photo(technician, data, blob_store(), current_user)
    except AttachmentRejected as error:
        db.session.rollback()
        flash(_photo_refusal(error.code), "error")
        return _back_to_row(user_id)
    db.session.commit()
    flash(_("The photo of %(name)s is saved.", name=technician.display_name), "ok")
    return _back_to_row(user_id)


@bp.post("/technicians/<int:user_id>/photo/delete")
@office_only
def technician_photo_delete(user_id: int) -> Response:
    """Remove the technician's photo."""
    technician = _technician_or_404(user_id)
    removed = clear_technician_photo(technician, blob_store(), current_user)
    db.session.commit()
    if removed:
        flash(_("The photo of %(name)s is removed.", name=technician.display_name), "ok")
    else:
        flash(_("%(name)s has no photo.", name=technician.display_name), "error")
    return _back_to_row(user_id)
