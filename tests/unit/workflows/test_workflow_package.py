"""The package stays pure: standard library and PyYAML only, nothing done at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import workflows

PACKAGE = Path(workflows.__file__).parent


def imported_roots(path: Path) -> set[str]:
    """Return the top-level module names a source file imports."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_workflows_imports_only_the_standard_library_and_yaml() -> None:
    allowed = set(sys.stdlib_module_names) | {"yaml", "workflows", "__future__"}
    for path in sorted(PACKAGE.glob("*.py")):
        assert imported_roots(path) <= allowed, path.name


def test_importing_workflows_reads_no_definition_file() -> None:
    code = (
        "import builtins, io, pathlib\n"
        "opened = []\n"
        "real_open = io.open\n"
        "def spy(file, *args, **kwargs):\n"
        "    opened.append(str(file))\n"
        "    return real_open(file, *args, **kwargs)\n"
        "builtins.open = spy\n"
        "pathlib.Path.read_text = lambda self, *a, **k: opened.append(str(self)) or ''\n"
        "import workflows, workflows.graph\n"
        "assert not [f for f in opened if f.endswith('.yaml')], opened\n"
    )
    subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code], check=True, cwd=PACKAGE.parent, timeout=60
    )


def test_every_public_name_is_exported() -> None:
    for name in workflows.__all__:
        assert hasattr(workflows, name), name
