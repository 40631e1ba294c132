"""Day-plan optimizer on PyVRP: the product's problem mapped to a VRP with time windows.

Mapping:
- every distinct start/end place of a technician is a PyVRP depot;
- technicians who are interchangeable (same places, shift, skills, capacity, no locked job)
  share one vehicle type with ``num_available`` > 1; the others get their own type, whose
  time window is the shift;
- each vehicle type gets a routing profile in which the visits it may not make (missing
  skill, job locked to someone else) cost a prohibitive distance and travel time, so any
  route making one breaks the shift window (time warp) and is infeasible;
- jobs are PyVRP clients with their promised window; the objective is distance;
- with skills or locks, the local search's granular neighbourhood pairs only jobs some
  technician may do together, and a mixed fleet starts from the greedy plan; an
  interchangeable fleet (the Solomon benchmark) is solved exactly as PyVRP solves it.

Lateness first: the first pass keeps every promised window hard. If not every job fits, the
second pass makes jobs optional with a prize by priority (so the most on-time work is
planned), and the jobs still left are placed by cheapest insertion after their window,
where the lateness is counted and reported.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pyvrp import (
    Client,
    Depot,
    IteratedLocalSearch,
    Location,
    PenaltyManager,
    ProblemData,
    RandomNumberGenerator,
    Route,
    Solution,
    SolveParams,
    VehicleType,
    solve,
)
from pyvrp._pyvrp import Activity, ActivityType
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.search import LocalSearch, NeighbourhoodParams, PerturbationManager
from pyvrp.stop import FirstFeasible, MaxRuntime, MultipleCriteria

from server.dispatch.greedy import greedy_nearest
from server.dispatch.model import (
    PRIORITY_WEIGHTS,
    DayPlanProblem,
    Key,
    Plan,
    Technician,
    evaluate,
)

#: Open-ended times are capped here (PyVRP's arithmetic stays well inside int64).
_HORIZON_CAP = 1 << 40


@dataclass
class Mapping:
    """The PyVRP data built from a product problem, and how to translate back."""

    data: ProblemData
    #: For each vehicle type, the technicians it stands for (in route order of use).
    type_techs: list[list[Technician]]
    #: Job keys in client order.
    client_keys: list[Key]
    #: Jobs × vehicle types: True where the type may do the job.
    eligible: np.ndarray | None = None


def _forbidden_value(problem: DayPlanProblem) -> int:
    """Return a travel value no feasible route can afford (beyond every shift)."""
    span = max((t.shift_end for t in problem.technicians), default=0)
    span = min(span, _HORIZON_CAP)
    biggest = int(max(problem.distance.max(initial=0), problem.duration.max(initial=0)))
    return int(min(1 << 42, 4 * (span + biggest + 1) + 10**6))


def build_mapping(
    problem: DayPlanProblem,
    *,
    optional_prizes: bool = False,
) -> Mapping:
    """Map ``problem`` to PyVRP data (see the module docstring for the mapping)."""
    locked_techs = {job.locked_to for job in problem.jobs if job.locked_to is not None}
    groups: dict[tuple, list[Technician]] = {}
    for tech in problem.technicians:
        if tech.key in locked_techs:
            signature: tuple = ("locked", tech.key)
        else:
            signature = (
                tech.start_location,
                tech.end_location,
                tech.shift_start,
                tech.shift_end,
                tech.skills,
                tech.capacity,
                tech.max_jobs,
            )
        groups.setdefault(signature, []).append(tech)
    type_techs = list(groups.values())

    # Depots: one per distinct start/end place; locations: depots first, then one per job.
    depot_places = sorted(
        {t.start_location for t in problem.technicians}
        | {t.end_location for t in problem.technicians}
    )
    depot_index = {place: i for i, place in enumerate(depot_places)}
    places = depot_places + [job.location for job in problem.jobs]
    idx = np.asarray(places, dtype=np.int64)
    base_dist = np.asarray(problem.distance, dtype=np.int64)[np.ix_(idx, idx)]
    base_dur = np.asarray(problem.duration, dtype=np.int64)[np.ix_(idx, idx)]
    n_depots = len(depot_places)

    # Load dimensions: van capacity when any job has a demand, job count when limited.
    use_demand = any(job.demand for job in problem.jobs)
    use_count = any(t.max_jobs is not None for t in problem.technicians)

    def load(job_demand: int) -> list[int]:
        dims = []
        if use_demand:
            dims.append(job_demand)
        if use_count:
            dims.append(1)
        return dims

    big = _forbidden_value(problem)
    # Profile 0 is the unrestricted matrix: PyVRP's granular neighbourhood is built from it,
    # so closeness between jobs is never distorted by who may not visit them.
    profiles: dict[frozenset[int], int] = {frozenset(): 0}
    distances: list[np.ndarray] = [base_dist]
    durations: list[np.ndarray] = [base_dur]
    vehicle_types: list[VehicleType] = []
    for techs in type_techs:
        tech = techs[0]
        forbidden = frozenset(
            n_depots + j for j, job in enumerate(problem.jobs) if not problem.eligible(job, tech)
        )
        if forbidden not in profiles:
            dist = base_dist.copy()
            dur = base_dur.copy()
            cols = sorted(forbidden)
            if cols:
                dist[:, cols] = big
                dur[:, cols] = big
                np.fill_diagonal(dist, 0)
                np.fill_diagonal(dur, 0)
            profiles[forbidden] = len(distances)
            distances.append(dist)
            durations.append(dur)
        capacity = []
        if use_demand:
            capacity.append(tech.capacity if tech.capacity is not None else _HORIZON_CAP)
        if use_count:
            capacity.append(tech.max_jobs if tech.max_jobs is not None else _HORIZON_CAP)
        vehicle_types.append(
            VehicleType(
                num_available=len(techs),
                capacity=capacity,
                start_depot=depot_index[tech.start_location],
                end_depot=depot_index[tech.end_location],
                tw_early=min(tech.shift_start, _HORIZON_CAP),
                tw_late=min(tech.shift_end, _HORIZON_CAP),
                profile=profiles[forbidden],
                name=",".join(str(t.key) for t in techs),
            )
        )

    locations = [Location(x=0, y=0) for _ in places]
    depots = [Depot(location=i) for i in range(n_depots)]
    clients = []
    for j, job in enumerate(problem.jobs):
        weight = PRIORITY_WEIGHTS.get(job.priority, 2)
        clients.append(
            Client(
                location=n_depots + j,
                delivery=load(job.demand),
                service_duration=job.duration,
                tw_early=min(job.window_start, _HORIZON_CAP),
                tw_late=min(job.window_end, _HORIZON_CAP),
                prize=weight * big if optional_prizes else 0,
                required=not optional_prizes,
                name=str(job.key),
            )
        )
    data = ProblemData(locations, clients, depots, vehicle_types, distances, durations)
    eligible = np.array(
        [[problem.eligible(job, techs[0]) for techs in type_techs] for job in problem.jobs],
        dtype=bool,
    ).reshape(len(problem.jobs), len(type_techs))
    return Mapping(
        data=data,
        type_techs=type_techs,
        client_keys=[j.key for j in problem.jobs],
        eligible=eligible,
    )


def _to_sequence(mapping: Mapping, solution: Solution) -> dict[Key, list[Key]]:
    """Translate PyVRP routes back to technician → job keys."""
    used = [0] * len(mapping.type_techs)
    sequence: dict[Key, list[Key]] = {t.key: [] for ts in mapping.type_techs for t in ts}
    for route in solution.routes():
        vt = route.vehicle_type()
        tech = mapping.type_techs[vt][used[vt]]
        used[vt] += 1
        sequence[tech.key] = [
            mapping.client_keys[act.idx] for act in route.schedule() if act.is_client()
        ]
    return sequence


def _to_solution(mapping: Mapping, sequence: dict[Key, list[Key]]) -> Solution:
    """Translate technician → job keys into a PyVRP solution (a warm start)."""
    client_of = {key: i for i, key in enumerate(mapping.client_keys)}
    routes = []
    for vt, techs in enumerate(mapping.type_techs):
        for tech in techs:
            keys = [k for k in sequence.get(tech.key, []) if k in client_of]
            if keys:
                acts = [Activity(ActivityType.CLIENT, client_of[k]) for k in keys]
                routes.append(Route(mapping.data, acts, vt))
    return Solution(mapping.data, routes)


def solve_day_plan(
    problem: DayPlanProblem,
    *,
    seconds: float = 10.0,
    seed: int = 0,
    initial: dict[Key, list[Key]] | None = None,
    stop_when_feasible: bool = False,
) -> Plan:
    """Plan the day: every job on an eligible technician, least lateness, then least travel.

    ``initial`` (technician → job keys, e.g. the current board or the previous plan) warm
    starts the search; jobs missing from it (a new urgent job) are inserted by the solver.
    Without it a mixed fleet starts from the greedy nearest-feasible plan.
    """
    deadline = time.perf_counter() + seconds
    if not problem.jobs:
        return evaluate(problem, {t.key: [] for t in problem.technicians})
    mapping = build_mapping(problem)
    # Without a previous plan, a mixed fleet (own homes, skills, shifts) starts from the
    # greedy plan, which beats PyVRP's random start at equal time there; an interchangeable
    # fleet keeps PyVRP's own start, where the greedy one helps nothing.
    if initial is None and len(mapping.type_techs) > 1:
        initial = greedy_nearest(problem)
    init = _to_solution(mapping, initial) if initial is not None else None
    stop = MaxRuntime(seconds)
    if stop_when_feasible:
        stop = MultipleCriteria([MaxRuntime(seconds), FirstFeasible()])
    result = _solve(mapping.data, stop, seed, init, mapping.eligible)
    best = result.best
    if best.is_feasible():
        return evaluate(problem, _to_sequence(mapping, best))

    # Not every job fits its window: plan the most valuable on-time work, then the rest late.
    remaining = max(0.1, deadline - time.perf_counter())
    prized = build_mapping(problem, optional_prizes=True)
    result = _solve(prized.data, MaxRuntime(remaining), seed, None, prized.eligible)
    sequence = _to_sequence(prized, result.best) if result.best.is_feasible() else {}
    sequence = {t.key: list(sequence.get(t.key, [])) for t in problem.technicians}
    return insert_late(problem, sequence)


def _solve(  # type: ignore[no-untyped-def]
    data: ProblemData, stop, seed: int, init: Solution | None, eligible: np.ndarray | None = None
):
    """Run PyVRP; a day with no on-time plan is expected here, not a warning.

    With ``eligible`` (jobs × vehicle types, True where the type may do the job) the search
    uses a granular neighbourhood of jobs that share a technician: PyVRP's own one pairs
    each job with its nearest jobs whoever may do them, and with skills most of those moves
    are dead. This is ``pyvrp.solve`` with that one change.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        if eligible is None or eligible.all():
            return solve(
                data,
                stop,
                seed=seed,
                collect_stats=False,
                display=False,
                params=SolveParams(),
                initial_solution=init,
            )
        params = SolveParams()
        rng = RandomNumberGenerator(seed=seed)
        neighbours = _shared_neighbours(data, eligible, params.neighbourhood)
        ls = LocalSearch(data, rng, neighbours, PerturbationManager(params.perturbation))
        for op in params.operators:
            if op.supports(data):
                ls.add_operator(op(data))
        pm = PenaltyManager(params.penalty.midpoint_penalties(data), params.penalty)
        if init is None:
            init = ls(Solution.make_random(data, rng), pm.max_cost_evaluator(), exhaustive=True)
        algo = IteratedLocalSearch(data, pm, ls, init, params.ils)
        return algo.run(stop, False, False, params.display_interval)


def _shared_neighbours(
    data: ProblemData, eligible: np.ndarray, params: NeighbourhoodParams
) -> dict[Activity, list[Activity]]:
    """Return each job's nearest jobs among those some technician may do together with it.

    Closeness is PyVRP's: travel + weighted waiting + time warp between the windows, made
    symmetric; pairs no single technician may do are never neighbours.
    """
    clients = data.clients()
    n = len(clients)
    loc = np.array([c.location for c in clients])
    dist = data.distance_matrix(0)[np.ix_(loc, loc)].astype(float)
    dur = data.duration_matrix(0)[np.ix_(loc, loc)].astype(float)
    early = np.array([c.tw_early for c in clients], dtype=float)
    late = np.array([c.tw_late for c in clients], dtype=float)
    service = np.array([c.service_duration for c in clients], dtype=float)
    # Leaving i as late as possible and still waiting at j; leaving i as early as possible
    # and still arriving at j after its window.
    wait = np.maximum(early[None, :] - dur - service[:, None] - late[:, None], 0)
    warp = np.maximum(early[:, None] + service[:, None] + dur - late[None, :], 0)
    prox = dist + params.weight_wait_time * wait + warp
    if params.symmetric_proximity:
        prox = np.minimum(prox, prox.T)
    shared = (eligible.astype(np.int32) @ eligible.T.astype(np.int32)) > 0
    prox[~shared] = np.inf
    np.fill_diagonal(prox, np.inf)
    k = min(params.num_neighbours, n - 1)
    acts = [Activity(ActivityType.CLIENT, i) for i in range(n)]
    out: dict[Activity, list[Activity]] = {}
    for i in range(n):
        order = np.argsort(prox[i], kind="stable")[:k]
        out[acts[i]] = [acts[j] for j in order if np.isfinite(prox[i, j])]
    return out


def insert_late(problem: DayPlanProblem, sequence: dict[Key, list[Key]]) -> Plan:
    """Insert the jobs missing from ``sequence`` where they add the least lateness, then travel.

    Skills, locks and shift ends stay hard; a job no technician can take stays unassigned.
    """
    jobs = {job.key: job for job in problem.jobs}
    planned = {k for keys in sequence.values() for k in keys}
    missing = [job for job in problem.jobs if job.key not in planned]
    missing.sort(key=lambda j: (-PRIORITY_WEIGHTS.get(j.priority, 2), j.window_end))
    techs = {t.key: t for t in problem.technicians}
    for job in missing:
        best: tuple[int, int, Key, int] | None = None
        for tech_key, keys in sequence.items():
            tech = techs[tech_key]
            if not problem.eligible(job, tech):
                continue
            for pos in range(len(keys) + 1):
                trial = keys[:pos] + [job.key] + keys[pos:]
                score = _route_score(problem, tech, [jobs[k] for k in trial])
                if score is None:
                    continue
                if best is None or score < best[:2]:
                    best = (score[0], score[1], tech_key, pos)
        if best is not None:
            sequence[best[2]].insert(best[3], job.key)
    return evaluate(problem, sequence)


def _route_score(
    problem: DayPlanProblem, tech: Technician, route: Sequence
) -> tuple[int, int] | None:
    """Return (lateness, distance) of ``route`` or None when it breaks the shift or a limit."""
    here, now, late, dist, load = tech.start_location, tech.shift_start, 0, 0, 0
    for job in route:
        now += int(problem.duration[here, job.location])
        dist += int(problem.distance[here, job.location])
        now = max(now, job.window_start)
        late += max(0, now - job.window_end)
        now += job.duration
        here = job.location
        load += job.demand
    now += int(problem.duration[here, tech.end_location])
    dist += int(problem.distance[here, tech.end_location])
    if now > tech.shift_end:
        return None
    if tech.capacity is not None and load > tech.capacity:
        return None
    if tech.max_jobs is not None and len(route) > tech.max_jobs:
        return None
    return late, dist
