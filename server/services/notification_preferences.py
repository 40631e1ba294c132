"""Per-user notification preferences: which topics reach the user, by push and by e-mail."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select

from server.extensions import db
from server.models import NotificationPreference, User
from server.services.errors import InvalidInput

#: Topic -> the notification templates it covers. Users switch topics, not templates.
TOPICS: dict[str, tuple[str, ...]] = {
    "new_jobs": ("work_order_assigned", "work_order_handed_off"),
    "job_changes": ("work_order_cancelled", "work_order_updated", "work_order_update"),
    "alerts": (
        "work_order_declined",
        "assignment_not_accepted",
        "deadline_warning",
        "deadline_breached",
        "escalation",
    ),
    "digest": ("daily_digest",),
}
#: Templates nobody can switch off: an emergency must reach the technician.
ALWAYS_SENT = frozenset({"emergency_assigned"})
CHANNELS = ("push", "email")


def topic_of(template: str) -> str:
    """Return the topic a notification template belongs to (unknown ones: job changes)."""
    for topic, templates in TOPICS.items():
        if template in templates:
            return topic
    return "alerts" if template.startswith(("deadline", "escalat")) else "job_changes"


def preferences_of(user: User) -> dict[str, dict[str, bool]]:
    """Return every topic with the user's choice per channel (defaults where unset)."""
    chosen = {
        row.topic: row
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    return {
        topic: {
            "push": chosen[topic].push if topic in chosen else True,
            "email": chosen[topic].email if topic in chosen else True,
        }
        for topic in TOPICS
    }


def set_preferences(
    user: User, changes: Mapping[str, Mapping[str, bool]]
) -> dict[str, dict[str, bool]]:
    """Change some topics' channels; topics and channels not named keep their values."""
    unknown = sorted(set(changes) - set(TOPICS))
    if unknown:
        raise InvalidInput({"topics": [f"unknown topic: {', '.join(unknown)}"]})
    rows = {
        row.topic: row
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for topic, channels in changes.items():
        row = rows.get(topic)
        if row is None:
            row = NotificationPreference(user_id=user.id, topic=topic, push=True, email=True)
            db.session.add(row)
        for channel, wanted in channels.items():
            setattr(row, channel, bool(wanted))
    db.session.flush()
    return preferences_of(user)


def wanting(users: Iterable[User], template: str, channel: str) -> list[User]:
    """Return the users who want ``template`` notifications over ``channel``."""
    users = list(users)
    if template in ALWAYS_SENT or not users:
        return users
    declined = set(
        db.session.scalars(
            select(NotificationPreference.user_id).where(
                NotificationPreference.user_id.in_([u.id for u in users]),
                NotificationPreference.topic == topic_of(template),
                getattr(NotificationPreference, channel).is_(False),
            )
        )
    )
    return [user for user in users if user.id not in declined]
