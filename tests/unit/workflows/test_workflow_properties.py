"""Property tests: random walks through every shipped workflow stay consistent."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from workflows import (
    Actor,
    Decision,
    InputField,
    OrderFacts,
    WorkflowRegistry,
    action_specs,
    available_transitions,
    decide,
    replay,
)
from workflows.model import ROLES

NAMES = ["repair", "installation", "preventive_maintenance", "complaint", "emergency_callout"]
ASSIGNEE = 7
ACTORS = [(ASSIGNEE, "en"), (ASSIGNEE, "zh_CN"), (ASSIGNEE, "en"), (99, "en"), (None, "zh_CN")]


def valid_value(spec: InputField) -> st.SearchStrategy[object]:
    """Draw a value the field accepts."""
    limit = min(spec.effective_max_length or 40, 40)
    if spec.type in {"string", "text"}:
        return st.text(alphabet="abcXYZ019修理", min_size=1, max_size=limit)
    if spec.type == "integer":
        return st.integers(min_value=1, max_value=10_000)
    if spec.type == "number":
        return st.floats(min_value=0, max_value=1e6, allow_nan=False)
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "datetime":
        return st.sampled_from(["2025-03-01T09:00:00+08:00", "2025-03-01T01:00:00Z"])
    return st.sampled_from(spec.values)


JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3), st.just("x" * 5000))


@st.composite
def payloads(draw: st.DrawFn, fields: tuple[InputField, ...]) -> dict[str, object]:
    """Draw a payload that is usually valid and sometimes broken in one way or another."""
    payload: dict[str, object] = {}
    for spec in fields:
        mode = draw(st.sampled_from(["valid"] * 8 + ["omit", "junk"]))
        if mode == "valid":
            payload[spec.name] = draw(valid_value(spec))
        elif mode == "junk":
            payload[spec.name] = draw(JUNK)
    if draw(st.integers(0, 9)) == 0:
        payload["unexpected"] = draw(JUNK)
    return payload


SATISFIED = OrderFacts(
    state="",
    assignee_skills={"hvac": 3},
    required_skill="hvac",
    photo_count=3,
    has_customer_signature=True,
    checklist_total=2,
    checklist_done=2,
    parts_recorded=True,
    manager_approved=True,
    fields={"resolution_code": "FIXED"},
)


@st.composite
def facts_for(draw: st.DrawFn, state: str, assignee_id: int | None) -> OrderFacts:
    """Draw order facts that satisfy the guards most of the time."""
    likely = st.sampled_from([True, True, True, False])
    total = draw(st.integers(0, 4))
    return OrderFacts(
        state=state,
        category_code="hvac",
        assignee_id=assignee_id,
        assignee_skills={"hvac": draw(st.integers(0, 3))} if draw(likely) else {},
        required_skill="hvac" if draw(st.booleans()) else None,
        required_skill_level=draw(st.integers(1, 2)),
        photo_count=draw(st.integers(0, 3)),
        has_customer_signature=draw(likely),
        checklist_total=total,
        checklist_done=total if draw(likely) else draw(st.integers(0, total)),
        parts_recorded=draw(likely),
        manager_approved=draw(likely),
        fields={"resolution_code": "FIXED"} if draw(st.booleans()) else {},
    )


@pytest.mark.parametrize("name", NAMES)
@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_walks_stay_in_defined_states_and_replay(
    registry: WorkflowRegistry, name: str, data: st.DataObject
) -> None:
    definition = registry.get(name)
    # Random names (to test refusals), leaving out cancelling so walks get far.
    any_names = [
        t.name
        for t in definition.transitions
        if definition.states[t.target].category != "cancelled"
    ] + ["teleport"]
    known_actions = set(action_specs())
    state = definition.initial
    assignee: int | None = None
    approved = False
    history: list[tuple[str, str, str]] = []
    drawn_facts = data.draw(facts_for("", None), label="facts")
    for _ in range(data.draw(st.integers(0, 40), label="steps")):
        # Weighted lists: mostly transitions from here (cancelling less often, so walks get
        # far), by roles that may take them.
        outgoing = [
            t.name
            for t in definition.transitions_from(state)
            for _ in range(1 if definition.states[t.target].category == "cancelled" else 10)
        ]
        chosen = data.draw(st.sampled_from(outgoing + any_names), label="transition")
        transition = definition.transition(chosen)
        roles = list(transition.roles) if transition else []
        role = data.draw(st.sampled_from(roles * 12 + list(ROLES)), label="role")
        actor_id, locale = data.draw(st.sampled_from(ACTORS), label="actor")
        actor = Actor(actor_id, role, locale)
        fields = transition.input if transition else ()
        payload = data.draw(payloads(fields), label="payload")
        satisfied = data.draw(st.integers(0, 3), label="evidence") > 0
        base = SATISFIED if satisfied else drawn_facts
        facts = replace(base, state=state, assignee_id=assignee)
        if approved:
            facts = replace(facts, manager_approved=True)

        options = available_transitions(definition, facts, actor)
        assert all(o.target in definition.states for o in options)
        assert all(o.enabled == (not o.reasons) for o in options)

        result = decide(definition, facts, chosen, actor, payload)
        if isinstance(result, Decision):
            assert result.from_state == state
            assert result.to_state in definition.states
            assert result.transition == chosen
            assert result.event.kind[:1].isupper()
            assert {a.name for a in result.actions} <= known_actions
            for action in result.actions:
                if action.name == "set_assignee_from_payload":
                    value = result.event.data[str(action.params["field"])]
                    assert isinstance(value, int)
                    assignee = ASSIGNEE if data.draw(st.booleans()) else value
                elif action.name == "clear_assignee":
                    assignee = None
            if result.event.kind == "WorkOrderApproved":
                approved = True
            history.append((chosen, state, result.to_state))
            state = result.to_state
        else:
            assert result.reasons, "every refusal explains itself"
            assert all(r.text("en") and r.text("zh_CN") for r in result.reasons)
        assert state in definition.states
    event(f"ended in {definition.states[state].category}")
    assert replay(definition, history) == state
