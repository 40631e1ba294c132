"""Actions: named side effects a transition or timer asks for.

The engine never performs actions; it validates their names and parameters when a
definition is loaded and returns them as :class:`ActionRequest` values, which the
services turn into model changes and outbox rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from workflows.model import CLOCKS
from workflows.params import Param, Signature

#: Who a notification can go to.
RECIPIENTS = ("assignee", "dispatcher", "customer", "manager", "owner")
#: How a notification can be delivered.
CHANNELS = ("push", "email")
#: Timestamp fields the ``stamp`` action may set on the work order.
STAMP_FIELDS = (
    "accepted_at",
    "en_route_at",
    "arrived_at",
    "started_at",
    "completed_at",
    "closed_at",
    "cancelled_at",
)


@dataclass(frozen=True)
class ActionRequest:
    """Ask the services to perform one action, with parameters (defaults filled in)."""

    name: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionSpec:
    """Register an action: its parameters and what the services should do."""

    name: str
    signature: Signature = field(default_factory=Signature)
    description: str = ""


def action_specs() -> Mapping[str, ActionSpec]:
    """Return the registry of actions by name."""
    return _ACTIONS


_CLOCK = Signature({"clock": Param("choice", required=True, choices=CLOCKS)}, primary="clock")

_ACTIONS: Mapping[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "notify",
            Signature(
                {
                    "to": Param("choice", required=True, choices=RECIPIENTS),
                    "channels": Param("choice_list", default=("push",), choices=CHANNELS),
                    "template": Param("str", required=True),
                }
            ),
            "Send a notification from a named template.",
        ),
        ActionSpec("start_clock", _CLOCK, "Start a service-level clock."),
        ActionSpec("stop_clock", _CLOCK, "Stop a service-level clock for good."),
        ActionSpec("pause_clock", _CLOCK, "Pause a running clock."),
        ActionSpec("resume_clock", _CLOCK, "Resume a paused clock."),
        ActionSpec(
            "stamp",
            Signature({"field": Param("choice", required=True, choices=STAMP_FIELDS)}, "field"),
            "Set a timestamp field on the work order to now.",
        ),
        ActionSpec("request_completion_sheet", description="Render and send the completion PDF."),
        ActionSpec(
            "schedule_followup",
            Signature(
                {
                    "after": Param("duration", default="1 working day"),
                    "template": Param("str", default="followup_survey"),
                },
                primary="after",
            ),
            "Schedule a customer follow-up after a delay.",
        ),
        ActionSpec(
            "escalate",
            Signature({"level": Param("int", default=1, minimum=1)}, primary="level"),
            "Escalate the order to the given level.",
        ),
        ActionSpec("raise_priority", description="Raise the order's priority by one step."),
        ActionSpec("reassign_on_call", description="Reassign the order to the on-call technician."),
        ActionSpec(
            "create_linked_order",
            Signature({"category": Param("str", required=True)}, primary="category"),
            "Create a new order of a category, linked to this one.",
        ),
        ActionSpec("clear_assignee", description="Remove the assigned technician."),
        ActionSpec(
            "set_assignee_from_payload",
            Signature({"field": Param("str", default="assignee_id")}, primary="field"),
            "Assign the technician whose id is in a payload field.",
        ),
    )
}
