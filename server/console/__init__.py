"""The dispatcher web console (server-rendered pages)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console", __name__)

from server.console import (  # noqa: E402,F401
    admin,
    board,
    customers,
    helpers,
    intake,
    pages,
    reports,
    vendor,
    views,
    work_orders,
)
