"""Generate ``src/api/schema.d.ts`` from the OpenAPI document the server produces.

Run from the repository root: ``.venv/bin/python technician_app/scripts/generate_api_types.py``
(``npm run generate:api`` does that). The test ``tests/technician_app/test_api_types.py``
runs the same steps into a temporary file and fails when the committed file is stale.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

APP = Path(__file__).resolve().parents[1]
SCHEMA = APP / "src" / "api" / "schema.d.ts"
GENERATOR = APP / "node_modules" / ".bin" / "openapi-typescript"


def openapi_document() -> dict[str, object]:
    """Return ``/api/mobile/v1/openapi.json`` of an app built on a throw-away database."""
    sys.path.insert(0, str(APP.parent))
    from server import create_app

    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {
                "FIELDWORK_DATABASE_URL": "sqlite://",
                "FIELDWORK_INSTANCE_PATH": instance,
                "FIELDWORK_SECRET_KEY": "openapi-export-only",
                "TESTING": True,
            }
        )
        response = app.test_client().get("/api/mobile/v1/openapi.json")
        if response.status_code != 200:
            raise SystemExit(f"openapi.json answered {response.status_code}")
        document: dict[str, object] = response.get_json()
        with app.app_context():
            from server.extensions import db

            db.engine.dispose()
        return document


def generate(output: Path) -> None:
    """Write the TypeScript types of the mobile API to ``output``."""
    if not GENERATOR.exists():
        raise SystemExit("openapi-typescript is missing: run `npm ci` in technician_app/")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "openapi.json"
        source.write_text(json.dumps(openapi_document(), indent=1, sort_keys=True), "utf-8")
        subprocess.run(  # noqa: S603 - our own generator on our own file
            [str(GENERATOR), str(source), "--output", str(output)],
            check=True,
            capture_output=True,
            cwd=APP,
        )


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA)
    print(f"wrote {SCHEMA.relative_to(APP.parent)}")
