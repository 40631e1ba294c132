"""The technicians' app: its address, and a QR code that opens it on a phone."""

from __future__ import annotations

import segno
from flask import current_app
from markupsafe import Markup

#: Where Flask serves the technicians' app, under the deployment's base URL.
APP_PATH = "/app/"


def app_url() -> str:
    """Return the app's public address (``FIELDWORK_BASE_URL`` + ``/app/``)."""
    return str(current_app.config["FIELDWORK_SETTINGS"].base_url).rstrip("/") + APP_PATH


def qr_svg(url: str, title: str) -> Markup:
    """Return an inline SVG QR code of ``url`` (nothing fetched; dark on white, quiet zone)."""
    code = segno.make_qr(url, error="m")
    svg = code.svg_inline(scale=4, border=4, dark="#111", light="#fff", svgclass="qr", title=title)
    return Markup(svg)  # noqa: S704 - segno's own SVG; the URL and title are escaped by segno


def app_link(title: str) -> dict[str, object]:
    """Return what the "open the app" card shows: the address and its QR code."""
    url = app_url()
    return {"url": url, "qr": qr_svg(url, title)}
