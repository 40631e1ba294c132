"""Who may take a job: one pure function per rule, each saying why not in English and Chinese.

The facts come from the database layer (``server.dispatch.candidates``) or from tests; no
rule reads a database or a clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Text:
    """A sentence in both languages the product speaks."""

    en: str
    zh_CN: str

    def __call__(self, locale: str) -> str:
        """Return the sentence in ``locale`` (Chinese for ``zh*``, else English)."""
        return self.zh_CN if locale.startswith("zh") else self.en


@dataclass(frozen=True)
class Refusal:
    """Why a technician may not take the job."""

    code: str
    text: Text


@dataclass(frozen=True)
class JobFacts:
    """What the rules and the score need to know about the job."""

    order_id: int
    #: Requested window (or now … now + duration when the customer asked for none).
    window_start: datetime
    window_end: datetime
    required_skill: str | None = None
    required_skill_level: int = 1
    #: Certificate names the category demands (valid on the day of the window).
    required_certifications: Sequence[str] = ()
    is_emergency: bool = False
    #: Site position, WGS 84 degrees (None: unknown, travel is not scored).
    latitude: float | None = None
    longitude: float | None = None
    #: When the technician must be on site by (arrival deadline), if any.
    deadline: datetime | None = None
    customer_id: int | None = None
    asset_id: int | None = None
    site_id: int | None = None


@dataclass(frozen=True)
class TechnicianFacts:
    """What the rules and the score need to know about one technician for that job."""

    technician_id: int
    name: str
    is_active: bool = True
    #: Skill code → level (1-5).
    skills: dict[str, int] = field(default_factory=dict)
    #: Certificate name → last valid day (None: does not expire).
    certifications: dict[str, date | None] = field(default_factory=dict)
    #: Working periods overlapping the job's day, as aware datetimes.
    shifts: Sequence[tuple[datetime, datetime]] = ()
    is_on_call: bool = False
    max_jobs_per_day: int = 6
    #: Open jobs on the window's day already assigned.
    jobs_today: int = 0
    #: Periods marked unavailable (leave, sick, off shift); end None = open-ended.
    unavailable: Sequence[tuple[datetime, datetime | None]] = ()
    #: Where the technician will set off from, and what that place is.
    latitude: float | None = None
    longitude: float | None = None
    position_source: str = "home"
    #: Last day they served this asset, or this customer (continuity).
    served_asset_on: date | None = None
    served_customer_on: date | None = None
    #: Jobs this week, and the team's average (fairness).
    jobs_this_week: int = 0


Rule = Callable[[JobFacts, TechnicianFacts], Refusal | None]


def check_active(job: JobFacts, tech: TechnicianFacts) -> Refusal | None:
    """Refuse a deactivated account."""
    if tech.is_active:
        return None
    return Refusal("inactive", Text("Account is deactivated", "账号已停用"))


def check_skill(job: JobFacts, tech: TechnicianFacts) -> Refusal | None:
    """Refuse a technician without the category's skill at the required level."""
    if job.required_skill is None:
        return None
    level = tech.skills.get(job.required_skill)
    if level is None:
        return Refusal(
            "missing_skill",
            Text(f"Lacks the skill {job.required_skill}", f"不具备技能 {job.required_skill}"),
        )
    if level < job.required_skill_level:
        return Refusal(
            "skill_level_too_low",
            Text(
                f"{job.required_skill} level {level}, needs {job.required_skill_level}",
                f"{job.required_skill} 等级 {level}，需要 {job.required_skill_level}",
            ),
        )
    return None


def check_certifications(job: JobFacts, tech: TechnicianFacts) -> Refusal | None:
    """Refuse a technician whose required certificate is missing or expired on the day."""
    day = job.window_start.date()
    for name in job.required_certifications:
        if name not in tech.certifications:
            return Refusal(
                "missing_certification", Text(f"No certificate {name}", f"无证书 {name}")
            )
        expires = tech.certifications[name]
        if expires is not None and expires < day:
            return Refusal(
                "certification_expired",
                Text(
                    f"Certificate {name} expired on {expires.isoformat()}",
                    f"证书 {name} 已于 {expires.isoformat()} 过期",
                ),
            )
    return None


def check_on_shift(job: JobFacts, tech: TechnicianFacts) -> Refusal | None:
    """Refuse a technician off shift in the window, unless on call for an emergency."""
    for start, end in tech.shifts:
        if start < job.window_end and job.window_start < end:
            return None
    if job.is_emergency and tech.is_on_call:
        return None
    return Refusal("off_shift", Text("Not on shift in the requested window", "所需时段不在班"))


def check_daily_limit(job: JobFacts, tech: TechnicianFacts) -> Refusal | None:
    """Refuse a technician who already has their maximum number of jobs that day."""
    if tech.jobs_today < tech.max_jobs_per_day:
        return None
    return Refusal(
        "daily_limit",
        Text(
            f"Already has {tech.jobs_today} jobs (limit {tech.max_jobs_per_day})",
            f"当天已有 {tech.jobs_today} 单（上限 {tech.max_jobs_per_day}）",
        ),
    )


def check_available(job: JobFacts, tech: TechnicianFacts) -> Refusal | None:
    """Refuse a technician marked unavailable (leave, sick, off) during the window."""
    for start, end in tech.unavailable:
        if start < job.window_end and (end is None or job.window_start < end):
            return Refusal(
                "unavailable", Text("Marked unavailable (leave)", "已标记不可用（休假）")
            )
    return None


#: Every rule, in the order a dispatcher would check them.
RULES: tuple[Rule, ...] = (
    check_active,
    check_skill,
    check_certifications,
    check_on_shift,
    check_daily_limit,
    check_available,
)


def refusals(job: JobFacts, tech: TechnicianFacts) -> list[Refusal]:
    """Return every rule ``tech`` fails for ``job`` (empty: eligible)."""
    return [r for rule in RULES if (r := rule(job, tech)) is not None]


def is_eligible(job: JobFacts, tech: TechnicianFacts) -> bool:
    """Return whether ``tech`` passes every rule for ``job``."""
    return all(rule(job, tech) is None for rule in RULES)
