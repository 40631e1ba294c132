"""``/healthz``: is the process up and can it reach its database."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from server.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger("fieldwork.health")


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether the app and its database answer."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "database down" to the probe
        log.exception("health check: database unreachable")
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
