"""Diagrams: Mermaid, DOT and SVG show every state and highlight the current one."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from workflows import WorkflowRegistry
from workflows.graph import ranks, text_width, to_dot, to_mermaid, to_svg
from workflows.schema import parse_definition

SVG = "{http://www.w3.org/2000/svg}"


def parse_svg(svg: str) -> ET.Element:
    """Parse SVG that the code under test just produced (trusted input)."""
    return ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted data


NAMES = ["repair", "installation", "preventive_maintenance", "complaint", "emergency_callout"]


@pytest.mark.parametrize("name", NAMES)
def test_mermaid_lists_every_state_and_marks_the_current_one(
    registry: WorkflowRegistry, name: str
) -> None:
    definition = registry.get(name)
    current = list(definition.states)[-2]
    text = to_mermaid(definition, current=current)
    assert text.startswith("stateDiagram-v2")
    for state in definition.states.values():
        assert f'state "{state.labels.en}" as {state.name}' in text
    assert f"class {current} current" in text
    assert f"[*] --> {definition.initial}" in text


@pytest.mark.parametrize("name", NAMES)
def test_dot_lists_every_state_and_marks_the_current_one(
    registry: WorkflowRegistry, name: str
) -> None:
    definition = registry.get(name)
    current = definition.initial
    text = to_dot(definition, current=current, locale="zh_CN")
    for state in definition.states.values():
        assert f'"{state.name}" [label="{state.labels.zh_CN}"' in text
    [line] = [line for line in text.splitlines() if 'class="current"' in line]
    assert line.lstrip().startswith(f'"{current}"')


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_svg_parses_and_highlights_only_the_current_state(
    registry: WorkflowRegistry, name: str, locale: str
) -> None:
    definition = registry.get(name)
    current = list(definition.states)[3]
    root = parse_svg(to_svg(definition, current=current, locale=locale))
    assert root.tag == f"{SVG}svg"
    groups = {g.get("data-state"): g for g in root.iter(f"{SVG}g") if g.get("data-state")}
    assert set(groups) == set(definition.states)
    highlighted = [n for n, g in groups.items() if "current" in (g.get("class") or "").split()]
    assert highlighted == [current]
    texts = {t.text for t in root.iter(f"{SVG}text")}
    for state in definition.states.values():
        assert state.labels.text(locale) in texts
    assert "Noto Sans CJK SC" in (root.get("font-family") or "")


def test_svg_without_current_highlights_nothing(registry: WorkflowRegistry) -> None:
    root = parse_svg(to_svg(registry.get("repair")))
    classes = [g.get("class") or "" for g in root.iter(f"{SVG}g")]
    assert not any("current" in c.split() for c in classes)


def test_svg_draws_one_path_per_edge(registry: WorkflowRegistry) -> None:
    definition = registry.get("emergency_callout")
    root = parse_svg(to_svg(definition))
    edges = {
        (p.get("data-from"), p.get("data-to"))
        for p in root.iter(f"{SVG}path")
        if p.get("class") == "transition"
    }
    expected = {(s, t.target) for t in definition.transitions for s in t.sources}
    assert edges == expected


def test_labels_with_markup_are_escaped() -> None:
    text = """\
name: tricky
version: 1
labels: {en: "<Tricky> & \\"Co\\"", zh_CN: 棘手}
initial: open
states:
  open: {category: new, labels: {en: "<b>Open</b> & go", zh_CN: 打开}}
  finished: {category: done, labels: {en: "Done; #1: \\"ok\\"", zh_CN: 完成}}
transitions:
  - name: finish
    from: open
    to: finished
    labels: {en: "A -> B & <C>", zh_CN: 完成}
    roles: [dispatcher]
"""
    definition = parse_definition(text, "t.yaml").definition
    assert definition is not None
    svg = to_svg(definition, current="open")
    root = parse_svg(svg)
    assert "<b>" not in svg
    assert "<b>Open</b> & go" in {t.text for t in root.iter(f"{SVG}text")}
    dot = to_dot(definition)
    assert '\\"ok\\"' in dot
    mermaid = to_mermaid(definition)
    assert 'state "Done#59; #35;1#58; #quot;ok#quot;" as finished' in mermaid
    assert "#lt;b#gt;Open" in mermaid


def test_ranks_follow_the_shortest_path_from_initial(registry: WorkflowRegistry) -> None:
    rank = ranks(registry.get("repair"))
    assert rank["new"] == 0
    assert rank["triaged"] == rank["assigned"] == rank["cancelled"] == 1
    assert rank["on_site"] == 3


def test_cjk_text_is_measured_wider_than_latin_text() -> None:
    assert text_width("维修中", 10) == 30
    assert text_width("abc", 10) == pytest.approx(18)
