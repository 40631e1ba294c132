"""Access to the loaded workflow definitions."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import current_app

from workflows import Definition, WorkflowRegistry, default_definitions_dir


@cache
def _load(directory: str) -> WorkflowRegistry:
    return WorkflowRegistry.load_directory(Path(directory))


def workflow_registry() -> WorkflowRegistry:
    """Return the registry of the configured definitions folder (loaded once per folder)."""
    directory = current_app.config.get("FIELDWORK_WORKFLOWS_DIR") or default_definitions_dir()
    return _load(str(directory))


def definition_for(name: str, version: int | None = None) -> Definition:
    """Return workflow ``name`` at ``version`` (the newest when None)."""
    return workflow_registry().get(name, version)
