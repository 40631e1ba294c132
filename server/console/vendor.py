"""Front-end libraries installed by npm, served from ``node_modules`` through an allow-list.

Nothing third-party is committed: ``make`` runs ``npm ci`` and this route hands out exactly
the files the console pages load, nothing else from ``node_modules``.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, send_file
from werkzeug.wrappers import Response

from server.console import bp

#: Where npm installs the packages (the project root's ``node_modules``).
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"

#: Public name → file under ``node_modules``. Only these are served.
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "Sortable.min.js": "sortablejs/Sortable.min.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images/layers.png": "leaflet/dist/images/layers.png",
    "leaflet/images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
    "leaflet/images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
}


@bp.get("/vendor/<path:name>")
def vendor_file(name: str) -> Response:
    """Serve one allow-listed front-end library file from ``node_modules``."""
    relative = VENDOR_FILES.get(name)
    if relative is None:
        abort(404)
    path = NODE_MODULES / relative
    if not path.is_file():
        abort(404)  # `npm ci` has not run: pages still work without their enhancements
    response = send_file(path, max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
