"""Load definition files and keep every version of every workflow."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

from workflows.check import check_file, definition_files
from workflows.model import Definition, DefinitionError, Problem


@cache
def default_definitions_dir() -> Path:
    """Return the folder of definitions shipped with the package."""
    return Path(__file__).resolve().parent / "definitions"


def load_definition(path: str | Path) -> Definition:
    """Load and check one definition file.

    Raises:
        DefinitionError: listing every problem, if the file has any.
    """
    definition, problems = check_file(Path(path))
    if problems or definition is None:
        raise DefinitionError(problems)
    return definition


class UnknownWorkflowError(LookupError):
    """Signal that no loaded definition has the requested name or version."""


class WorkflowRegistry:
    """Hold loaded definitions by name and version; old versions stay available."""

    def __init__(self, definitions: list[Definition] | None = None) -> None:
        """Start with the given definitions (none by default)."""
        self._definitions: dict[str, dict[int, Definition]] = {}
        for definition in definitions or []:
            self.add(definition)

    @classmethod
    def load_directory(cls, path: str | Path) -> WorkflowRegistry:
        """Load every definition file of a folder.

        Raises:
            DefinitionError: listing the problems of every bad file, if any.
        """
        registry = cls()
        problems: list[Problem] = []
        directory = Path(path)
        if not directory.is_dir():
            raise DefinitionError([Problem(str(directory), 0, "directory", "not a folder")])
        for file in definition_files(directory):
            try:
                definition = load_definition(file)
            except DefinitionError as exc:
                problems.extend(exc.problems)
                continue
            try:
                registry.add(definition)
            except DefinitionError as exc:
                problems.extend(exc.problems)
        if problems:
            raise DefinitionError(problems)
        return registry

    def add(self, definition: Definition) -> None:
        """Add one definition.

        Raises:
            DefinitionError: if that name and version is already loaded.
        """
        versions = self._definitions.setdefault(definition.name, {})
        if definition.version in versions:
            raise DefinitionError(
                [
                    Problem(
                        definition.source,
                        definition.lines.get("version", 1),
                        "duplicate-version",
                        f"{definition.name} version {definition.version} is already loaded",
                    )
                ]
            )
        versions[definition.version] = definition

    def get(self, name: str, version: int | None = None) -> Definition:
        """Return a workflow definition; the newest version when ``version`` is None.

        Raises:
            UnknownWorkflowError: if the name or version is not loaded.
        """
        versions = self._definitions.get(name)
        if not versions:
            raise UnknownWorkflowError(f"unknown workflow {name!r}")
        if version is None:
            version = max(versions)
        try:
            return versions[version]
        except KeyError:
            raise UnknownWorkflowError(f"workflow {name!r} has no version {version}") from None

    def latest_version(self, name: str) -> int:
        """Return the newest version number of a workflow.

        Raises:
            UnknownWorkflowError: if the name is not loaded.
        """
        return self.get(name).version

    def versions(self, name: str) -> list[int]:
        """Return the loaded version numbers of a workflow, oldest first."""
        return sorted(self._definitions.get(name, {}))

    def names(self) -> list[str]:
        """Return the names of the loaded workflows, sorted."""
        return sorted(self._definitions)

    def __contains__(self, name: object) -> bool:
        """Return whether a workflow of that name is loaded."""
        return name in self._definitions

    def __iter__(self) -> Iterator[Definition]:
        """Iterate over every loaded definition, by name then version."""
        for name in self.names():
            for version in self.versions(name):
                yield self._definitions[name][version]
