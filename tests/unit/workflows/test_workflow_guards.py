"""Guards: each passes or fails on the facts, and explains failures in two languages."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from workflows import Actor, OrderFacts, Reason, guard_specs

TECH = Actor(id=7, role="technician")
DISPATCHER = Actor(id=2, role="dispatcher", locale="zh_CN")


def run(
    name: str,
    facts: OrderFacts,
    actor: Actor = TECH,
    payload: Mapping[str, object] | None = None,
    args: Mapping[str, object] | None = None,
) -> Reason | None:
    """Run one registered guard."""
    return guard_specs()[name].function(facts, actor, payload or {}, args or {})


CASES = [
    # (guard, args, passing facts/actor/payload, failing facts/actor/payload)
    (
        "role_in",
        {"roles": ["dispatcher"]},
        (OrderFacts("new"), DISPATCHER, {}),
        (OrderFacts("new"), TECH, {}),
    ),
    (
        "has_assignee",
        {},
        (OrderFacts("new", assignee_id=7), TECH, {}),
        (OrderFacts("new"), TECH, {}),
    ),
    (
        "assignee_has_skill",
        {},
        (
            OrderFacts(
                "new", assignee_skills={"hvac": 3}, required_skill="hvac", required_skill_level=3
            ),
            TECH,
            {},
        ),
        (
            OrderFacts(
                "new", assignee_skills={"hvac": 2}, required_skill="hvac", required_skill_level=3
            ),
            TECH,
            {},
        ),
    ),
    (
        "photos_at_least",
        {"n": 2},
        (OrderFacts("x", photo_count=2), TECH, {}),
        (OrderFacts("x", photo_count=1), TECH, {}),
    ),
    (
        "signature_present",
        {},
        (OrderFacts("x", has_customer_signature=True), TECH, {}),
        (OrderFacts("x"), TECH, {}),
    ),
    (
        "checklist_complete",
        {},
        (OrderFacts("x", checklist_total=4, checklist_done=4), TECH, {}),
        (OrderFacts("x", checklist_total=4, checklist_done=3), TECH, {}),
    ),
    (
        "field_present",
        {"field": "resolution_code"},
        (OrderFacts("x"), TECH, {"resolution_code": "R1"}),
        (OrderFacts("x"), TECH, {"resolution_code": "  "}),
    ),
    (
        "manager_approved",
        {},
        (OrderFacts("x", manager_approved=True), TECH, {}),
        (OrderFacts("x"), TECH, {}),
    ),
    (
        "parts_recorded",
        {},
        (OrderFacts("x", parts_recorded=True), TECH, {}),
        (OrderFacts("x"), TECH, {}),
    ),
    (
        "is_assignee",
        {},
        (OrderFacts("x", assignee_id=7), TECH, {}),
        (OrderFacts("x", assignee_id=8), TECH, {}),
    ),
]


@pytest.mark.parametrize(("name", "args", "good", "bad"), CASES, ids=[c[0] for c in CASES])
def test_guard_passes_and_fails_with_bilingual_reason(
    name: str,
    args: dict[str, object],
    good: tuple[OrderFacts, Actor, dict[str, object]],
    bad: tuple[OrderFacts, Actor, dict[str, object]],
) -> None:
    assert run(name, good[0], good[1], good[2], args) is None
    reason = run(name, bad[0], bad[1], bad[2], args)
    assert reason is not None
    assert reason.code == f"guard.{name}"
    assert reason.text("en")
    assert reason.text("zh_CN")
    assert reason.text("en") != reason.text("zh_CN")
    assert any("\u4e00" <= char <= "\u9fff" for char in reason.text("zh_CN"))


def test_every_registered_guard_is_tested() -> None:
    assert {c[0] for c in CASES} == set(guard_specs())


def test_reason_text_falls_back_to_english() -> None:
    reason = Reason("x", "Hello", "你好")
    assert reason.text("fr") == "Hello"
    assert reason.text("zh-CN") == "你好"
    assert reason.text() == "Hello"


def test_photos_reason_mentions_the_counts() -> None:
    reason = run("photos_at_least", OrderFacts("x", photo_count=1), args={"n": 3})
    assert reason is not None
    assert "3" in reason.message_en
    assert "1" in reason.message_en
    assert "3 张" in reason.message_zh_CN


def test_skill_guard_passes_without_a_required_skill() -> None:
    assert run("assignee_has_skill", OrderFacts("x")) is None


def test_skill_guard_arguments_override_the_facts() -> None:
    facts = OrderFacts("x", assignee_skills={"electrical": 2})
    assert run("assignee_has_skill", facts, args={"skill": "electrical", "level": 2}) is None
    assert run("assignee_has_skill", facts, args={"skill": "electrical", "level": 4}) is not None
    assert run("assignee_has_skill", facts, args={"skill": "gas"}) is not None


def test_field_present_falls_back_to_the_order_fields() -> None:
    facts = OrderFacts("x", fields={"resolution_code": "R9"})
    assert run("field_present", facts, args={"field": "resolution_code"}) is None
    reason = run("field_present", OrderFacts("x"), args={"field": "resolution_code"})
    assert reason is not None
    assert reason.field == "resolution_code"


def test_field_present_prefers_the_payload_over_the_order() -> None:
    facts = OrderFacts("x", fields={"resolution_code": "R9"})
    reason = run(
        "field_present", facts, payload={"resolution_code": ""}, args={"field": "resolution_code"}
    )
    assert reason is not None


def test_is_assignee_lets_excepted_roles_through() -> None:
    facts = OrderFacts("x", assignee_id=7)
    assert run("is_assignee", facts, DISPATCHER, args={"except_roles": ["dispatcher"]}) is None
    assert run("is_assignee", facts, DISPATCHER) is not None


def test_is_assignee_fails_for_the_system_actor_without_id() -> None:
    facts = OrderFacts("x", assignee_id=None)
    assert run("is_assignee", facts, Actor(None, "system")) is not None


def test_empty_checklist_counts_as_complete() -> None:
    assert run("checklist_complete", OrderFacts("x")) is None
