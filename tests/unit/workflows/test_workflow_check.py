"""Checks of definition files: every rule, with file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workflows import check_directory, default_definitions_dir, format_problems
from workflows.check import RULES
from workflows.model import Problem

BROKEN = Path(__file__).parent / "fixtures" / "broken"
_EXPECT = re.compile(r"#\s*expect:\s*(.+)$")


def expected_problems(folder: Path) -> set[tuple[str, int, str]]:
    """Read the ``# expect: rule[, rule]`` markers of every file in a fixture folder."""
    expected: set[tuple[str, int, str]] = set()
    for file in sorted(folder.iterdir()):
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            match = _EXPECT.search(line)
            if match:
                for rule in match.group(1).split(","):
                    expected.add((file.name, number, rule.strip()))
    return expected


def test_shipped_definitions_check_clean() -> None:
    problems = check_directory(default_definitions_dir())
    assert problems == [], format_problems(problems)


def test_every_rule_but_directory_has_a_broken_fixture() -> None:
    folders = {p.name for p in BROKEN.iterdir() if p.is_dir()}
    assert folders == set(RULES) - {"directory"}


@pytest.mark.parametrize("rule", sorted(p.name for p in BROKEN.iterdir() if p.is_dir()))
def test_broken_fixture_reports_exactly_its_marked_problems(rule: str) -> None:
    folder = BROKEN / rule
    problems = check_directory(folder)
    found = {(Path(p.file).name, p.line, p.rule) for p in problems}
    expected = expected_problems(folder)
    assert any(r == rule for _, _, r in expected)
    assert found == expected, format_problems(problems)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_problem_messages_name_the_rule_in_brackets(rule: str) -> None:
    assert str(Problem("a.yaml", 3, rule, "bad")) == f"a.yaml:3: bad [{rule}]"


def test_missing_folder_is_a_directory_problem(tmp_path: Path) -> None:
    problems = check_directory(tmp_path / "absent")
    assert [p.rule for p in problems] == ["directory"]


def test_empty_folder_is_a_directory_problem(tmp_path: Path) -> None:
    problems = check_directory(tmp_path)
    assert [p.rule for p in problems] == ["directory"]


def test_format_problems_lists_file_line_and_count() -> None:
    text = format_problems(
        [Problem("x.yaml", 4, "no-roles", "no role"), Problem("y", 1, "schema", "m")]
    )
    assert text.splitlines() == [
        "x.yaml:4: no role [no-roles]",
        "y:1: m [schema]",
        "2 problems found.",
    ]


def test_format_problems_says_when_there_are_none() -> None:
    assert format_problems([]) == "No problems found."
