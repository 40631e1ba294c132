"""Greedy nearest-feasible baseline: each technician in turn takes the nearest job that fits.

"Nearest" is travel plus waiting for the job's window (both in the problem's units; the
Solomon instances use one unit for both), which keeps a technician from driving to a close
job whose window opens hours later. Jobs no one can reach in time stay unassigned.
"""

from __future__ import annotations

from server.dispatch.model import DayPlanProblem, Job, Key, Technician


def greedy_nearest(problem: DayPlanProblem) -> dict[Key, list[Key]]:
    """Return a plan built by nearest feasible neighbour, one technician after another."""
    open_jobs: list[Job] = list(problem.jobs)
    sequence: dict[Key, list[Key]] = {}
    for tech in sorted(problem.technicians, key=lambda t: (t.shift_start, str(t.key))):
        route: list[Key] = []
        here, now, load = tech.start_location, tech.shift_start, 0
        while (pick := _nearest(problem, tech, open_jobs, here, now, load, len(route))) is not None:
            job, start = pick
            open_jobs.remove(job)
            route.append(job.key)
            here, now, load = job.location, start + job.duration, load + job.demand
        sequence[tech.key] = route
    return sequence


def _nearest(
    problem: DayPlanProblem,
    tech: Technician,
    jobs: list[Job],
    here: int,
    now: int,
    load: int,
    done: int,
) -> tuple[Job, int] | None:
    """Return the nearest job ``tech`` can still reach in its window and come home from."""
    if tech.max_jobs is not None and done >= tech.max_jobs:
        return None
    best: tuple[int, int, Job] | None = None
    for job in jobs:
        if not problem.eligible(job, tech):
            continue
        if tech.capacity is not None and load + job.demand > tech.capacity:
            continue
        arrive = now + int(problem.duration[here, job.location])
        start = max(arrive, job.window_start)
        if start > job.window_end:
            continue
        back = start + job.duration + int(problem.duration[job.location, tech.end_location])
        if back > tech.shift_end:
            continue
        cost = int(problem.distance[here, job.location]) + (start - arrive)
        if best is None or cost < best[0]:
            best = (cost, start, job)
    return (best[2], best[1]) if best is not None else None
