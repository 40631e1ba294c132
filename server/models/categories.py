"""Request categories: each picks a workflow, a default priority and a required skill."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import JSONType, TimestampMixin, enum_values
from server.models.enums import Priority


class Category(TimestampMixin, db.Model):
    """A class of request (e.g. air-conditioning repair, complaint)."""

    __tablename__ = "categories"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable code used by integrations, e.g. ``HVAC-REPAIR``.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    #: English name.
    name_en: Mapped[str] = mapped_column(String(120))
    #: Simplified Chinese name.
    name_zh: Mapped[str] = mapped_column(String(120))
    #: Priority a new order of this category gets unless the dispatcher says otherwise.
    default_priority: Mapped[Priority] = mapped_column(
        Enum(Priority, values_callable=enum_values, native_enum=False, length=10),
        default=Priority.NORMAL,
    )
    #: Name of the workflow definition orders of this category follow.
    workflow_name: Mapped[str] = mapped_column(String(60))
    #: Skill a technician needs for it (None: anyone).
    required_skill: Mapped[str | None] = mapped_column(String(40))
    #: Minimum level of that skill, 1-5.
    required_skill_level: Mapped[int] = mapped_column(default=1)
    #: Checklist the technician fills in: ``[{"key": …, "en": …, "zh_CN": …}]``.
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    #: Inactive categories are hidden from intake but keep their orders.
    is_active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        """Return the name in ``locale`` (Chinese for ``zh*``, else English)."""
        return self.name_zh if locale.startswith("zh") else self.name_en
