"""Anyone holding a completion sheet checks it here: by its id, or by uploading the file.

Public and unauthenticated. The document id is random and printed only on the sheet (and
in its QR code), so the page shows only what the holder already has: the order number,
revision, issue date and the verdict, plus the original for download.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from server.body_limits import FORM_OVERHEAD, accepts_body
from server.extensions import csrf, limiter
from server.services.completion_sheets import (
    Verification,
    sheet_by_document_id,
    sheet_bytes,
    sheet_filename,
    verify_document,
    verify_stored,
)

bp = Blueprint("verify", __name__)
log = logging.getLogger("fieldwork.verify")

#: Largest file the page accepts; real sheets are around 1 MB.
MAX_UPLOAD = 20 * 1024 * 1024


def _page(document_id: str, status: int = 200, **context: Any) -> tuple[str, int]:
    sheet = sheet_by_document_id(document_id)
    stored: Verification | None = None
    if sheet is not None and "stored" not in context:
        settings = current_app.config["FIELDWORK_SETTINGS"]
        try:
            stored = verify_stored(sheet, current_app.extensions["fieldwork.blob_store"], settings)
        except Exception:  # noqa: BLE001 - a missing blob or key shows as "cannot check"
            log.exception("cannot check stored completion sheet %s", document_id)
    context.setdefault("stored", stored)
    context.setdefault("upload", None)
    context.setdefault("error", None)
    return (
        render_template("verify/document.html", document_id=document_id, sheet=sheet, **context),
        status if sheet is not None else 404,
    )


@bp.get("/verify/<document_id>")
def show_document(document_id: str) -> tuple[str, int]:
    """Show whether the stored document is intact, signed by us and the latest revision."""
    return _page(document_id)


@bp.post("/verify/<document_id>")
@accepts_body(MAX_UPLOAD + FORM_OVERHEAD)
@csrf.exempt  # reads an upload and changes nothing: no forged request can do harm
@limiter.limit("30/minute")
def check_upload(document_id: str) -> tuple[str, int]:
    """Check an uploaded file against the signature and the stored document."""
    try:
        upload = request.files.get("document")
        data = upload.stream.read(MAX_UPLOAD + 1) if upload else b""
    except RequestEntityTooLarge:
        return _page(document_id, 400, error=_("The file is too large."))
    if not data:
        return _page(document_id, 400, error=_("Choose the PDF file to check."))
    if len(data) > MAX_UPLOAD:
        return _page(document_id, 400, error=_("The file is too large."))
    try:
        result = verify_document(data, current_app.config["FIELDWORK_SETTINGS"])
    except Exception:  # noqa: BLE001 - whatever the file holds, the answer is a message
        log.exception("verification of an uploaded file failed")
        return _page(document_id, 400, error=_("This file could not be checked."))
    if not result.check.readable:
        return _page(document_id, 400, error=_("This file is not a PDF we can read."))
    return _page(document_id, upload=result)


@bp.get("/verify/<document_id>/download")
def download_document(document_id: str) -> Response:
    """Send the stored original, byte for byte."""
    sheet = sheet_by_document_id(document_id)
    if sheet is None:
        abort(404)
    data = sheet_bytes(sheet, current_app.extensions["fieldwork.blob_store"])
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{sheet_filename(sheet)}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
