"""Guards: named conditions a transition needs, each explaining a failure in two languages.

A guard is a function ``(facts, actor, payload, args) -> Reason | None``; ``None``
means the condition holds. Definitions name guards either bare (``- has_assignee``)
or with arguments (``- photos_at_least: 2`` or ``- field_present: {field: x}``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

from workflows.facts import Actor, OrderFacts
from workflows.model import ROLES, Reason
from workflows.params import Param, Signature

GuardFunction = Callable[
    [OrderFacts, Actor, Mapping[str, object], Mapping[str, object]], Reason | None
]


@dataclass(frozen=True)
class GuardSpec:
    """Register a guard: its function, its arguments and what it is for."""

    name: str
    function: GuardFunction
    signature: Signature = field(default_factory=Signature)
    #: Argument naming a payload field the guard reads; when that field is a declared
    #: input of the transition, the guard cannot be judged before the payload arrives.
    payload_field_arg: str | None = None
    description: str = ""


def _present(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple | dict | set):
        return bool(value)
    return True


def role_in(
    facts: OrderFacts, actor: Actor, payload: Mapping[str, object], args: Mapping[str, object]
) -> Reason | None:
    """Pass when the actor's role is one of ``roles``."""
    roles = cast(list[str], args["roles"])
    if actor.role in roles:
        return None
    return Reason(
        "guard.role_in",
        f"Only these roles may do this: {', '.join(roles)}.",
        f"只有以下角色可以执行此操作：{'、'.join(roles)}。",
    )


def has_assignee(
    facts: OrderFacts, actor: Actor, payload: Mapping[str, object], args: Mapping[str, object]
) -> Reason | None:
    """Pass when the order has a technician assigned."""
    if facts.assignee_id is not None:
        return None
    return Reason("guard.has_assignee", "No technician is assigned.", "尚未指派技术员。")


def assignee_has_skill(
    facts: OrderFacts, actor: Actor, payload: Mapping[str, object], args: Mapping[str, object]
) -> Reason | None:
    """Pass when the assignee's level in the required skill is high enough.

    The skill and level come from the arguments if given, else from the facts
    (``required_skill``, ``required_skill_level``); no required skill passes.
    """
    skill = cast(str | None, args.get("skill")) or facts.required_skill
    if not skill:
        return None
    level = cast(int | None, args.get("level")) or facts.required_skill_level
    have = facts.assignee_skills.get(skill, 0)
    if have >= level:
        return None
    return Reason(
        "guard.assignee_has_skill",
        f"The technician needs skill '{skill}' at level {level} or higher (has {have}).",
        f"技术员需要具备“{skill}”技能 {level} 级或以上（当前 {have} 级）。",
    )


def photos_at_least(
    facts: OrderFacts, actor: Actor, payload: Mapping[str, object], args: Mapping[str, object]
) -> Reason | None:
    """Pass when at least ``n`` photos are attached."""
    n = cast(int, args["n"])
    if facts.photo_count >= n:
        return None
    return Reason(
        "guard.photos_at_least",
        f"At least {n} photo(s) are required ({facts.photo_count} attached).",
        f"至少需要 {n} 张照片（已上传 {facts.photo_count} 张）。",
    )


def signature_present(
    facts: OrderFacts, actor: Actor, payload: Mapping[str, object], args: Mapping[str, object]
) -> Reason | None:
    """Pass when the customer has signed."""
    if facts.has_customer_signature:
        return None
    return Reason(
        "guard.signature_present", "The customer's signature is missing.", "缺少客户签名。"
    )


def checklist_complete(
    facts: OrderFacts, actor: Actor, payload: Mapping[str, object], args: Mapping[str, object]
) -> Reason | None:
    """Pass when every checklist item is done (an empty checklist passes)."""
    if facts.checklist_done >= facts.checklist_total:
        return None
    left = facts.checklist_total - facts.checklist_done
    return Reason(
        "guard.checklist_complete",
        f"The checklist is not complete ({left} of {facts.checklist_total} items left).",
        f"检查清单未完成（共 {facts.checklist_total} 项，剩余 {left} 项）。",
    )


def field_present(
    facts: OrderFacts, actor: Actor, payload: Mapping[str, object], args: Mapping[str, object]
) -> Reason | None:
    """Pass when ``field`` has a value in the payload, or else in the order's fields."""
    name = cast(str, args["field"])
    value = payload.get(name) if name in payload else facts.fields.get(name)
    if _present(value):
        return None
    return Reason(
        "guard.field_present",
        f"'{name}' must be filled in.",
        f"必须填写“{name}”。",
        field=name,
    )


def manager_approved(
    facts: OrderFacts, actor: Actor, payload: Mapping[str, object], args: Mapping[str, object]
) -> Reason | None:
    """Pass when a manager has approved the order."""
    if facts.manager_approved:
        return None
    return Reason(
        "guard.manager_approved", "A manager must approve this first.", "需要先经经理审批。"
    )


def parts_recorded(
    facts: OrderFacts, actor: Actor, payload: Mapping[str, object], args: Mapping[str, object]
) -> Reason | None:
    """Pass when the parts used have been recorded."""
    if facts.parts_recorded:
        return None
    return Reason(
        "guard.parts_recorded", "The parts used have not been recorded.", "尚未登记所用备件。"
    )


def is_assignee(
    facts: OrderFacts, actor: Actor, payload: Mapping[str, object], args: Mapping[str, object]
) -> Reason | None:
    """Pass when the actor is the assigned technician (or has a role in ``except_roles``)."""
    if actor.role in cast(list[str], args.get("except_roles", [])):
        return None
    if actor.id is not None and actor.id == facts.assignee_id:
        return None
    return Reason(
        "guard.is_assignee",
        "Only the assigned technician may do this.",
        "只有被指派的技术员可以执行此操作。",
    )


def guard_specs() -> Mapping[str, GuardSpec]:
    """Return the registry of guards by name."""
    return _GUARDS


_ROLE_LIST = Param("choice_list", required=True, choices=ROLES)

_GUARDS: Mapping[str, GuardSpec] = {
    spec.name: spec
    for spec in (
        GuardSpec(
            "role_in",
            role_in,
            Signature({"roles": _ROLE_LIST}, primary="roles"),
            description="The actor's role is one of the listed roles.",
        ),
        GuardSpec("has_assignee", has_assignee, description="A technician is assigned."),
        GuardSpec(
            "assignee_has_skill",
            assignee_has_skill,
            Signature({"skill": Param("str"), "level": Param("int", minimum=1)}, primary="skill"),
            description="The assignee has the required skill at the required level.",
        ),
        GuardSpec(
            "photos_at_least",
            photos_at_least,
            Signature({"n": Param("int", required=True, minimum=1)}, primary="n"),
            description="At least n photos are attached.",
        ),
        GuardSpec("signature_present", signature_present, description="The customer signed."),
        GuardSpec(
            "checklist_complete", checklist_complete, description="Every checklist item is done."
        ),
        GuardSpec(
            "field_present",
            field_present,
            Signature({"field": Param("str", required=True)}, primary="field"),
            payload_field_arg="field",
            description="A field is filled in (payload first, then the order).",
        ),
        GuardSpec("manager_approved", manager_approved, description="A manager approved."),
        GuardSpec("parts_recorded", parts_recorded, description="Parts used are recorded."),
        GuardSpec(
            "is_assignee",
            is_assignee,
            Signature(
                {"except_roles": Param("choice_list", choices=ROLES)}, primary="except_roles"
            ),
            description="The actor is the assigned technician.",
        ),
    )
}
