"""Rank eligible technicians for one job by a score whose every part is shown in words.

The score is a cost in minutes (lower is better): travel minutes, plus minutes charged per
job already on today's list, minus a bonus for continuity with the asset or customer, plus
minutes late against the arrival deadline, plus a charge for being above the team's weekly
average. Each part carries its own sentence in English and Chinese, so the dispatcher sees
"12 min away, 3 jobs today, served this asset on 2026-05-12" and not a bare number.
"""

from __future__ import annotations

import json
import math
import random
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from server.dispatch.eligibility import JobFacts, Refusal, TechnicianFacts, Text, refusals

#: Where the technician sets off from, in words.
_SOURCES = {
    "previous_job": Text("from the previous job's site", "从上一单地点出发"),
    "position": Text("from the last known position", "从最近位置出发"),
    "home": Text("from home base", "从驻地出发"),
}


@dataclass(frozen=True)
class ScoringSettings:
    """Weights and travel assumptions (configurable per deployment)."""

    #: Straight-line distance × this factor ≈ road distance.
    road_factor: float = 1.3
    #: Average travel speed, km/h.
    speed_kmh: float = 30.0
    #: Minutes charged per job already on the technician's list that day.
    minutes_per_job_today: float = 15.0
    #: Minutes of bonus for having served the same asset / customer before.
    asset_continuity_minutes: float = 20.0
    customer_continuity_minutes: float = 10.0
    #: Minutes charged per minute of arriving after the deadline.
    lateness_weight: float = 2.0
    #: Minutes charged per job above the team's weekly average.
    minutes_per_job_over_average: float = 5.0
    #: Travel assumed when either place is unknown.
    unknown_travel_minutes: float = 30.0
    #: OSRM base URL (FIELDWORK_OSRM_URL); None: straight line × road factor ÷ speed.
    osrm_url: str | None = None


@dataclass(frozen=True)
class ScorePart:
    """One part of a score: its minutes and its sentence."""

    code: str
    minutes: float
    text: Text


@dataclass
class Recommendation:
    """One candidate: total cost (minutes, lower is better) and its parts."""

    technician_id: int
    name: str
    cost: float
    travel_minutes: float | None
    parts: list[ScorePart] = field(default_factory=list)

    def summary(self, locale: str) -> str:
        """Return the parts as one sentence in ``locale``."""
        sep = "，" if locale.startswith("zh") else ", "
        return sep.join(part.text(locale) for part in self.parts)


@dataclass
class Ranking:
    """The ranked eligible technicians and, per refused one, why."""

    recommendations: list[Recommendation]
    refused: dict[int, list[Refusal]]
    #: How many passed every rule (``recommendations`` may be cut to a limit).
    eligible_count: int = 0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


def straight_line_minutes(
    settings: ScoringSettings, lat1: float, lon1: float, lat2: float, lon2: float
) -> float:
    """Return travel minutes: straight line × road factor ÷ speed."""
    return haversine_km(lat1, lon1, lat2, lon2) * settings.road_factor / settings.speed_kmh * 60


def osrm_minutes(
    url: str, origins: Sequence[tuple[float, float]], destination: tuple[float, float]
) -> list[float | None]:
    """Return driving minutes from each origin to ``destination`` from an OSRM table service."""
    out: list[float | None] = []
    for begin in range(0, len(origins), 100):
        chunk = origins[begin : begin + 100]
        points = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in [destination, *chunk])
        sources = ";".join(str(i) for i in range(1, len(chunk) + 1))
        request = f"{url.rstrip('/')}/table/v1/driving/{points}?sources={sources}&destinations=0"
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (operator URL)
            body = json.load(response)
        out += [row[0] / 60 if row and row[0] is not None else None for row in body["durations"]]
    return out


def travel_minutes(
    settings: ScoringSettings, job: JobFacts, techs: Sequence[TechnicianFacts]
) -> list[float | None]:
    """Return each technician's travel minutes to the job (None: a place is unknown)."""
    if job.latitude is None or job.longitude is None:
        return [None] * len(techs)
    known = [i for i, t in enumerate(techs) if t.latitude is not None and t.longitude is not None]
    result: list[float | None] = [None] * len(techs)
    if settings.osrm_url and known:
        try:
            minutes = osrm_minutes(
                settings.osrm_url,
                [(techs[i].latitude, techs[i].longitude) for i in known],  # type: ignore[misc]
                (job.latitude, job.longitude),
            )
        except (OSError, ValueError, KeyError):
            minutes = None  # the routing server is down: fall back to the straight line
        if minutes is not None:
            for i, m in zip(known, minutes, strict=True):
                result[i] = m
            return result
    for i in known:
        t = techs[i]
        result[i] = straight_line_minutes(
            settings,
            t.latitude,
            t.longitude,
            job.latitude,
            job.longitude,  # type: ignore[arg-type]
        )
    return result


def score(
    job: JobFacts,
    tech: TechnicianFacts,
    travel: float | None,
    now: datetime,
    team_week_average: float,
    settings: ScoringSettings,
) -> Recommendation:
    """Score one eligible technician, part by part."""
    parts: list[ScorePart] = []
    if travel is None:
        parts.append(
            ScorePart(
                "travel_unknown",
                settings.unknown_travel_minutes,
                Text("distance unknown", "距离未知"),
            )
        )
    else:
        m = round(travel)
        where = _SOURCES.get(tech.position_source, _SOURCES["home"])
        parts.append(
            ScorePart(
                "travel",
                travel,
                Text(f"{m} min away ({where.en})", f"约 {m} 分钟路程（{where.zh_CN}）"),
            )
        )
    n = tech.jobs_today
    parts.append(
        ScorePart(
            "load_today",
            n * settings.minutes_per_job_today,
            Text(f"{n} job{'s' if n != 1 else ''} today", f"今天已有 {n} 单"),
        )
    )
    if tech.served_asset_on is not None:
        day = tech.served_asset_on.isoformat()
        parts.append(
            ScorePart(
                "continuity_asset",
                -settings.asset_continuity_minutes,
                Text(f"served this asset on {day}", f"曾于 {day} 服务过该设备"),
            )
        )
    elif tech.served_customer_on is not None:
        day = tech.served_customer_on.isoformat()
        parts.append(
            ScorePart(
                "continuity_customer",
                -settings.customer_continuity_minutes,
                Text(f"served this customer on {day}", f"曾于 {day} 服务过该客户"),
            )
        )
    if job.deadline is not None:
        start = max(now, job.window_start)
        arrival = start + timedelta(minutes=travel or settings.unknown_travel_minutes)
        slack = (job.deadline - arrival).total_seconds() / 60
        s = round(abs(slack))
        if slack >= 0:
            parts.append(
                ScorePart(
                    "deadline_slack",
                    0.0,
                    Text(f"arrives {s} min before the deadline", f"可在时限前 {s} 分钟到达"),
                )
            )
        else:
            parts.append(
                ScorePart(
                    "deadline_late",
                    -slack * settings.lateness_weight,
                    Text(f"would arrive {s} min after the deadline", f"将晚于时限 {s} 分钟到达"),
                )
            )
    over = tech.jobs_this_week - team_week_average
    parts.append(
        ScorePart(
            "fairness_week",
            max(0.0, over) * settings.minutes_per_job_over_average,
            Text(
                f"{tech.jobs_this_week} jobs this week (team average {team_week_average:.1f})",
                f"本周 {tech.jobs_this_week} 单（团队平均 {team_week_average:.1f}）",
            ),
        )
    )
    return Recommendation(
        technician_id=tech.technician_id,
        name=tech.name,
        cost=round(sum(p.minutes for p in parts), 1),
        travel_minutes=None if travel is None else round(travel, 1),
        parts=parts,
    )


def _cost_only(
    job: JobFacts,
    tech: TechnicianFacts,
    travel: float | None,
    now: datetime,
    team_week_average: float,
    settings: ScoringSettings,
) -> Recommendation:
    """Return the same total as ``score`` without building its sentences (for ranking many)."""
    cost = settings.unknown_travel_minutes if travel is None else travel
    cost += tech.jobs_today * settings.minutes_per_job_today
    if tech.served_asset_on is not None:
        cost -= settings.asset_continuity_minutes
    elif tech.served_customer_on is not None:
        cost -= settings.customer_continuity_minutes
    if job.deadline is not None:
        arrival = max(now, job.window_start) + timedelta(
            minutes=travel or settings.unknown_travel_minutes
        )
        slack = (job.deadline - arrival).total_seconds() / 60
        if slack < 0:
            cost += -slack * settings.lateness_weight
    cost += (
        max(0.0, tech.jobs_this_week - team_week_average) * settings.minutes_per_job_over_average
    )
    return Recommendation(tech.technician_id, tech.name, round(cost, 1), travel)


def recommend(
    job: JobFacts,
    candidates: Sequence[TechnicianFacts],
    settings: ScoringSettings,
    *,
    now: datetime | None = None,
    limit: int | None = None,
) -> Ranking:
    """Rank the eligible ``candidates`` for ``job`` (cheapest first); say why others are out."""
    now = now or datetime.now(UTC)
    refused: dict[int, list[Refusal]] = {}
    eligible: list[TechnicianFacts] = []
    for tech in candidates:
        why = refusals(job, tech)
        if why:
            refused[tech.technician_id] = why
        else:
            eligible.append(tech)
    average = sum(t.jobs_this_week for t in candidates) / len(candidates) if candidates else 0.0
    travel = travel_minutes(settings, job, eligible)
    pairs = list(zip(eligible, travel, strict=True))
    order = sorted(
        range(len(pairs)),
        key=lambda i: (
            _cost_only(job, pairs[i][0], pairs[i][1], now, average, settings).cost,
            pairs[i][0].technician_id,
        ),
    )
    shown = order[:limit] if limit else order
    ranked = [score(job, *pairs[i], now, average, settings) for i in shown]
    return Ranking(ranked, refused, eligible_count=len(eligible))


def bench_candidates(
    count: int, seed: int = 11
) -> tuple[JobFacts, list[TechnicianFacts], ScoringSettings]:
    """Return a job in Shanghai and ``count`` technicians around it (for bench.dispatch)."""
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
    day = datetime(2026, 5, 18, tzinfo=UTC)
    job = JobFacts(
        order_id=1,
        window_start=day + timedelta(hours=2),
        window_end=day + timedelta(hours=4),
        required_skill="hvac",
        required_skill_level=2,
        latitude=31.23,
        longitude=121.47,
        deadline=day + timedelta(hours=3),
        asset_id=5,
        customer_id=9,
    )
    techs = []
    for i in range(count):
        techs.append(
            TechnicianFacts(
                technician_id=i + 1,
                name=f"tech{i:04d}",
                skills={"hvac": rng.randint(1, 5)} if rng.random() < 0.6 else {"plumbing": 3},
                shifts=[(day, day + timedelta(hours=9))] if rng.random() < 0.9 else [],
                jobs_today=rng.randint(0, 6),
                latitude=31.23 + rng.uniform(-0.3, 0.3),
                longitude=121.47 + rng.uniform(-0.3, 0.3),
                position_source=rng.choice(["home", "previous_job"]),
                served_asset_on=day.date() - timedelta(days=40) if rng.random() < 0.01 else None,
                jobs_this_week=rng.randint(0, 25),
            )
        )
    return job, techs, ScoringSettings()
