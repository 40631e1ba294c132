"""Fixtures for the workflow engine's unit tests (no app, no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows import Definition, WorkflowRegistry, default_definitions_dir


@pytest.fixture(scope="session")
def registry() -> WorkflowRegistry:
    """Return the registry of shipped definitions, loaded once."""
    return WorkflowRegistry.load_directory(default_definitions_dir())


@pytest.fixture(scope="session")
def repair(registry: WorkflowRegistry) -> Definition:
    """Return the shipped repair workflow."""
    return registry.get("repair")


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Return the folder of test definition files."""
    return Path(__file__).parent / "fixtures"
