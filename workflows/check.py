"""Check workflow definition files and report every problem with its file and line.

``flask --app server workflows check`` calls ``check_directory(default_definitions_dir())``
and fails when the list is not empty.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path

from workflows.model import Definition, Problem
from workflows.schema import parse_definition

#: Rule id -> what it reports.
RULES: Mapping[str, str] = {
    "schema": "the file is not valid YAML or does not match the definition schema",
    "file-name": "the file is not named <name>.v<version>.yaml",
    "duplicate-version": "two files define the same workflow name and version",
    "unknown-initial": "'initial' is not one of the states",
    "unknown-state": "a transition or timer names a state that does not exist",
    "unreachable-state": "no sequence of transitions leads from 'initial' to the state",
    "dead-end-state": "a new/active/waiting state has no transition out",
    "terminal-exit": "a transition leaves a cancelled state, or a done state without reopen",
    "reopen-flag": "a transition marked reopen does not leave any done state",
    "unknown-guard": "a guard name is not in the guard registry",
    "bad-guard-args": "a guard's arguments do not match its signature",
    "unknown-action": "an action name is not in the action registry",
    "bad-action-args": "an action's parameters do not match its signature",
    "action-input": "an action reads a payload field the transition does not declare",
    "duplicate-transition": "two transitions have the same name",
    "duplicate-timer": "two timers have the same name",
    "no-roles": "a transition allows no role at all",
    "directory": "the definitions folder is missing or holds no definition",
}

DEFINITION_SUFFIXES = (".yaml", ".yml")


def _reachable(definition: Definition) -> set[str]:
    seen = {definition.initial}
    queue = deque([definition.initial])
    while queue:
        state = queue.popleft()
        for transition in definition.transitions_from(state):
            if transition.target not in seen:
                seen.add(transition.target)
                queue.append(transition.target)
    return seen


def check_definition(definition: Definition) -> list[Problem]:
    """Return the problems of a parsed definition that need the whole graph to see."""
    file = definition.source
    problems: list[Problem] = []

    def add(line: int, rule: str, message: str) -> None:
        problems.append(Problem(file, line, rule, message))

    states = definition.states
    if definition.initial not in states:
        add(
            definition.lines.get("initial", 1),
            "unknown-initial",
            f"initial state '{definition.initial}' is not one of the states",
        )
    seen: set[str] = set()
    for transition in definition.transitions:
        where = f"transition '{transition.name}'"
        if transition.name in seen:
            add(
                transition.lines.get("name", transition.line),
                "duplicate-transition",
                f"{where} is defined more than once",
            )
        seen.add(transition.name)
        if not transition.roles:
            add(
                transition.lines.get("roles", transition.line),
                "no-roles",
                f"{where} allows no role; list at least one in 'roles'",
            )
        for source in transition.sources:
            if source not in states:
                add(
                    transition.lines.get("from", transition.line),
                    "unknown-state",
                    f"{where} starts from unknown state '{source}'",
                )
        if transition.target not in states:
            add(
                transition.lines.get("to", transition.line),
                "unknown-state",
                f"{where} leads to unknown state '{transition.target}'",
            )
        source_categories = {states[s].category for s in transition.sources if s in states}
        for source in transition.sources:
            state = states.get(source)
            if state is None:
                continue
            if state.category == "cancelled":
                add(
                    transition.lines.get("from", transition.line),
                    "terminal-exit",
                    f"{where} leaves cancelled state '{source}'; cancelled states are final",
                )
            elif state.category == "done" and not transition.reopen:
                add(
                    transition.lines.get("from", transition.line),
                    "terminal-exit",
                    f"{where} leaves done state '{source}'; mark it 'reopen: true' if intended",
                )
        if transition.reopen and "done" not in source_categories:
            add(
                transition.lines.get("reopen", transition.line),
                "reopen-flag",
                f"{where} is marked reopen but leaves no done state",
            )
        declared = {spec.name for spec in transition.input}
        for action in transition.actions:
            if action.name == "set_assignee_from_payload":
                wanted = str(action.params.get("field", "assignee_id"))
                if wanted not in declared:
                    add(
                        action.line,
                        "action-input",
                        f"{where}: set_assignee_from_payload reads '{wanted}', "
                        "which is not a declared input",
                    )
    timer_names: set[str] = set()
    for timer in definition.timers:
        if timer.name in timer_names:
            add(
                timer.lines.get("name", timer.line),
                "duplicate-timer",
                f"timer '{timer.name}' is defined more than once",
            )
        timer_names.add(timer.name)
        if timer.state not in states:
            add(
                timer.lines.get("state", timer.line),
                "unknown-state",
                f"timer '{timer.name}' watches unknown state '{timer.state}'",
            )
        for action in timer.actions:
            if action.name == "set_assignee_from_payload":
                add(
                    action.line,
                    "action-input",
                    f"timer '{timer.name}': set_assignee_from_payload needs a payload",
                )
    if definition.initial in states:
        reachable = _reachable(definition)
        for state in states.values():
            if state.name not in reachable:
                add(
                    state.line,
                    "unreachable-state",
                    f"state '{state.name}' cannot be reached from '{definition.initial}'",
                )
    for state in states.values():
        if state.is_terminal:
            continue
        if not any(t.roles for t in definition.transitions_from(state.name)):
            add(
                state.line,
                "dead-end-state",
                f"{state.category} state '{state.name}' has no transition out",
            )
    return problems


def expected_file_name(definition: Definition) -> str:
    """Return the file name a definition must have: ``<name>.v<version>.yaml``."""
    return f"{definition.name}.v{definition.version}.yaml"


def check_file(path: Path) -> tuple[Definition | None, list[Problem]]:
    """Parse and check one definition file; return the definition and all its problems."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, 1, "schema", f"cannot read the file: {exc}")]
    result = parse_definition(text, file)
    problems = list(result.problems)
    definition = result.definition
    if definition is not None:
        problems.extend(check_definition(definition))
        expected = expected_file_name(definition)
        if path.name != expected:
            problems.append(
                Problem(
                    file,
                    definition.lines.get("name", 1),
                    "file-name",
                    f"file should be named '{expected}'",
                )
            )
    problems.sort(key=lambda p: p.line)
    return definition, problems


def definition_files(directory: Path) -> list[Path]:
    """Return the definition files of a folder, sorted by name."""
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in DEFINITION_SUFFIXES)


def check_directory(path: str | Path) -> list[Problem]:
    """Check every definition file in a folder, and the folder as a whole."""
    directory = Path(path)
    if not directory.is_dir():
        return [Problem(str(directory), 0, "directory", "not a folder")]
    files = definition_files(directory)
    if not files:
        return [Problem(str(directory), 0, "directory", "no definition files (*.yaml) found")]
    problems: list[Problem] = []
    owners: dict[tuple[str, int], Path] = {}
    for file in files:
        definition, found = check_file(file)
        problems.extend(found)
        if definition is None:
            continue
        first = owners.setdefault(definition.key, file)
        if first != file:
            problems.append(
                Problem(
                    str(file),
                    definition.lines.get("version", 1),
                    "duplicate-version",
                    f"{definition.name} version {definition.version} is "
                    f"already defined in {first.name}",
                )
            )
    return problems


def format_problems(problems: Iterable[Problem]) -> str:
    """Format problems one per line as ``file:line: message [rule]``, plus a count."""
    lines = [str(problem) for problem in problems]
    if not lines:
        return "No problems found."
    noun = "problem" if len(lines) == 1 else "problems"
    return "\n".join([*lines, f"{len(lines)} {noun} found."])
