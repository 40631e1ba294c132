"""Decide what a command does to a work order, without touching any storage.

The services describe the order as :class:`OrderFacts` and the user as an
:class:`Actor`, ask :func:`decide` about one transition, and get back either a
:class:`Decision` (the new state, the event to record and the actions to request)
or a :class:`Refusal` with reasons in both languages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workflows.actions import ActionRequest
from workflows.facts import Actor, OrderFacts
from workflows.guards import guard_specs
from workflows.model import (
    ActionCall,
    Definition,
    InputField,
    Labels,
    Reason,
    Timer,
    Transition,
)

__all__ = [
    "ActionRequest",
    "Actor",
    "AvailableTransition",
    "Decision",
    "Event",
    "OrderFacts",
    "Refusal",
    "ReplayError",
    "action_requests",
    "available_transitions",
    "decide",
    "due_timers",
    "replay",
    "validate_input",
]


@dataclass(frozen=True)
class AvailableTransition:
    """Describe a transition the actor could take from the order's current state."""

    name: str
    target: str
    labels: Labels
    #: Whether every guard passes now (guards on fields the payload will carry are skipped).
    enabled: bool
    reasons: tuple[Reason, ...]
    input: tuple[InputField, ...]

    def label(self, locale: str = "en") -> str:
        """Return the transition's display name in ``locale``."""
        return self.labels.text(locale)


@dataclass(frozen=True)
class Event:
    """Record what happened: a past-tense kind and the validated payload."""

    #: e.g. ``WorkOrderAssigned``.
    kind: str
    #: The validated, JSON-ready payload (datetimes as ISO 8601 text).
    data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """Accept a transition: where the order goes, what to record and what to request."""

    from_state: str
    to_state: str
    transition: str
    event: Event
    #: Clock changes of the target state first, then the transition's own actions.
    actions: tuple[ActionRequest, ...]

    @property
    def accepted(self) -> bool:
        """Return True: the transition may happen."""
        return True


@dataclass(frozen=True)
class Refusal:
    """Refuse a transition, with every reason found (never empty)."""

    transition: str
    reasons: tuple[Reason, ...]

    @property
    def accepted(self) -> bool:
        """Return False: the transition may not happen."""
        return False

    @property
    def codes(self) -> tuple[str, ...]:
        """Return the reason codes, e.g. to choose an HTTP status."""
        return tuple(reason.code for reason in self.reasons)

    def text(self, locale: str = "en") -> str:
        """Return all reasons as one text in ``locale``."""
        return " ".join(reason.text(locale) for reason in self.reasons)


class ReplayError(ValueError):
    """Signal that a recorded history does not follow the workflow."""


# -- input validation ---------------------------------------------------------------


def _field_names(spec: InputField) -> tuple[str, str]:
    if spec.labels is not None:
        return spec.labels.en, spec.labels.zh_CN
    return spec.name, spec.name


def _problem(spec: InputField, code: str, en: str, zh: str) -> Reason:
    return Reason(f"input.{code}", en, zh, field=spec.name)


def _check_field(spec: InputField, value: object) -> tuple[object, Reason | None]:
    """Return the converted value, or a reason why it is not acceptable."""
    en, zh = _field_names(spec)
    kinds = {
        "string": ("text", "文本"),
        "text": ("text", "文本"),
        "integer": ("whole number", "整数"),
        "number": ("number", "数字"),
        "boolean": ("true or false", "是或否"),
        "datetime": ("date and time with time zone (ISO 8601)", "带时区的日期时间（ISO 8601）"),
        "enum": ("choice", "选项"),
    }
    kind_en, kind_zh = kinds[spec.type]
    wrong = _problem(spec, "wrong_type", f"'{en}' must be a {kind_en}.", f"“{zh}”必须是{kind_zh}。")
    if spec.type in {"string", "text"}:
        if not isinstance(value, str):
            return None, wrong
        limit = spec.effective_max_length
        if limit is not None and len(value) > limit:
            return None, _problem(
                spec,
                "too_long",
                f"'{en}' is too long ({len(value)} characters; at most {limit}).",
                f"“{zh}”过长（{len(value)} 个字符，最多 {limit} 个）。",
            )
        return value, None
    if spec.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return None, wrong
        return value, None
    if spec.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, wrong
        if isinstance(value, float) and not math.isfinite(value):
            return None, wrong
        return value, None
    if spec.type == "boolean":
        if not isinstance(value, bool):
            return None, wrong
        return value, None
    if spec.type == "datetime":
        moment: datetime | None = None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                moment = None
        if moment is None or moment.tzinfo is None or moment.utcoffset() is None:
            return None, wrong
        return moment.isoformat(), None
    # enum
    if not isinstance(value, str) or value not in spec.values:
        return None, _problem(
            spec,
            "bad_choice",
            f"'{en}' must be one of: {', '.join(spec.values)}.",
            f"“{zh}”必须是以下之一：{'、'.join(spec.values)}。",
        )
    return value, None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_input(
    transition: Transition, payload: Mapping[str, object]
) -> tuple[dict[str, object], list[Reason]]:
    """Check a payload against a transition's input fields.

    Returns:
        The converted values of the fields given, and a reason for each problem.
    """
    data: dict[str, object] = {}
    reasons: list[Reason] = []
    declared = {spec.name: spec for spec in transition.input}
    for key in payload:
        if key not in declared:
            reasons.append(
                Reason(
                    "input.unknown_field",
                    f"'{key}' is not accepted here.",
                    f"此处不接受“{key}”。",
                    field=str(key),
                )
            )
    for name, spec in declared.items():
        value = payload.get(name)
        if _blank(value):
            if spec.required:
                en, zh = _field_names(spec)
                reasons.append(
                    _problem(spec, "missing", f"'{en}' is required.", f"“{zh}”为必填项。")
                )
            continue
        converted, reason = _check_field(spec, value)
        if reason is not None:
            reasons.append(reason)
        else:
            data[name] = converted
    return data, reasons


# -- decisions ------------------------------------------------------------------------


def action_requests(calls: Iterable[ActionCall]) -> tuple[ActionRequest, ...]:
    """Turn the action calls of a transition or timer into requests for the services."""
    return tuple(ActionRequest(call.name, dict(call.params)) for call in calls)


def _run_guards(
    transition: Transition,
    facts: OrderFacts,
    actor: Actor,
    payload: Mapping[str, object],
    skip_fields: set[str],
) -> list[Reason]:
    """Run the guards, except those about a payload field listed in ``skip_fields``."""
    specs = guard_specs()
    reasons: list[Reason] = []
    for call in transition.guards:
        spec = specs[call.name]
        if spec.payload_field_arg is not None:
            if call.args.get(spec.payload_field_arg) in skip_fields:
                continue
        reason = spec.function(facts, actor, payload, call.args)
        if reason is not None:
            reasons.append(reason)
    return reasons


def available_transitions(
    definition: Definition, facts: OrderFacts, actor: Actor
) -> list[AvailableTransition]:
    """List the transitions the actor's role may take from the current state.

    Transitions the role may never take are left out; the others say whether they
    are enabled now and, if not, why. Guards on fields that the transition's own
    input will carry (such as ``field_present: resolution_code``) are not judged here.
    """
    result: list[AvailableTransition] = []
    for transition in definition.transitions_from(facts.state):
        if actor.role not in transition.roles:
            continue
        declared = {spec.name for spec in transition.input}
        reasons = _run_guards(transition, facts, actor, {}, skip_fields=declared)
        result.append(
            AvailableTransition(
                name=transition.name,
                target=transition.target,
                labels=transition.labels,
                enabled=not reasons,
                reasons=tuple(reasons),
                input=transition.input,
            )
        )
    return result


def _entry_clock_actions(definition: Definition, state: str) -> list[ActionRequest]:
    clocks = definition.states[state].clocks
    requests: list[ActionRequest] = []
    # Stop and pause before starting, so a state that hands over from one clock to the
    # next reads in order.
    for operation in ("stop", "pause", "resume", "start"):
        for clock in getattr(clocks, operation):
            requests.append(ActionRequest(f"{operation}_clock", {"clock": clock}))
    return requests


def decide(
    definition: Definition,
    facts: OrderFacts,
    transition_name: str,
    actor: Actor,
    payload: Mapping[str, object],
) -> Decision | Refusal:
    """Decide whether ``actor`` may take ``transition_name`` now, and what follows."""
    transition = definition.transition(transition_name)
    if transition is None:
        return Refusal(
            transition_name,
            (
                Reason(
                    "unknown_transition",
                    f"There is no action '{transition_name}' in this workflow.",
                    f"此流程中没有“{transition_name}”操作。",
                ),
            ),
        )
    if facts.state not in definition.states:
        return Refusal(
            transition_name,
            (
                Reason(
                    "unknown_state",
                    f"The order is in state '{facts.state}', which this workflow does not have.",
                    f"工单处于本流程中不存在的状态“{facts.state}”。",
                ),
            ),
        )
    reasons: list[Reason] = []
    if facts.state not in transition.sources:
        state_labels = definition.states[facts.state].labels
        reasons.append(
            Reason(
                "not_allowed_from_state",
                f"'{transition.labels.en}' is not possible while the order is '{state_labels.en}'.",
                f"工单处于“{state_labels.zh_CN}”状态时不能执行“{transition.labels.zh_CN}”。",
            )
        )
    if actor.role not in transition.roles:
        reasons.append(
            Reason(
                "role_not_allowed",
                f"Your role ({actor.role}) may not do '{transition.labels.en}'.",
                f"您的角色（{actor.role}）无权执行“{transition.labels.zh_CN}”。",
            )
        )
    if reasons:
        return Refusal(transition_name, tuple(reasons))
    data, input_reasons = validate_input(transition, payload)
    # A field already reported as bad input is not reported again by its guard.
    bad_fields = {reason.field for reason in input_reasons if reason.field is not None}
    reasons.extend(_run_guards(transition, facts, actor, data, skip_fields=bad_fields))
    reasons.extend(input_reasons)
    if reasons:
        return Refusal(transition_name, tuple(reasons))
    requests: list[ActionRequest] = []
    if transition.target != facts.state:
        requests.extend(_entry_clock_actions(definition, transition.target))
    for request in action_requests(transition.actions):
        if request not in requests:
            requests.append(request)
    return Decision(
        from_state=facts.state,
        to_state=transition.target,
        transition=transition.name,
        event=Event(transition.event, data),
        actions=tuple(requests),
    )


def replay(definition: Definition, events: Iterable[tuple[str, str, str]]) -> str:
    """Rebuild the current state from ``(transition, from_state, to_state)`` history.

    Raises:
        ReplayError: if a step does not start where the previous one ended or is not
            an edge of the workflow.
    """
    state = definition.initial
    for index, (name, from_state, to_state) in enumerate(events):
        step = f"step {index + 1} ({name}: {from_state} -> {to_state})"
        if from_state != state:
            raise ReplayError(f"{step} starts from '{from_state}' but the order was in '{state}'")
        transition = definition.transition(name)
        if transition is None:
            raise ReplayError(f"{step}: no such transition")
        if from_state not in transition.sources or to_state != transition.target:
            raise ReplayError(f"{step} is not an edge of {definition.name} v{definition.version}")
        state = to_state
    return state


def _wall_clock(start: datetime, end: datetime) -> timedelta:
    return end - start


def due_timers(
    definition: Definition,
    state: str,
    entered_at: datetime,
    now: datetime,
    fired: set[str],
    working_elapsed: Callable[[datetime, datetime], timedelta] = _wall_clock,
) -> list[Timer]:
    """Return the timers of ``state`` that are due and not yet in ``fired``, soonest first.

    Working-time timers measure the time in the state with ``working_elapsed``
    (a business calendar); the default treats every hour as working time.
    """
    due: list[Timer] = []
    for timer in definition.timers_in(state):
        if timer.name in fired:
            continue
        elapsed = working_elapsed(entered_at, now) if timer.working else now - entered_at
        if elapsed >= timer.after:
            due.append(timer)
    return sorted(due, key=lambda timer: timer.after)
