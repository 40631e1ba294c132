"""The day-plan problem as the product sees it: jobs, technicians, a travel matrix, a plan.

Times are integers in one unit chosen by the caller (the product uses seconds since the
start of the planning day; the Solomon benchmark uses tenths of the instance's time unit).
Distances are integers too (metres in the product). Locations are indices into the travel
matrices, so the same mapping serves the product (haversine or OSRM matrices) and the
benchmark (Euclidean matrices).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np

#: Jobs and technicians are identified by whatever the caller uses (work order id, user id).
Key = Hashable

#: How much more an on-time visit is worth, by priority, when not every job fits the day.
PRIORITY_WEIGHTS: dict[str, int] = {"low": 1, "normal": 2, "high": 4, "urgent": 8, "emergency": 16}


@dataclass(frozen=True)
class Job:
    """One visit to plan."""

    #: Caller's identifier (work order id).
    key: Key
    #: Index of the job's site in the travel matrices.
    location: int
    #: Time on site.
    duration: int
    #: Earliest start of service.
    window_start: int = 0
    #: Latest start of service (the promised window's end).
    window_end: int = 2**62
    #: Skills the technician must hold (all of them).
    skills: frozenset[str] = frozenset()
    #: Priority name (see PRIORITY_WEIGHTS).
    priority: str = "normal"
    #: Technician the job is locked to (the dispatcher's decision the optimizer keeps).
    locked_to: Key | None = None
    #: Load the job takes from the van (parts, litres); 0 for most field work.
    demand: int = 0


@dataclass(frozen=True)
class Technician:
    """One technician's day: shift, start and end places, skills."""

    #: Caller's identifier (user id).
    key: Key
    #: Index of the start place (home base or depot) in the travel matrices.
    start_location: int
    #: Index of the end place.
    end_location: int
    #: Shift start (earliest departure).
    shift_start: int
    #: Shift end (latest return).
    shift_end: int
    #: Skills held.
    skills: frozenset[str] = frozenset()
    #: Van capacity for job demand (None: unlimited).
    capacity: int | None = None
    #: Most jobs in the day (None: no limit) — enforced as a capacity dimension.
    max_jobs: int | None = None


@dataclass
class DayPlanProblem:
    """Jobs, technicians and the travel between their places."""

    jobs: list[Job]
    technicians: list[Technician]
    #: Integer distance matrix, locations × locations.
    distance: np.ndarray
    #: Integer travel-time matrix, locations × locations.
    duration: np.ndarray

    def eligible(self, job: Job, technician: Technician) -> bool:
        """Return whether ``technician`` may do ``job`` (skills, lock); hard rules only."""
        if job.locked_to is not None and job.locked_to != technician.key:
            return False
        return job.skills <= technician.skills


@dataclass
class Visit:
    """One planned visit."""

    job: Key
    #: When service starts.
    start: int
    #: Minutes (units) after the promised window's end; 0 when on time.
    lateness: int = 0


@dataclass
class Plan:
    """Routes per technician, and what could not be planned."""

    routes: dict[Key, list[Visit]] = field(default_factory=dict)
    unassigned: list[Key] = field(default_factory=list)
    #: Sum of route distances.
    distance: int = 0
    #: Sum of lateness over all visits.
    lateness: int = 0
    #: True when no hard rule (skill, shift, lock, capacity, window of a planned visit) is broken.
    feasible: bool = True

    def sequence(self) -> dict[Key, list[Key]]:
        """Return the visit order per technician (job keys)."""
        return {tech: [v.job for v in visits] for tech, visits in self.routes.items()}

    @property
    def num_routes(self) -> int:
        """Return how many technicians have at least one visit."""
        return sum(1 for visits in self.routes.values() if visits)


def evaluate(problem: DayPlanProblem, sequence: dict[Key, list[Key]]) -> Plan:
    """Schedule ``sequence`` as early as possible and check every hard rule."""
    jobs = {job.key: job for job in problem.jobs}
    techs = {tech.key: tech for tech in problem.technicians}
    plan = Plan()
    seen: set[Key] = set()
    for tech_key, keys in sequence.items():
        tech = techs[tech_key]
        visits: list[Visit] = []
        here, now, load = tech.start_location, tech.shift_start, 0
        for key in keys:
            job = jobs[key]
            seen.add(key)
            if not problem.eligible(job, tech):
                plan.feasible = False
            now += int(problem.duration[here, job.location])
            plan.distance += int(problem.distance[here, job.location])
            now = max(now, job.window_start)
            late = max(0, now - job.window_end)
            visits.append(Visit(job=key, start=now, lateness=late))
            plan.lateness += late
            now += job.duration
            here = job.location
            load += job.demand
        now += int(problem.duration[here, tech.end_location])
        plan.distance += int(problem.distance[here, tech.end_location])
        if keys and now > tech.shift_end:
            plan.feasible = False
        if tech.capacity is not None and load > tech.capacity:
            plan.feasible = False
        if tech.max_jobs is not None and len(keys) > tech.max_jobs:
            plan.feasible = False
        plan.routes[tech_key] = visits
    plan.unassigned = [job.key for job in problem.jobs if job.key not in seen]
    return plan
