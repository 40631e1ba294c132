"""The engine: available transitions, decisions, input validation, replay and timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflows import (
    ActionRequest,
    Actor,
    Decision,
    Definition,
    OrderFacts,
    Refusal,
    ReplayError,
    WorkflowRegistry,
    available_transitions,
    decide,
    due_timers,
    replay,
)

TECH = Actor(id=7, role="technician")
OTHER_TECH = Actor(id=8, role="technician")
DISPATCHER = Actor(id=2, role="dispatcher")
MANAGER = Actor(id=3, role="manager")
SYSTEM = Actor(id=None, role="system")


def ready_to_complete(**changes: object) -> OrderFacts:
    """Return facts of an in-progress repair that satisfies every completion guard."""
    values: dict[str, object] = {
        "state": "in_progress",
        "assignee_id": 7,
        "photo_count": 2,
        "has_customer_signature": True,
        "checklist_total": 3,
        "checklist_done": 3,
    }
    values.update(changes)
    return OrderFacts(**values)  # type: ignore[arg-type]


def accepted(result: Decision | Refusal) -> Decision:
    """Assert the result is a decision and return it."""
    assert isinstance(result, Decision), result
    return result


def refused(result: Decision | Refusal) -> Refusal:
    """Assert the result is a refusal and return it."""
    assert isinstance(result, Refusal), result
    assert result.reasons
    return result


# -- decide -----------------------------------------------------------------------------


def test_assign_records_the_event_and_asks_to_notify_the_assignee(repair: Definition) -> None:
    decision = accepted(
        decide(
            repair,
            OrderFacts("triaged"),
            "assign",
            DISPATCHER,
            {"assignee_id": 7, "note": "urgent"},
        )
    )
    assert (decision.from_state, decision.to_state) == ("triaged", "assigned")
    assert decision.event.kind == "WorkOrderAssigned"
    assert decision.event.data == {"assignee_id": 7, "note": "urgent"}
    assert decision.accepted
    assert ActionRequest("set_assignee_from_payload", {"field": "assignee_id"}) in decision.actions
    assert (
        ActionRequest(
            "notify", {"to": "assignee", "channels": ["push"], "template": "work_order_assigned"}
        )
        in decision.actions
    )


def test_assign_checks_the_candidates_skill(repair: Definition) -> None:
    facts = OrderFacts(
        "new",
        required_skill="hvac",
        required_skill_level=3,
        assignee_id=7,
        assignee_skills={"hvac": 1},
    )
    refusal = refused(decide(repair, facts, "assign", DISPATCHER, {"assignee_id": 7}))
    assert refusal.codes == ("guard.assignee_has_skill",)


def test_accept_stops_the_respond_clock_before_the_transition_actions(repair: Definition) -> None:
    decision = accepted(decide(repair, OrderFacts("assigned", assignee_id=7), "accept", TECH, {}))
    assert decision.actions == (
        ActionRequest("stop_clock", {"clock": "respond"}),
        ActionRequest("stamp", {"field": "accepted_at"}),
    )


def test_new_state_clocks_start_when_entered(registry: WorkflowRegistry) -> None:
    emergency = registry.get("emergency_callout")
    facts = OrderFacts("assigned", assignee_id=7)
    decision = accepted(decide(emergency, facts, "decline", TECH, {"reason": "too far"}))
    assert decision.to_state == "new"
    starts = [a.params["clock"] for a in decision.actions if a.name == "start_clock"]
    assert starts == ["respond", "arrive", "resolve"]


def test_putting_on_hold_pauses_and_resuming_resumes_the_resolve_clock(
    repair: Definition,
) -> None:
    hold = accepted(
        decide(
            repair,
            OrderFacts("in_progress", assignee_id=7),
            "put_on_hold",
            TECH,
            {"reason": "waiting_for_parts"},
        )
    )
    assert ActionRequest("pause_clock", {"clock": "resolve"}) in hold.actions
    back = accepted(decide(repair, OrderFacts("on_hold", assignee_id=7), "resume_work", TECH, {}))
    assert back.actions[0] == ActionRequest("resume_clock", {"clock": "resolve"})


def test_dispatcher_may_put_on_hold_without_being_the_assignee(repair: Definition) -> None:
    facts = OrderFacts("in_progress", assignee_id=7)
    accepted(decide(repair, facts, "put_on_hold", DISPATCHER, {"reason": "other"}))
    refused(decide(repair, facts, "put_on_hold", OTHER_TECH, {"reason": "other"}))


def test_reassign_to_the_same_state_repeats_no_clock_actions(repair: Definition) -> None:
    decision = accepted(
        decide(
            repair,
            OrderFacts("assigned", assignee_id=7),
            "reassign",
            DISPATCHER,
            {"assignee_id": 9},
        )
    )
    assert decision.to_state == "assigned"
    assert not any(a.name.endswith("_clock") for a in decision.actions)


def test_completion_requires_photos_checklist_signature_and_resolution_code(
    repair: Definition,
) -> None:
    facts = OrderFacts("in_progress", assignee_id=7, checklist_total=2, checklist_done=1)
    refusal = refused(decide(repair, facts, "complete", TECH, {}))
    assert refusal.codes == (
        "guard.photos_at_least",
        "guard.checklist_complete",
        "guard.signature_present",
        "input.missing",
    )


def test_missing_resolution_code_is_reported_once_even_if_the_order_has_one(
    repair: Definition,
) -> None:
    facts = ready_to_complete(fields={"resolution_code": "FIXED"})
    refusal = refused(decide(repair, facts, "complete", TECH, {}))
    assert refusal.codes == ("input.missing",), "the input itself stays required"


def test_completion_requires_signature(repair: Definition) -> None:
    facts = ready_to_complete(has_customer_signature=False)
    refusal = refused(decide(repair, facts, "complete", TECH, {"resolution_code": "FIXED"}))
    assert refusal.codes == ("guard.signature_present",)
    assert refusal.text("zh_CN") == "缺少客户签名。"


def test_completion_asks_for_the_sheet_and_a_follow_up(repair: Definition) -> None:
    decision = accepted(
        decide(
            repair,
            ready_to_complete(),
            "complete",
            TECH,
            {"resolution_code": "FIXED", "resolution_note": "new fuse"},
        )
    )
    names = [a.name for a in decision.actions]
    assert names == [
        "stop_clock",
        "start_clock",
        "stamp",
        "request_completion_sheet",
        "schedule_followup",
    ]
    assert decision.actions[-1].params == {"after": "1 working day", "template": "followup_survey"}
    assert decision.event.kind == "WorkOrderCompleted"


def test_only_the_assignee_may_complete(repair: Definition) -> None:
    refusal = refused(
        decide(repair, ready_to_complete(), "complete", OTHER_TECH, {"resolution_code": "FIXED"})
    )
    assert refusal.codes == ("guard.is_assignee",)


def test_unknown_transition_is_refused(repair: Definition) -> None:
    refusal = refused(decide(repair, OrderFacts("new"), "teleport", DISPATCHER, {}))
    assert refusal.codes == ("unknown_transition",)
    assert not refusal.accepted


def test_unknown_current_state_is_refused(repair: Definition) -> None:
    refusal = refused(decide(repair, OrderFacts("limbo"), "triage", DISPATCHER, {}))
    assert refusal.codes == ("unknown_state",)


def test_transition_from_the_wrong_state_is_refused(repair: Definition) -> None:
    refusal = refused(decide(repair, OrderFacts("closed"), "triage", DISPATCHER, {}))
    assert refusal.codes == ("not_allowed_from_state",)
    assert "Closed" in refusal.text("en")
    assert "已关闭" in refusal.text("zh_CN")


def test_role_that_may_not_take_the_transition_is_refused(repair: Definition) -> None:
    refusal = refused(decide(repair, OrderFacts("new"), "cancel", TECH, {"reason": "x"}))
    assert refusal.codes == ("role_not_allowed",)


def test_wrong_state_and_wrong_role_are_both_reported(repair: Definition) -> None:
    refusal = refused(decide(repair, OrderFacts("closed"), "accept", DISPATCHER, {}))
    assert refusal.codes == ("not_allowed_from_state", "role_not_allowed")


def test_cancelled_orders_cannot_be_reopened(repair: Definition) -> None:
    refusal = refused(decide(repair, OrderFacts("cancelled"), "reopen", MANAGER, {"reason": "x"}))
    assert refusal.codes == ("not_allowed_from_state",)


def test_closed_orders_can_be_reopened_to_triage(repair: Definition) -> None:
    decision = accepted(
        decide(repair, OrderFacts("closed"), "reopen", MANAGER, {"reason": "fault came back"})
    )
    assert decision.to_state == "triaged"
    assert ActionRequest("clear_assignee", {}) in decision.actions


def test_decline_returns_to_triage_and_clears_the_assignee(repair: Definition) -> None:
    decision = accepted(
        decide(
            repair, OrderFacts("assigned", assignee_id=7), "decline", TECH, {"reason": "no ladder"}
        )
    )
    assert decision.to_state == "triaged"
    assert decision.actions[0] == ActionRequest("clear_assignee", {})


def test_installation_cannot_be_scheduled_before_approval(registry: WorkflowRegistry) -> None:
    installation = registry.get("installation")
    payload = {"scheduled_for": "2025-03-01T09:00:00+08:00"}
    refusal = refused(decide(installation, OrderFacts("approved"), "schedule", DISPATCHER, payload))
    assert refusal.codes == ("guard.manager_approved",)
    facts = OrderFacts("approved", manager_approved=True)
    accepted(decide(installation, facts, "schedule", DISPATCHER, payload))


def test_complaint_contact_stops_the_respond_clock(registry: WorkflowRegistry) -> None:
    complaint = registry.get("complaint")
    decision = accepted(
        decide(
            complaint,
            OrderFacts("triaged"),
            "contact_customer",
            DISPATCHER,
            {"channel": "phone", "note": "apologised"},
        )
    )
    assert ActionRequest("stop_clock", {"clock": "respond"}) in decision.actions
    assert decision.event.kind == "WorkOrderCustomerContacted"


def test_complaint_severity_must_be_a_known_level(registry: WorkflowRegistry) -> None:
    complaint = registry.get("complaint")
    refusal = refused(
        decide(complaint, OrderFacts("new"), "triage", DISPATCHER, {"severity": "catastrophic"})
    )
    assert refusal.codes == ("input.bad_choice",)
    assert "general, important, major" in refusal.text()


# -- input validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "input.missing"),
        ({"assignee_id": None}, "input.missing"),
        ({"assignee_id": "7"}, "input.wrong_type"),
        ({"assignee_id": 7.0}, "input.wrong_type"),
        ({"assignee_id": True}, "input.wrong_type"),
        ({"assignee_id": 7, "note": "x" * 2001}, "input.too_long"),
        ({"assignee_id": 7, "note": 5}, "input.wrong_type"),
        ({"assignee_id": 7, "colour": "red"}, "input.unknown_field"),
    ],
)
def test_assign_input_problems_are_refused(
    repair: Definition, payload: dict[str, object], code: str
) -> None:
    refusal = refused(decide(repair, OrderFacts("new"), "assign", DISPATCHER, payload))
    assert refusal.codes == (code,)
    [reason] = refusal.reasons
    assert reason.field in {"assignee_id", "note", "colour"}
    assert reason.text("zh_CN") != reason.text("en")


def test_field_labels_name_the_field_in_each_language(repair: Definition) -> None:
    refusal = refused(decide(repair, OrderFacts("new"), "assign", DISPATCHER, {}))
    assert refusal.text("en") == "'Technician' is required."
    assert refusal.text("zh_CN") == "“技术员”为必填项。"


def test_blank_required_text_counts_as_missing(repair: Definition) -> None:
    refusal = refused(decide(repair, OrderFacts("new"), "cancel", DISPATCHER, {"reason": "  "}))
    assert refusal.codes == ("input.missing",)


def test_every_input_problem_is_reported_at_once(repair: Definition) -> None:
    refusal = refused(
        decide(
            repair,
            OrderFacts("in_progress", assignee_id=7),
            "put_on_hold",
            TECH,
            {"reason": "bored", "note": ["x"], "extra": 1},
        )
    )
    assert sorted(refusal.codes) == ["input.bad_choice", "input.unknown_field", "input.wrong_type"]


def test_enum_values_must_be_texts(repair: Definition) -> None:
    refusal = refused(
        decide(repair, OrderFacts("in_progress", assignee_id=7), "put_on_hold", TECH, {"reason": 1})
    )
    assert refusal.codes == ("input.bad_choice",)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2025-03-01T09:00:00+08:00", True),
        ("2025-03-01T09:00:00Z", True),
        (datetime(2025, 3, 1, 9, tzinfo=UTC), True),
        ("2025-03-01T09:00:00", False),
        (datetime(2025, 3, 1, 9), False),  # noqa: DTZ001 - a naive datetime is the point
        ("next tuesday", False),
        (20250301, False),
    ],
)
def test_datetimes_must_be_iso_with_a_time_zone(
    registry: WorkflowRegistry, value: object, ok: bool
) -> None:
    definition = registry.get("preventive_maintenance")
    result = decide(definition, OrderFacts("planned"), "schedule", SYSTEM, {"scheduled_for": value})
    if ok:
        data = accepted(result).event.data
        assert isinstance(data["scheduled_for"], str)
        assert datetime.fromisoformat(data["scheduled_for"]).utcoffset() is not None
    else:
        assert refused(result).codes == ("input.wrong_type",)


@pytest.mark.parametrize(
    ("value", "ok"), [(2, True), (2.5, True), (True, False), ("2", False), (float("nan"), False)]
)
def test_numbers_accept_ints_and_finite_floats_only(
    registry: WorkflowRegistry, value: object, ok: bool
) -> None:
    installation = registry.get("installation")
    payload = {"survey_notes": "two units", "estimated_hours": value}
    result = decide(installation, OrderFacts("site_survey"), "submit_survey", DISPATCHER, payload)
    assert isinstance(result, Decision) is ok


def test_booleans_must_be_true_or_false(registry: WorkflowRegistry) -> None:
    complaint = registry.get("complaint")
    facts = OrderFacts("resolution_proposed")
    accepted(decide(complaint, facts, "submit_for_review", MANAGER, {"customer_agreed": False}))
    refusal = refused(
        decide(complaint, facts, "submit_for_review", MANAGER, {"customer_agreed": "yes"})
    )
    assert refusal.codes == ("input.wrong_type",)


def test_string_fields_have_a_default_length_limit(repair: Definition) -> None:
    refusal = refused(
        decide(repair, ready_to_complete(), "complete", TECH, {"resolution_code": "X" * 33})
    )
    assert refusal.codes == ("input.too_long",)


# -- available transitions --------------------------------------------------------------


def test_technician_sees_only_their_transitions(repair: Definition) -> None:
    options = available_transitions(repair, OrderFacts("assigned", assignee_id=7), TECH)
    assert [o.name for o in options] == ["decline", "accept"]
    assert all(o.enabled for o in options)
    assert options[1].label("zh_CN") == "接单"
    assert options[1].target == "accepted"


def test_dispatcher_sees_reassign_unassign_and_cancel_when_assigned(repair: Definition) -> None:
    options = available_transitions(repair, OrderFacts("assigned", assignee_id=7), DISPATCHER)
    assert [o.name for o in options] == ["reassign", "unassign", "cancel"]
    assert [f.name for f in options[2].input] == ["reason"]


def test_other_technicians_see_disabled_transitions_with_reasons(repair: Definition) -> None:
    options = available_transitions(repair, OrderFacts("assigned", assignee_id=7), OTHER_TECH)
    assert options
    assert not any(o.enabled for o in options)
    assert all(o.reasons[0].code == "guard.is_assignee" for o in options)


def test_complete_is_disabled_until_evidence_is_there(repair: Definition) -> None:
    facts = OrderFacts("in_progress", assignee_id=7)
    [complete] = [o for o in available_transitions(repair, facts, TECH) if o.name == "complete"]
    assert not complete.enabled
    codes = {r.code for r in complete.reasons}
    assert codes == {"guard.photos_at_least", "guard.signature_present"}
    [complete] = [
        o for o in available_transitions(repair, ready_to_complete(), TECH) if o.name == "complete"
    ]
    assert complete.enabled, "the resolution code comes with the payload"


def test_nothing_is_available_in_a_cancelled_order(repair: Definition) -> None:
    assert available_transitions(repair, OrderFacts("cancelled"), MANAGER) == []


# -- replay -----------------------------------------------------------------------------


def test_replay_rebuilds_the_state_from_history(repair: Definition) -> None:
    history = [
        ("triage", "new", "triaged"),
        ("assign", "triaged", "assigned"),
        ("decline", "assigned", "triaged"),
        ("assign", "triaged", "assigned"),
        ("accept", "assigned", "accepted"),
    ]
    assert replay(repair, history) == "accepted"
    assert replay(repair, []) == "new"


@pytest.mark.parametrize(
    "history",
    [
        [("accept", "new", "accepted")],
        [("triage", "new", "assigned")],
        [("triage", "new", "triaged"), ("accept", "assigned", "accepted")],
        [("teleport", "new", "closed")],
    ],
)
def test_replay_refuses_illegal_steps(
    repair: Definition, history: list[tuple[str, str, str]]
) -> None:
    with pytest.raises(ReplayError):
        replay(repair, history)


# -- timers -----------------------------------------------------------------------------

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_calendar_timer_fires_after_its_delay(registry: WorkflowRegistry) -> None:
    emergency = registry.get("emergency_callout")
    assert due_timers(emergency, "assigned", T0, T0 + timedelta(minutes=4), set()) == []
    [timer] = due_timers(emergency, "assigned", T0, T0 + timedelta(minutes=5), set())
    assert timer.name == "not_accepted"
    assert [a.name for a in timer.actions] == ["reassign_on_call", "escalate"]


def test_fired_timers_are_not_due_again(registry: WorkflowRegistry) -> None:
    emergency = registry.get("emergency_callout")
    assert due_timers(emergency, "assigned", T0, T0 + timedelta(hours=1), {"not_accepted"}) == []


def test_timers_of_other_states_are_ignored(repair: Definition) -> None:
    assert due_timers(repair, "new", T0, T0 + timedelta(days=30), set()) == []


def test_working_time_timers_use_the_calendar_callable(repair: Definition) -> None:
    now = T0 + timedelta(hours=5)
    [timer] = due_timers(repair, "assigned", T0, now, set())
    assert timer.name == "not_accepted"

    def nothing_worked(start: datetime, end: datetime) -> timedelta:
        return timedelta(minutes=59)

    assert due_timers(repair, "assigned", T0, now, set(), working_elapsed=nothing_worked) == []


def test_due_timers_come_soonest_first(registry: WorkflowRegistry) -> None:
    complaint = registry.get("complaint")
    due = due_timers(complaint, "manager_review", T0, T0 + timedelta(days=2), set())
    assert [t.name for t in due] == ["review_pending"]
    assert due_timers(complaint, "triaged", T0, T0 + timedelta(hours=3), set())[
        0
    ].after == timedelta(hours=3)


# -- happy paths ------------------------------------------------------------------------

WHEN = "2025-03-01T09:00:00+08:00"
HAPPY_PATHS: dict[str, list[tuple[str, Actor, dict[str, object]]]] = {
    "repair": [
        ("triage", DISPATCHER, {}),
        ("assign", DISPATCHER, {"assignee_id": 7}),
        ("accept", TECH, {}),
        ("start_travel", TECH, {}),
        ("arrive", TECH, {}),
        ("start_work", TECH, {}),
        ("put_on_hold", TECH, {"reason": "waiting_for_parts"}),
        ("resume_work", TECH, {}),
        ("complete", TECH, {"resolution_code": "FIXED"}),
        ("close", SYSTEM, {}),
    ],
    "installation": [
        ("request_survey", DISPATCHER, {}),
        ("submit_survey", TECH, {"survey_notes": "wall is fine", "estimated_hours": 3}),
        ("approve", MANAGER, {}),
        ("schedule", DISPATCHER, {"scheduled_for": WHEN}),
        ("assign", DISPATCHER, {"assignee_id": 7}),
        ("accept", TECH, {}),
        ("arrive", TECH, {}),
        ("start_work", TECH, {}),
        ("complete", TECH, {}),
        ("close", DISPATCHER, {}),
    ],
    "preventive_maintenance": [
        ("schedule", SYSTEM, {"scheduled_for": WHEN}),
        ("assign", SYSTEM, {"assignee_id": 7}),
        ("accept", TECH, {}),
        ("arrive", TECH, {}),
        ("start_work", TECH, {}),
        ("complete", TECH, {"follow_up_needed": False}),
        ("close", SYSTEM, {}),
    ],
    "complaint": [
        ("triage", DISPATCHER, {"severity": "important"}),
        ("contact_customer", DISPATCHER, {"channel": "phone", "note": "called"}),
        ("propose_resolution", DISPATCHER, {"proposal": "refund", "compensation_fen": 50000}),
        ("submit_for_review", DISPATCHER, {"customer_agreed": True}),
        ("reject", MANAGER, {"reason": "too generous"}),
        ("propose_resolution", DISPATCHER, {"proposal": "repair"}),
        ("submit_for_review", DISPATCHER, {"customer_agreed": True}),
        ("approve", MANAGER, {}),
        ("close", SYSTEM, {"callback_outcome": "satisfied"}),
    ],
    "emergency_callout": [
        ("assign", SYSTEM, {"assignee_id": 7}),
        ("accept", TECH, {}),
        ("start_travel", TECH, {}),
        ("arrive", TECH, {}),
        ("start_work", TECH, {}),
        ("complete", TECH, {"resolution_code": "FIXED"}),
        ("close", SYSTEM, {}),
    ],
}


@pytest.mark.parametrize("name", sorted(HAPPY_PATHS))
def test_happy_path_reaches_a_done_state(registry: WorkflowRegistry, name: str) -> None:
    definition = registry.get(name)
    state = definition.initial
    history: list[tuple[str, str, str]] = []
    for transition, actor, payload in HAPPY_PATHS[name]:
        facts = ready_to_complete(state=state, parts_recorded=True, manager_approved=True)
        decision = accepted(decide(definition, facts, transition, actor, payload))
        history.append((transition, state, decision.to_state))
        state = decision.to_state
    assert definition.states[state].category == "done"
    assert replay(definition, history) == state


def test_every_shipped_transition_has_labels_in_both_languages(
    registry: WorkflowRegistry,
) -> None:
    for definition in registry:
        for transition in definition.transitions:
            assert transition.labels.en
            assert transition.labels.zh_CN
            assert any("\u4e00" <= char <= "\u9fff" for char in transition.labels.zh_CN)
        for state in definition.states.values():
            assert any("\u4e00" <= char <= "\u9fff" for char in state.labels.zh_CN)
