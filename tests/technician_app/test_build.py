"""The app's build: installable, self-hosted, nothing inline that the CSP would block."""

from __future__ import annotations

import json
import re

import pytest

from tests.technician_app.conftest import BUILD


@pytest.fixture(scope="module")
def build() -> None:
    """Fail when the app is not built."""
    if not (BUILD / "index.html").is_file():
        pytest.fail("The app is not built: run `make technician-app`.")


def test_manifest_makes_the_app_installable(build: None) -> None:
    manifest = json.loads((BUILD / "manifest.webmanifest").read_text("utf-8"))
    assert manifest["name"]
    assert manifest["short_name"]
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == manifest["scope"] == "/app/"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert (BUILD / icon["src"]).is_file()
    html = (BUILD / "index.html").read_text("utf-8")
    assert 'rel="manifest" href="/app/manifest.webmanifest"' in html


def test_page_loads_only_its_own_files(build: None) -> None:
    html = (BUILD / "index.html").read_text("utf-8")
    # No inline script or style (the CSP allows only our own files) and nothing from elsewhere.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html
    assert " style=" not in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith("/app/"), url


def test_service_worker_precaches_the_shell(build: None) -> None:
    worker = (BUILD / "sw.js").read_text("utf-8")
    for name in ("index.html", "manifest.webmanifest"):
        assert name in worker
    for asset in (BUILD / "assets").iterdir():
        assert f"assets/{asset.name}" in worker, asset.name
