"""The facts the engine decides on: who acts, and what is known about the order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """Describe who asks for a transition."""

    #: User id; ``None`` for the system (scheduler, services).
    id: int | None
    #: One of :data:`workflows.model.ROLES`.
    role: str
    #: ``en`` or ``zh_CN``; used for labels and reasons shown to this actor.
    locale: str = "en"


@dataclass(frozen=True)
class OrderFacts:
    """Summarize a work order as plain values for guards to check.

    Services build this from the model just before calling the engine. For the
    ``assign`` and ``reassign`` transitions, ``assignee_id`` and ``assignee_skills``
    describe the *candidate* being assigned (the order as it would be after the
    assignment), so that ``assignee_has_skill`` can check them.
    """

    #: Current workflow state name.
    state: str
    #: Work order category code (e.g. ``hvac``); informational for guards.
    category_code: str = ""
    #: Priority name (e.g. ``normal``, ``high``).
    priority: str = "normal"
    assignee_id: int | None = None
    #: Skill code -> level (1 = basic ... 5 = expert) of the assignee.
    assignee_skills: Mapping[str, int] = field(default_factory=dict)
    #: Skill the order's category needs, if any.
    required_skill: str | None = None
    #: Minimum level of ``required_skill``.
    required_skill_level: int = 1
    photo_count: int = 0
    has_customer_signature: bool = False
    checklist_total: int = 0
    checklist_done: int = 0
    parts_recorded: bool = False
    manager_approved: bool = False
    #: Other order fields guards may look at (e.g. ``resolution_code``).
    fields: Mapping[str, object] = field(default_factory=dict)
