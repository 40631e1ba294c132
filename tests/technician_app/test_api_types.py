"""The phone app's API types are generated from the server's OpenAPI document, never drift."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "technician_app"


def _generator() -> object:
    spec = importlib.util.spec_from_file_location(
        "generate_api_types", APP / "scripts" / "generate_api_types.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_api_types_match_the_servers_openapi_document(tmp_path: Path) -> None:
    """Regenerate schema.d.ts; a difference means: run `npm run generate:api` and commit."""
    generator = _generator()
    if not Path(generator.GENERATOR).exists():  # type: ignore[attr-defined]
        pytest.fail("openapi-typescript is missing: `make technician-app` runs npm ci")
    fresh = tmp_path / "schema.d.ts"
    generator.generate(fresh)  # type: ignore[attr-defined]
    committed = (APP / "src" / "api" / "schema.d.ts").read_text("utf-8")
    assert fresh.read_text("utf-8") == committed, (
        "technician_app/src/api/schema.d.ts is stale against /api/mobile/v1/openapi.json: "
        "run `cd technician_app && npm run generate:api` and commit the result"
    )
