"""The dependency rules of DESIGN.md: pure packages stay pure, edges do not import edges."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path} imports {name}"
        for path, names in imported_modules(package).items()
        for name in sorted(names)
        if name.split(".")[0] in forbidden
        or name in forbidden
        or any(name.startswith(prefix + ".") for prefix in forbidden)
    ]


def test_pure_packages_import_no_framework():
    # pdf/ joins workflows/ here as soon as it exists.
    packages = [name for name in ("workflows", "pdf") if (ROOT / name / "__init__.py").exists()]
    assert "workflows" in packages
    for package in packages:
        assert (
            offending(package, ("server", "flask", "sqlalchemy", "flask_sqlalchemy", "mobile_api"))
            == []
        )


def test_workflows_imports_only_stdlib_and_yaml():
    import sys

    allowed = set(sys.stdlib_module_names) | {"yaml", "workflows"}
    bad = [
        f"{path} imports {name}"
        for path, names in imported_modules("workflows").items()
        for name in names
        if name.split(".")[0] not in allowed
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("edge", "others"),
    [
        ("server/api", ("server.console", "server.jobs", "server.cli", "mobile_api")),
        ("server/console", ("server.api", "server.jobs", "server.cli", "mobile_api")),
        ("mobile_api", ("server.api", "server.console", "server.jobs", "server.cli")),
    ],
)
def test_edges_do_not_import_each_other(edge, others):
    assert offending(edge, others) == []


def test_services_never_commit_or_read_the_request():
    problems = []
    for path in (ROOT / "server" / "services").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if ".commit()" in text:
            problems.append(f"{path.name} commits")
        if "flask import request" in text or "request." in text.replace("_request", ""):
            problems.append(f"{path.name} reads the request")
    assert problems == []
