"""``/app/``: the technicians' phone app, served from its build (``technician_app/dist``).

The build is made by ``make`` (``npm ci`` and ``npm run build`` in ``technician_app/``);
nothing built is committed. Hashed assets are cached for a year; the service worker and the
manifest are revalidated on every load so a new build reaches the phones; the page itself
is ``no-store`` like every other page (offline, the service worker's precache serves it).
The security headers (CSP included) are the console's, added by ``server.headers``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory
from werkzeug.exceptions import NotFound

bp = Blueprint("technician_app", __name__)

#: Files named by content hash: never change, cached for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
#: The service worker, the manifest and the icons: always asked again (304 when unchanged).
REVALIDATE = "no-cache"
#: Files served under their own name (everything else under /app/ is a client route).
_TOP_LEVEL = {
    "sw.js": "text/javascript",
    "manifest.webmanifest": "application/manifest+json",
}

_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fieldwork app not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>The technicians' app is not built</h1>
<p>Build it once on the server: <code>make technician-app</code> (runs
<code>npm ci</code> and <code>npm run build</code> in <code>technician_app/</code>;
<code>make run</code> does it too). Then reload this page.</p>
<p lang="zh-CN">技术员应用尚未构建：请在服务器上运行
<code>make technician-app</code>，然后刷新本页。</p>
</body></html>
"""


def build_folder() -> Path:
    """Return the folder of the app's build (``FIELDWORK_TECHNICIAN_APP_DIST`` overrides)."""
    configured = current_app.config.get("FIELDWORK_TECHNICIAN_APP_DIST")
    if configured:
        return Path(configured)
    return Path(current_app.root_path).parent / "technician_app" / "dist"


def _not_built() -> Response:
    return Response(_NOT_BUILT, status=503, mimetype="text/html", headers={"Retry-After": "60"})


def _send(
    folder: Path, name: str, cache_control: str | None, mimetype: str | None = None
) -> Response:
    response = send_from_directory(folder, name, mimetype=mimetype, max_age=None)
    if cache_control is None:
        del response.headers["Cache-Control"]  # server.headers adds no-store
    else:
        response.headers["Cache-Control"] = cache_control
    return response


@bp.get("/app/")
@bp.get("/app/<path:filename>")
def show_app(filename: str = "") -> Response:
    """Serve the app: its files by name, index.html for every client route."""
    folder = build_folder()
    if not (folder / "index.html").is_file():
        return _not_built()
    if filename.startswith("assets/"):
        return _send(folder, filename, IMMUTABLE)
    if filename in _TOP_LEVEL:
        response = _send(folder, filename, REVALIDATE, _TOP_LEVEL[filename])
        response.headers["Service-Worker-Allowed"] = "/app/"
        return response
    if filename.startswith("icons/"):
        return _send(folder, filename, REVALIDATE)
    if "." in filename.rsplit("/", 1)[-1] and filename != "index.html":
        raise NotFound()  # a file we do not have, not a client route
    return _send(folder, "index.html", None, "text/html")
