"""Public pages without sign-in: the customer's job page ``/r/<token>`` and ``/request``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("customer", __name__)

from server.customer import views  # noqa: E402,F401
