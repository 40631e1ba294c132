"""Flask serves the phone app's build at /app/ with the caching and headers it needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.headers import CSP


@pytest.fixture
def build(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small fake build of the app, served instead of technician_app/dist."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "icons").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Fieldwork</title>", "utf-8")
    (tmp_path / "sw.js").write_text("self.addEventListener('fetch', () => {});", "utf-8")
    (tmp_path / "manifest.webmanifest").write_text('{"name": "Fieldwork"}', "utf-8")
    (tmp_path / "assets" / "index-Abc123.js").write_text("console.log(1)", "utf-8")
    (tmp_path / "icons" / "icon-192.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    monkeypatch.setitem(app.config, "FIELDWORK_TECHNICIAN_APP_DIST", str(tmp_path))
    return tmp_path


def fetch(client: Any, path: str) -> Any:
    """GET ``path`` and close the response (file responses hold the file open)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def test_app_page_is_served_for_the_root_and_every_client_route(client: Any, build: Path) -> None:
    for path in ("/app/", "/app/jobs/12", "/app/queue", "/app/settings", "/app/index.html"):
        response = fetch(client, path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html"
        assert b"<title>Fieldwork</title>" in response.data
        # Like every page: never stored by the browser (offline, the service worker has it).
        assert response.headers["Cache-Control"] == "no-store"
    assert fetch(client, "/app").status_code == 308


def test_service_worker_and_manifest_are_revalidated_and_scoped(client: Any, build: Path) -> None:
    worker = fetch(client, "/app/sw.js")
    assert worker.status_code == 200
    assert worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    assert worker.headers["Service-Worker-Allowed"] == "/app/"
    manifest = fetch(client, "/app/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.headers["Cache-Control"] == "no-cache"
    assert manifest.headers["Service-Worker-Allowed"] == "/app/"


def test_hashed_assets_are_cached_for_a_year(client: Any, build: Path) -> None:
    response = fetch(client, "/app/assets/index-Abc123.js")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert fetch(client, "/app/assets/missing-1.js").status_code == 404
    assert fetch(client, "/app/nothing.png").status_code == 404


def test_app_has_the_consoles_security_headers(client: Any, build: Path) -> None:
    response = fetch(client, "/app/")
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_files_outside_the_build_are_not_served(client: Any, build: Path) -> None:
    (build.parent / "secret.txt").write_text("no", "utf-8")
    for path in ("/app/../secret.txt", "/app/assets/../../secret.txt", "/app/%2e%2e/secret.txt"):
        response = fetch(client, path)
        assert response.status_code in (200, 404), path
        assert b"no" != response.data


def test_missing_build_answers_503_saying_how_to_build_it(
    app: Any, client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "FIELDWORK_TECHNICIAN_APP_DIST", str(tmp_path / "none"))
    response = fetch(client, "/app/jobs/3")
    assert response.status_code == 503
    assert b"make technician-app" in response.data
    assert response.headers["Cache-Control"] == "no-store"
