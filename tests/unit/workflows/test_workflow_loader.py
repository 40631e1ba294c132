"""Loading definition files: the schema, its line numbers, and the registry of versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows import (
    DefinitionError,
    UnknownWorkflowError,
    WorkflowRegistry,
    default_definitions_dir,
    load_definition,
)
from workflows.schema import derive_event_kind, parse_definition

VALID = """\
name: mini
version: 1
labels: {en: Mini, zh_CN: 迷你}
initial: open
states:
  open: {category: new, labels: {en: Open, zh_CN: 打开}}
  finished: {category: done, labels: {en: Finished, zh_CN: 完成}}
transitions:
  - name: finish
    from: open
    to: finished
    labels: {en: Finish, zh_CN: 完成}
    roles: [dispatcher]
"""


def problems_of(text: str) -> list[tuple[int, str]]:
    """Return (line, message) of every problem parsing ``text``."""
    return [(p.line, p.message) for p in parse_definition(text, "t.yaml").problems]


def test_valid_text_parses_without_problems() -> None:
    result = parse_definition(VALID, "t.yaml")
    assert result.problems == []
    assert result.definition is not None
    assert result.definition.states["open"].labels.text("zh_CN") == "打开"


def test_yaml_syntax_error_reports_its_line() -> None:
    text = VALID.replace("    roles: [dispatcher]", "    roles: [dispatcher")
    [(line, message)] = problems_of(text)
    assert line >= 13
    assert "invalid YAML" in message


def test_empty_file_is_a_problem() -> None:
    assert problems_of("") == [(1, "the file is empty")]


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("version: 1", "version: one", 2, "version must be a whole number"),
        ("version: 1", "version: true", 2, "version must be a whole number"),
        ("name: mini", "name: Mini Workflow", 1, "lower_snake_case"),
        (
            "labels: {en: Mini, zh_CN: 迷你}",
            "labels: {en: Mini}",
            3,
            "missing required key 'zh_CN'",
        ),
        ("initial: open", "initial: open\ncolour: blue", 5, "unknown key 'colour'"),
        ("category: new", "category: fresh", 6, "category must be one of"),
        ("roles: [dispatcher]", "roles: [janitor]", 13, "roles item must be one of"),
        ("roles: [dispatcher]", "roles: dispatcher", 13, "roles must be a list"),
        ("    to: finished\n", "", 9, "missing required key 'to'"),
        ("    from: open", "    from: []", 10, "'from' must name at least one state"),
        (
            "    roles: [dispatcher]",
            "    roles: [dispatcher]\n    event: finished",
            14,
            "CamelCase",
        ),
        (
            "    roles: [dispatcher]",
            "    roles: [dispatcher]\n    reopen: maybe",
            14,
            "true or false",
        ),
    ],
)
def test_schema_errors_point_at_their_line(old: str, new: str, line: int, words: str) -> None:
    text = VALID.replace(old, new, 1)
    found = problems_of(text)
    assert any(at == line and words in message for at, message in found), found


def test_duplicate_keys_are_reported() -> None:
    text = VALID.replace("version: 1", "version: 1\nversion: 2")
    assert (3, "workflow: duplicate key 'version'") in problems_of(text)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("{type: colour}", "type must be one of"),
        ("{type: enum}", "an enum needs 'values'"),
        ("{type: enum, values: []}", "values must not be empty"),
        ("{type: enum, values: [a, a]}", "values must be unique"),
        ("{type: string, values: [a]}", "values are only for type enum"),
        ("{type: integer, max_length: 3}", "max_length is only for string/text"),
        ("{type: string, max_length: 0}", "max_length must be a whole number >= 1"),
        ("{type: string, required: sometimes}", "required must be true or false"),
        ("{type: enum, values: [a], value_labels: {b: {en: B, zh_CN: 乙}}}", "unknown value 'b'"),
        ("{kind: string}", "missing required key 'type'"),
    ],
)
def test_input_field_errors_point_at_the_transition_input(spec: str, words: str) -> None:
    text = VALID + f"    input:\n      note: {spec}\n"
    found = problems_of(text)
    assert any(at == 15 and words in message for at, message in found), found


@pytest.mark.parametrize(
    ("after", "words"),
    [("soon", "is not a duration"), ("0h", "longer than zero"), ("5", "must be a duration")],
)
def test_timer_durations_are_checked(after: str, words: str) -> None:
    text = VALID + (
        "timers:\n"
        "  - name: slow\n"
        "    state: open\n"
        f"    after: {after}\n"
        "    labels: {en: Slow, zh_CN: 慢}\n"
        "    actions: [raise_priority]\n"
    )
    found = problems_of(text)
    assert any(at == 17 and words in message for at, message in found), found


def test_timer_after_working_words_makes_a_working_timer() -> None:
    text = VALID + (
        "timers:\n"
        "  - name: slow\n"
        "    state: open\n"
        "    after: 2 working hours\n"
        "    labels: {en: Slow, zh_CN: 慢}\n"
        "    actions: [raise_priority]\n"
    )
    result = parse_definition(text, "t.yaml")
    assert result.definition is not None
    [timer] = result.definition.timers
    assert timer.working
    assert timer.after.total_seconds() == 7200


def test_guard_and_action_arguments_are_bound_with_defaults() -> None:
    text = VALID + (
        "    guards:\n"
        "      - photos_at_least: 2\n"
        "      - field_present: {field: resolution_code}\n"
        "    actions:\n"
        "      - notify: {to: customer, template: done}\n"
        "      - escalate\n"
        "      - schedule_followup\n"
    )
    result = parse_definition(text, "t.yaml")
    assert result.problems == []
    assert result.definition is not None
    [transition] = result.definition.transitions
    assert [dict(g.args) for g in transition.guards] == [{"n": 2}, {"field": "resolution_code"}]
    assert [dict(a.params) for a in transition.actions] == [
        {"to": "customer", "template": "done", "channels": ["push"]},
        {"level": 1},
        {"after": "1 working day", "template": "followup_survey"},
    ]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("assign", "WorkOrderAssigned"),
        ("accept", "WorkOrderAccepted"),
        ("triage", "WorkOrderTriaged"),
        ("cancel", "WorkOrderCancelled"),
        ("start_travel", "WorkOrderTravelStarted"),
        ("reopen", "WorkOrderReopened"),
        ("skip", "WorkOrderSkipped"),
        ("notify", "WorkOrderNotified"),
    ],
)
def test_event_kind_is_derived_in_past_tense(name: str, kind: str) -> None:
    assert derive_event_kind(name) == kind


def test_explicit_event_kind_wins() -> None:
    definition = load_definition(default_definitions_dir() / "repair.v1.yaml")
    arrive = definition.transition("arrive")
    assert arrive is not None
    assert arrive.event == "WorkOrderArrivedOnSite"


def test_load_definition_raises_with_every_problem(fixtures_dir: Path) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_definition(fixtures_dir / "broken" / "terminal-exit" / "mini.v1.yaml")
    assert [p.rule for p in caught.value.problems] == ["terminal-exit", "terminal-exit"]
    assert "mini.v1.yaml:27:" in str(caught.value)


def test_registry_returns_newest_version_by_default(fixtures_dir: Path) -> None:
    registry = WorkflowRegistry.load_directory(fixtures_dir / "versions")
    assert registry.get("demo").version == 2
    assert "checked" in registry.get("demo").states
    assert registry.latest_version("demo") == 2


def test_registry_keeps_old_versions_loadable(fixtures_dir: Path) -> None:
    registry = WorkflowRegistry.load_directory(fixtures_dir / "versions")
    old = registry.get("demo", version=1)
    assert old.version == 1
    assert "checked" not in old.states
    assert registry.versions("demo") == [1, 2]
    assert [d.key for d in registry] == [("demo", 1), ("demo", 2)]


def test_registry_names_are_sorted(registry: WorkflowRegistry) -> None:
    assert registry.names() == [
        "complaint",
        "emergency_callout",
        "installation",
        "preventive_maintenance",
        "repair",
    ]
    assert "repair" in registry


def test_registry_refuses_unknown_names_and_versions(fixtures_dir: Path) -> None:
    registry = WorkflowRegistry.load_directory(fixtures_dir / "versions")
    with pytest.raises(UnknownWorkflowError):
        registry.get("nope")
    with pytest.raises(UnknownWorkflowError):
        registry.get("demo", version=7)
    with pytest.raises(UnknownWorkflowError):
        registry.latest_version("nope")


def test_registry_refuses_a_second_copy_of_a_version(fixtures_dir: Path) -> None:
    registry = WorkflowRegistry.load_directory(fixtures_dir / "versions")
    with pytest.raises(DefinitionError):
        registry.add(registry.get("demo", 1))


def test_registry_load_directory_raises_on_broken_files(fixtures_dir: Path) -> None:
    with pytest.raises(DefinitionError) as caught:
        WorkflowRegistry.load_directory(fixtures_dir / "broken" / "no-roles")
    assert {p.rule for p in caught.value.problems} == {"no-roles", "dead-end-state"}


def test_registry_load_directory_raises_on_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError):
        WorkflowRegistry.load_directory(tmp_path / "absent")


def test_default_definitions_dir_holds_the_shipped_files() -> None:
    names = sorted(p.name for p in default_definitions_dir().glob("*.yaml"))
    assert names == [
        "complaint.v1.yaml",
        "emergency_callout.v1.yaml",
        "installation.v1.yaml",
        "preventive_maintenance.v1.yaml",
        "repair.v1.yaml",
    ]
