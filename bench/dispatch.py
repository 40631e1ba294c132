"""Day-plan optimizer against raw PyVRP, OR-Tools, VROOM and a greedy baseline.

Run: ``python -m bench.dispatch`` (everything at 10 s per solve: Solomon 56 × 4 solvers
≈ 38 min, the skills + shifts variant 27 × 3 ≈ 14 min, the generated day, re-dispatch and
the recommendation timings ≈ 2 min), or a subset, e.g.
``python -m bench.dispatch --parts solomon --families C1,R2 --limit 1 --seconds 10`` or
``python -m bench.dispatch --parts solomon --solvers ours --seconds 1``. One file:
``python -m bench.dispatch --instance PATH --seconds S [--solvers NAME]`` prints one JSON line.

Solvers: ``ours`` (the product's mapping, ``server.dispatch.optimizer``), ``pyvrp`` (PyVRP
on the raw instance; homogeneous fleets only, so not on the variant or the day), ``ortools``
(parallel cheapest insertion, then guided local search; jobs droppable only at a
prohibitive penalty), ``vroom`` (pyvroom, exploration level 5), ``greedy`` (nearest
feasible neighbour, ``server.dispatch.greedy``). Time limits are wall clock: on a busy
machine every solver gets less CPU.

Conventions (see ../shared/vrp-data/README.md): Solomon distances are Euclidean ×10,
truncated (the DIMACS convention of the best-known solutions), travel time = distance,
service times and windows ×10, a fleet of 25 vehicles; distances are printed /10, in the
units of the best-known solutions. Every solver's routes are checked by the same evaluator
(``server.dispatch.model.evaluate``): skills, locks, shifts, capacity and windows. One thread.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np

from server.dispatch.greedy import greedy_nearest
from server.dispatch.model import DayPlanProblem, Job, Key, Plan, Technician, evaluate
from server.dispatch.optimizer import solve_day_plan

DATA = Path(__file__).resolve().parents[2] / "shared" / "vrp-data"
SOLVERS = ("ours", "pyvrp", "ortools", "vroom", "greedy")
FLEET = 25


# --------------------------------------------------------------------------- instances
def read_solomon(path: Path) -> dict:
    """Read an LKH-3 CVRPTW Solomon file (SCALE 10, FLOOR_2D)."""
    header: dict[str, str] = {}
    sections: dict[str, list[list[int]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("_SECTION"):
            current = line
            sections[current] = []
        elif current is None and ":" in line:
            key, value = line.split(":", 1)
            header[key.strip()] = value.strip()
        elif current is not None:
            sections[current].append([int(float(x)) for x in line.split()])
    scale = int(header.get("SCALE", "1"))
    coords = np.array([row[1:3] for row in sections["NODE_COORD_SECTION"]], dtype=float)
    diff = coords[:, None, :] - coords[None, :, :]
    # DIMACS: distances x10, truncated (as pyvrp.read(round_func="dimacs") does).
    dist = (scale * np.sqrt((diff**2).sum(axis=2))).astype(np.int64)
    return {
        "name": header["NAME"],
        "dist": dist,
        "demand": [row[1] for row in sections["DEMAND_SECTION"]],
        "windows": [(row[1] * scale, row[2] * scale) for row in sections["TIME_WINDOW_SECTION"]],
        "service": int(header.get("SERVICE_TIME", "0")) * scale,
        "capacity": int(header["CAPACITY"]),
        "scale": scale,
    }


def solomon_problem(inst: dict) -> DayPlanProblem:
    """Map a Solomon instance to the product's day-plan problem (25 identical technicians)."""
    depot_open, depot_close = inst["windows"][0]
    jobs = [
        Job(
            key=i,
            location=i,
            duration=inst["service"],
            window_start=inst["windows"][i][0],
            window_end=inst["windows"][i][1],
            demand=inst["demand"][i],
        )
        for i in range(1, len(inst["demand"]))
    ]
    techs = [
        Technician(
            key=f"v{k}",
            start_location=0,
            end_location=0,
            shift_start=depot_open,
            shift_end=depot_close,
            capacity=inst["capacity"],
        )
        for k in range(FLEET)
    ]
    return DayPlanProblem(
        jobs=jobs, technicians=techs, distance=inst["dist"], duration=inst["dist"]
    )


def field_variant(inst: dict, seed: int = 7) -> DayPlanProblem:
    """Solomon 2-series with skills and early/late shifts (the issue's field-service variant)."""
    rng = random.Random(f"{inst['name']}-{seed}")
    base = solomon_problem(inst)
    horizon_open, horizon_close = inst["windows"][0]
    span = horizon_close - horizon_open
    early = (horizon_open, horizon_open + int(0.65 * span))
    late = (horizon_open + int(0.35 * span), horizon_close)
    skill_sets = (
        [frozenset("A")] * 13
        + [frozenset("AB")] * 6
        + [frozenset("AC")] * 4
        + [frozenset("ABC")] * 2
    )
    techs = []
    for k, skills in enumerate(skill_sets):
        shift = early if k % 2 == 0 else late
        techs.append(
            Technician(
                key=f"t{k}",
                start_location=0,
                end_location=0,
                shift_start=shift[0],
                shift_end=shift[1],
                skills=skills,
                capacity=inst["capacity"],
            )
        )
    jobs = []
    for job in base.jobs:
        need = rng.choices("ABC", weights=(60, 25, 15))[0]
        jobs.append(
            Job(
                key=job.key,
                location=job.location,
                duration=job.duration,
                window_start=job.window_start,
                window_end=job.window_end,
                demand=job.demand,
                skills=frozenset(need),
            )
        )
    return DayPlanProblem(
        jobs=jobs, technicians=techs, distance=base.distance, duration=base.duration
    )


def generated_day(
    jobs: int = 300, technicians: int = 40, skills: int = 8, seed: int = 1
) -> DayPlanProblem:
    """A district day: 12 × 12 km, 25 km/h × road factor 1.3, 2-hour windows, 9-hour shifts."""
    rng = random.Random(seed)
    names = [f"s{i}" for i in range(skills)]
    points = []
    techs = []
    for k in range(technicians):
        points.append((rng.uniform(0, 12000), rng.uniform(0, 12000)))
        held = {names[k % skills]} | set(rng.sample(names, rng.randint(0, 2)))
        start = rng.choice([7, 8, 8, 9]) * 3600
        techs.append(
            Technician(
                key=f"tech{k}",
                start_location=k,
                end_location=k,
                shift_start=start,
                shift_end=start + 9 * 3600,
                skills=frozenset(held),
            )
        )
    job_list = []
    for j in range(jobs):
        points.append((rng.uniform(0, 12000), rng.uniform(0, 12000)))
        opens = rng.randrange(8 * 3600, 15 * 3600 + 1, 1800)
        job_list.append(
            Job(
                key=f"job{j}",
                location=technicians + j,
                duration=rng.choice([20, 30, 30, 45, 60]) * 60,
                window_start=opens,
                window_end=opens + 2 * 3600,
                skills=frozenset({rng.choice(names)}),
                priority=rng.choice(["normal"] * 6 + ["high", "low"]),
            )
        )
    xy = np.array(points)
    diff = xy[:, None, :] - xy[None, :, :]
    dist = (1.3 * np.sqrt((diff**2).sum(axis=2))).astype(np.int64)
    dur = (dist / (25000 / 3600)).astype(np.int64)
    return DayPlanProblem(jobs=job_list, technicians=techs, distance=dist, duration=dur)


# --------------------------------------------------------------------------- solvers
def run_ours(problem: DayPlanProblem, seconds: float) -> dict[Key, list[Key]]:
    """Solve through the product's mapping."""
    return solve_day_plan(problem, seconds=seconds).sequence()


def run_pyvrp_raw(problem: DayPlanProblem, seconds: float) -> dict[Key, list[Key]]:
    """Solve with PyVRP directly (homogeneous fleet from one depot, as in PyVRP's examples)."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    techs = problem.technicians
    first = techs[0]
    if any(
        (t.skills, t.shift_start, t.shift_end) != (first.skills, first.shift_start, first.shift_end)
        for t in techs
    ) or any(j.skills for j in problem.jobs):
        raise NotImplementedError("raw PyVRP baseline covers the homogeneous Solomon fleet")
    m = Model()
    locs = [m.add_location(0, 0) for _ in range(len(problem.jobs) + 1)]
    depot = m.add_depot(locs[0], tw_early=first.shift_start, tw_late=first.shift_end)
    m.add_vehicle_type(
        len(techs),
        capacity=first.capacity or 0,
        start_depot=depot,
        end_depot=depot,
        tw_early=first.shift_start,
        tw_late=first.shift_end,
    )
    places = [first.start_location] + [j.location for j in problem.jobs]
    for job, loc in zip(problem.jobs, locs[1:], strict=True):
        m.add_client(
            loc,
            delivery=job.demand,
            service_duration=job.duration,
            tw_early=job.window_start,
            tw_late=job.window_end,
        )
    for a, fa in zip(places, locs, strict=True):
        for b, fb in zip(places, locs, strict=True):
            m.add_edge(fa, fb, int(problem.distance[a, b]), int(problem.duration[a, b]))
    res = m.solve(MaxRuntime(seconds), display=False, collect_stats=False)
    routes = [
        [problem.jobs[act.idx].key for act in route.schedule() if act.is_client()]
        for route in res.best.routes()
    ]
    return {t.key: (routes[i] if i < len(routes) else []) for i, t in enumerate(techs)}


def run_ortools(problem: DayPlanProblem, seconds: float) -> dict[Key, list[Key]]:
    """OR-Tools routing: parallel cheapest insertion, then guided local search."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    jobs, techs = problem.jobs, problem.technicians
    nodes = [j.location for j in jobs]
    starts = [len(nodes) + 2 * k for k in range(len(techs))]
    ends = [len(nodes) + 2 * k + 1 for k in range(len(techs))]
    for t in techs:
        nodes += [t.start_location, t.end_location]
    service = [j.duration for j in jobs] + [0] * (2 * len(techs))
    demand = [j.demand for j in jobs] + [0] * (2 * len(techs))
    manager = pywrapcp.RoutingIndexManager(len(nodes), len(techs), starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    dist = problem.distance
    dur = problem.duration

    def distance_cb(i: int, j: int) -> int:
        return int(dist[nodes[manager.IndexToNode(i)], nodes[manager.IndexToNode(j)]])

    def time_cb(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return int(dur[nodes[a], nodes[b]]) + service[a]

    d_idx = routing.RegisterTransitCallback(distance_cb)
    routing.SetArcCostEvaluatorOfAllVehicles(d_idx)
    t_idx = routing.RegisterTransitCallback(time_cb)
    horizon = max(t.shift_end for t in techs)
    routing.AddDimension(t_idx, horizon, horizon, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    for n, job in enumerate(jobs):
        tdim.CumulVar(manager.NodeToIndex(n)).SetRange(
            job.window_start, min(job.window_end, horizon)
        )
    for v, t in enumerate(techs):
        tdim.CumulVar(routing.Start(v)).SetRange(t.shift_start, t.shift_end)
        tdim.CumulVar(routing.End(v)).SetRange(t.shift_start, t.shift_end)
    if any(demand):
        c_idx = routing.RegisterUnaryTransitCallback(lambda i: demand[manager.IndexToNode(i)])
        caps = [t.capacity if t.capacity is not None else sum(demand) for t in techs]
        routing.AddDimensionWithVehicleCapacity(c_idx, 0, caps, True, "load")
    for n, job in enumerate(jobs):
        allowed = [v for v, t in enumerate(techs) if problem.eligible(job, t)]
        if len(allowed) < len(techs):
            routing.VehicleVar(manager.NodeToIndex(n)).SetValues([-1, *allowed])
    # A job may be left out only at a prohibitive price: without this, the insertion start
    # fails outright on days it cannot fit completely (the generated day).
    drop = 1000 * int(np.asarray(dist).max() + 1)
    for n in range(len(jobs)):
        routing.AddDisjunction([manager.NodeToIndex(n)], drop)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    sol = routing.SolveWithParameters(params)
    out: dict[Key, list[Key]] = {t.key: [] for t in techs}
    if sol is None:
        return out
    for v, t in enumerate(techs):
        i = sol.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(i):
            out[t.key].append(jobs[manager.IndexToNode(i)].key)
            i = sol.Value(routing.NextVar(i))
    return out


def run_vroom(problem: DayPlanProblem, seconds: float) -> dict[Key, list[Key]]:
    """VROOM via pyvroom, one thread, exploration level 5, the same time limit."""
    import vroom

    jobs, techs = problem.jobs, problem.technicians
    skill_ids = {
        s: i
        for i, s in enumerate(
            sorted({s for t in techs for s in t.skills} | {s for j in jobs for s in j.skills})
        )
    }
    inp = vroom.Input()
    inp.set_durations_matrix("car", np.asarray(problem.duration, dtype=np.uint32))
    inp.set_costs_matrix("car", np.asarray(problem.distance, dtype=np.uint32))
    use_load = any(j.demand for j in jobs)
    for v, t in enumerate(techs):
        inp.add_vehicle(
            vroom.Vehicle(
                id=v,
                start=int(t.start_location),
                end=int(t.end_location),
                capacity=[t.capacity or 0] if use_load else (),
                skills={skill_ids[s] for s in t.skills},
                time_window=vroom.TimeWindow(t.shift_start, t.shift_end),
            )
        )
    for n, job in enumerate(jobs):
        inp.add_job(
            vroom.Job(
                id=n,
                location=int(job.location),
                default_service=job.duration,
                delivery=vroom.Amount([job.demand]) if use_load else vroom.Amount(),
                skills={skill_ids[s] for s in job.skills},
                time_windows=[vroom.TimeWindow(job.window_start, job.window_end)],
            )
        )
    sol = inp.solve(exploration_level=5, nb_threads=1, timeout=timedelta(seconds=seconds))
    out: dict[Key, list[Key]] = {t.key: [] for t in techs}
    routes = sol.routes
    for row in routes[routes["type"] == "job"].itertuples():
        out[techs[int(row.vehicle_id)].key].append(jobs[int(row.id)].key)
    return out


def run_greedy(problem: DayPlanProblem, seconds: float) -> dict[Key, list[Key]]:
    """Nearest feasible neighbour (no time limit needed)."""
    return greedy_nearest(problem)


RUNNERS: dict[str, Callable[[DayPlanProblem, float], dict[Key, list[Key]]]] = {
    "ours": run_ours,
    "pyvrp": run_pyvrp_raw,
    "ortools": run_ortools,
    "vroom": run_vroom,
    "greedy": run_greedy,
}


def measure(solver: str, problem: DayPlanProblem, seconds: float) -> tuple[Plan, float]:
    """Run one solver and check its plan with the shared evaluator."""
    began = time.perf_counter()
    sequence = RUNNERS[solver](problem, seconds)
    took = time.perf_counter() - began
    return evaluate(problem, sequence), took


def fully_feasible(plan: Plan) -> bool:
    """Return whether every job is planned and no hard rule or window is broken."""
    return plan.feasible and not plan.unassigned and plan.lateness == 0


# --------------------------------------------------------------------------- parts
def solomon_files(families: set[str] | None, limit: int | None) -> list[Path]:
    """Return the Solomon files, filtered by family (C1, C2, R1, R2, RC1, RC2)."""
    files = sorted((DATA / "solomon100").glob("*.vrptw"))
    picked: dict[str, list[Path]] = {}
    for f in files:
        fam = family_of(f.name.split(".")[0])
        if families and fam not in families:
            continue
        picked.setdefault(fam, []).append(f)
    out = []
    for fam in sorted(picked):
        out += picked[fam][:limit] if limit else picked[fam]
    return out


def family_of(name: str) -> str:
    """Return C1, C2, R1, R2, RC1 or RC2."""
    return name.rstrip("0123456789") + name[len(name.rstrip("0123456789"))]


def bks_table() -> dict[str, float]:
    """Return the DIMACS-convention best-known distances by instance name."""
    with open(DATA / "solomon100-bks.csv") as fh:
        return {row["instance"]: float(row["dimacs_distance_bks"]) for row in csv.DictReader(fh)}


def part_solomon(args: argparse.Namespace) -> None:
    """Solve the Solomon instances with every chosen solver; print per instance and family."""
    bks = bks_table()
    files = solomon_files(args.families, args.limit)
    gaps: dict[str, dict[str, list[float]]] = {}
    infeasible: dict[str, int] = {}
    print(f"== Solomon, {args.seconds:g} s per instance, {len(files)} instances")
    print(
        f"{'instance':10} {'solver':8} {'distance':>9} {'routes':>6} "
        f"{'feasible':>8} {'gap%':>7} {'s':>6}"
    )
    for f in files:
        inst = read_solomon(f)
        problem = solomon_problem(inst)
        name = inst["name"]
        for solver in args.solvers:
            plan, took = measure(solver, problem, args.seconds)
            distance = plan.distance / inst["scale"]
            ok = fully_feasible(plan)
            gap = 100 * (distance - bks[name]) / bks[name]
            fam = family_of(name)
            if ok:
                gaps.setdefault(solver, {}).setdefault(fam, []).append(gap)
            else:
                infeasible[solver] = infeasible.get(solver, 0) + 1
            print(
                f"{name:10} {solver:8} {distance:9.1f} {plan.num_routes:6d} {str(ok):>8} "
                f"{gap:7.2f} {took:6.1f}",
                flush=True,
            )
    print("-- per family: mean gap % to BKS over feasible instances (infeasible count overall)")
    for solver in args.solvers:
        per = gaps.get(solver, {})
        cells = " ".join(f"{fam}={statistics.mean(v):.2f}" for fam, v in sorted(per.items()))
        every = [g for v in per.values() for g in v]
        mean = f"{statistics.mean(every):.2f}" if every else "n/a"
        print(f"{solver:8} mean={mean} {cells} infeasible={infeasible.get(solver, 0)}")


def part_variant(args: argparse.Namespace) -> None:
    """Solve the skills + shifts variant of the Solomon 2-series."""
    families = (args.families or {"C2", "R2", "RC2"}) & {"C2", "R2", "RC2"}
    files = solomon_files(families, args.limit)
    solvers = [s for s in args.solvers if s != "pyvrp"]
    print(
        f"== Field-service variant (skills, early/late shifts), "
        f"{args.seconds:g} s, {len(files)} instances"
    )
    print(
        f"{'instance':10} {'solver':8} {'distance':>9} {'routes':>6} "
        f"{'feasible':>8} {'unplanned':>9} {'vs best':>8}"
    )
    wins = 0
    for f in files:
        inst = read_solomon(f)
        problem = field_variant(inst)
        results = {s: measure(s, problem, args.seconds)[0] for s in solvers}
        valid = {s: p.distance for s, p in results.items() if fully_feasible(p) and s != "greedy"}
        best = min(valid.values()) if valid else None
        for s, plan in results.items():
            ratio = plan.distance / best if best and fully_feasible(plan) else float("nan")
            print(
                f"{inst['name']:10} {s:8} {plan.distance / inst['scale']:9.1f} "
                f"{plan.num_routes:6d} "
                f"{str(fully_feasible(plan)):>8} {len(plan.unassigned):9d} {ratio:8.4f}",
                flush=True,
            )
        if "ours" in valid and best is not None and valid["ours"] <= 1.01 * best:
            wins += 1
    print(f"-- ours within 1% of the best solver on {wins} of {len(files)} instances")


def part_day(args: argparse.Namespace) -> None:
    """Solve the generated day (300 jobs, 40 technicians, 8 skills, 2-hour windows)."""
    problem = generated_day()
    print(f"== Generated day: 300 jobs, 40 technicians, 8 skills, 2-h windows, {args.seconds:g} s")
    print(
        f"{'solver':8} {'travel km':>9} {'late min':>8} {'unplanned':>9} {'feasible':>8} {'s':>6}"
    )
    travel = {}
    for s in [s for s in args.solvers if s != "pyvrp"]:
        plan, took = measure(s, problem, args.seconds)
        travel[s] = (plan.distance, plan.lateness, len(plan.unassigned))
        print(
            f"{s:8} {plan.distance / 1000:9.1f} "
            f"{plan.lateness / 60:8.1f} {len(plan.unassigned):9d} "
            f"{str(plan.feasible):>8} {took:6.1f}",
            flush=True,
        )
    if "ours" in travel and "greedy" in travel:
        saved = 1 - travel["ours"][0] / travel["greedy"][0]
        print(
            f"-- ours vs greedy: {100 * saved:.1f}% less travel; lateness "
            f"{travel['ours'][1] / 60:.0f} vs {travel['greedy'][1] / 60:.0f} min; unplanned "
            f"{travel['ours'][2]} vs {travel['greedy'][2]}"
        )


def part_redispatch(args: argparse.Namespace) -> None:
    """Insert one emergency job into a solved 100-job day: warm start ≤ 1 s vs 10 s re-solve."""
    base = generated_day(jobs=100, technicians=14, seed=3)
    first = solve_day_plan(base, seconds=args.seconds)
    rng = random.Random(5)
    n = base.distance.shape[0]
    # The emergency job sits at an existing site (the matrix is fixed): a job's place.
    site = base.jobs[rng.randrange(len(base.jobs))].location
    urgent = Job(
        key="urgent",
        location=site,
        duration=3600,
        window_start=11 * 3600,
        window_end=13 * 3600,
        skills=frozenset({"s0"}),
        priority="emergency",
    )
    problem = DayPlanProblem(
        jobs=[*base.jobs, urgent],
        technicians=base.technicians,
        distance=base.distance,
        duration=base.duration,
    )
    began = time.perf_counter()
    warm = solve_day_plan(problem, seconds=args.warm_seconds, initial=first.sequence())
    warm_s = time.perf_counter() - began
    fresh = solve_day_plan(problem, seconds=args.seconds)
    ratio = warm.distance / fresh.distance
    print(f"== Re-dispatch: one emergency job into a solved 100-job day ({n} places)")
    print(
        f"warm start: {warm_s:.2f} s, feasible={fully_feasible(warm)}, "
        f"distance {warm.distance / 1000:.1f} km"
    )
    print(
        f"full re-solve {args.seconds:g} s: feasible={fully_feasible(fresh)}, "
        f"distance {fresh.distance / 1000:.1f} km"
    )
    print(f"-- warm / fresh cost ratio {ratio:.4f}")


def part_recommend(args: argparse.Namespace) -> None:
    """Time one recommendation among 2,000 technicians (pure scoring, p50/p99)."""
    from server.dispatch.recommend import bench_candidates, recommend

    order, candidates, settings = bench_candidates(2000)
    times = []
    for _ in range(200):
        began = time.perf_counter()
        recommend(order, candidates, settings)
        times.append(time.perf_counter() - began)
    times.sort()
    p50 = times[len(times) // 2] * 1000
    p99 = times[int(len(times) * 0.99) - 1] * 1000
    print(
        f"== Recommendation among 2,000 technicians (scoring only): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )


def part_recommend_db(args: argparse.Namespace) -> None:
    """Time recommend_for_order end to end on SQLite with 2,000 technicians (p50/p99)."""
    import tempfile
    from datetime import time as clock

    from flask_migrate import upgrade
    from sqlalchemy import insert

    from server import create_app
    from server.extensions import db
    from server.models import (
        Category,
        Role,
        TechnicianProfile,
        TechnicianSkill,
        User,
        WorkingHours,
        WorkOrder,
    )
    from server.services.customers import create_customer
    from server.services.dispatch import recommend_for_order
    from server.services.work_orders import create_work_order

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "FIELDWORK_DATABASE_URL": f"sqlite:///{folder}/bench.db",
                "FIELDWORK_INSTANCE_PATH": folder,
                "FIELDWORK_SECRET_KEY": "bench",
            }
        )
        with app.app_context():
            upgrade(revision="heads")
            rng = random.Random(3)
            count = 2000
            db.session.execute(
                insert(User),
                [
                    {
                        "id": i,
                        "username": f"t{i}",
                        "display_name": f"Tech {i}",
                        "role": Role.TECHNICIAN,
                        "password_hash": "-",
                    }
                    for i in range(1, count + 1)
                ],
            )
            db.session.execute(
                insert(TechnicianProfile),
                [
                    {
                        "user_id": i,
                        "home_latitude": 31.2 + rng.uniform(-0.3, 0.3),
                        "home_longitude": 121.45 + rng.uniform(-0.3, 0.3),
                    }
                    for i in range(1, count + 1)
                ],
            )
            db.session.execute(
                insert(TechnicianSkill),
                [
                    {"technician_id": i, "skill": "hvac" if i % 3 else "plumbing", "level": 3}
                    for i in range(1, count + 1)
                ],
            )
            db.session.execute(
                insert(WorkingHours),
                [
                    {
                        "technician_id": i,
                        "weekday": d,
                        "starts_at": clock(0),
                        "ends_at": clock(23, 59),
                    }
                    for i in range(1, count + 1)
                    for d in range(7)
                ],
            )
            category = Category(
                code="BENCH",
                name_en="Bench",
                name_zh="基准",
                workflow_name="repair",
                required_skill="hvac",
            )
            db.session.add(category)
            customer = create_customer(
                {
                    "name": "Bench",
                    "sites": [{"address": "x", "latitude": 31.2, "longitude": 121.4}],
                },
                actor=None,
            )
            order = create_work_order(
                {
                    "category_id": category.id,
                    "customer_id": customer.id,
                    "title": "Bench",
                    "site_id": customer.sites[0].id,
                },
                None,
            )
            db.session.commit()
            order_id = order.id
            times = []
            for _ in range(60):
                db.session.expunge_all()
                began = time.perf_counter()
                ranking = recommend_for_order(db.session.get(WorkOrder, order_id), limit=10)
                times.append(time.perf_counter() - began)
            db.engine.dispose()
    times.sort()
    p50 = times[len(times) // 2] * 1000
    p99 = times[-1] * 1000
    print(
        f"== Recommendation end to end on SQLite, 2,000 technicians "
        f"({len(ranking.recommendations)} shown of {count - count // 3} with the skill): "
        f"p50 {p50:.0f} ms, p99 {p99:.0f} ms (60 calls)"
    )


def single(path: Path, seconds: float, solver: str) -> None:
    """Solve one Solomon file and print one JSON line."""
    inst = read_solomon(path)
    plan, took = measure(solver, solomon_problem(inst), seconds)
    print(
        json.dumps(
            {
                "instance": inst["name"],
                "distance": round(plan.distance / inst["scale"], 1),
                "routes": plan.num_routes,
                "feasible": fully_feasible(plan),
                "seconds": round(took, 2),
            }
        )
    )


def main(argv: list[str] | None = None) -> None:
    """Parse options and run the chosen parts."""
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__)
    parser.add_argument("--instance", type=Path, help="solve one Solomon file, print JSON")
    parser.add_argument("--seconds", type=float, default=10.0, help="time limit per solve")
    parser.add_argument(
        "--warm-seconds", type=float, default=0.8, help="re-dispatch warm start limit"
    )
    parser.add_argument("--families", help="comma list of C1,C2,R1,R2,RC1,RC2")
    parser.add_argument("--limit", type=int, help="first N instances per family")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help=f"comma list of {SOLVERS}")
    parser.add_argument(
        "--parts",
        default="solomon,variant,day,redispatch,recommend,recommend_db",
        help="comma list of solomon,variant,day,redispatch,recommend,recommend_db",
    )
    args = parser.parse_args(argv)
    args.solvers = [s for s in args.solvers.split(",") if s]
    unknown = set(args.solvers) - set(SOLVERS)
    if unknown:
        parser.error(f"unknown solvers {sorted(unknown)}")
    args.families = {f.strip().upper() for f in args.families.split(",")} if args.families else None
    if args.instance:
        single(args.instance, args.seconds, args.solvers[0] if len(args.solvers) == 1 else "ours")
        return
    parts = {
        "solomon": part_solomon,
        "variant": part_variant,
        "day": part_day,
        "redispatch": part_redispatch,
        "recommend": part_recommend,
        "recommend_db": part_recommend_db,
    }
    print(f"python {sys.version.split()[0]}; one thread per solver")
    for name in args.parts.split(","):
        parts[name](args)


if __name__ == "__main__":
    main()
