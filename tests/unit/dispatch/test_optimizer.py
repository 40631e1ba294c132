"""Day-plan optimizer: hard rules hold (skill, shift, lock), lateness is a last resort."""

from __future__ import annotations

import numpy as np

from server.dispatch.greedy import greedy_nearest
from server.dispatch.model import DayPlanProblem, Job, Technician, evaluate
from server.dispatch.optimizer import solve_day_plan


def line(*xs: int) -> np.ndarray:
    """Travel between points on a line: |a - b| (distance = minutes)."""
    pts = np.array(xs)
    return np.abs(pts[:, None] - pts[None, :]).astype(np.int64)


def problem(jobs, techs, points) -> DayPlanProblem:
    matrix = line(*points)
    return DayPlanProblem(jobs=jobs, technicians=techs, distance=matrix, duration=matrix)


def tech(key, place=0, skills="", start=0, end=1000):
    return Technician(key, place, place, start, end, frozenset(skills))


def test_job_goes_to_the_skilled_technician_even_when_another_is_next_door():
    # Places: 0 = near base, 1 = far base, 2 = the job (next to the near base).
    p = problem(
        [Job("j", location=2, duration=10, skills=frozenset("x"))],
        [tech("near", 0, "y"), tech("far", 1, "x")],
        [0, 100, 1],
    )
    plan = solve_day_plan(p, seconds=0.2)
    assert plan.sequence() == {"near": [], "far": ["j"]}
    assert plan.feasible
    assert plan.lateness == 0


def test_job_late_in_the_day_goes_to_the_late_shift():
    p = problem(
        [Job("j", location=1, duration=10, window_start=500, window_end=520)],
        [tech("early", 0, end=400), tech("late", 0, start=300, end=1000)],
        [0, 5],
    )
    plan = solve_day_plan(p, seconds=0.2)
    assert plan.sequence()["late"] == ["j"]
    assert plan.routes["late"][0].start == 500


def test_locked_job_stays_with_its_technician():
    p = problem(
        [Job("j", location=2, duration=10, locked_to="far")],
        [tech("near", 0), tech("far", 1)],
        [0, 100, 1],
    )
    plan = solve_day_plan(p, seconds=0.2)
    assert plan.sequence() == {"near": [], "far": ["j"]}


def test_an_urgent_job_is_inserted_from_the_previous_plan():
    points = [0, 50, 10, 20, 30, 60, 70, 25]
    jobs = [Job(f"j{i}", location=i, duration=5) for i in range(2, 7)]
    base = problem(jobs, [tech("a", 0), tech("b", 1)], points)
    first = solve_day_plan(base, seconds=0.2)
    urgent = Job(
        "urgent", location=7, duration=5, window_start=0, window_end=60, priority="emergency"
    )
    again = problem([*jobs, urgent], base.technicians, points)
    plan = solve_day_plan(again, seconds=0.2, initial=first.sequence())
    assert any("urgent" in keys for keys in plan.sequence().values())
    assert plan.feasible
    assert not plan.unassigned
    assert plan.lateness == 0


def test_a_job_that_cannot_be_on_time_is_planned_late_and_the_lateness_reported():
    # The window closes before anyone can get there; only "b" has the skill.
    p = problem(
        [Job("j", location=1, duration=10, window_start=0, window_end=5, skills=frozenset("x"))],
        [tech("a", 0), tech("b", 0, "x")],
        [0, 40],
    )
    plan = solve_day_plan(p, seconds=0.2)
    assert plan.sequence() == {"a": [], "b": ["j"]}
    assert plan.lateness == 35
    assert plan.feasible


def test_a_job_nobody_is_qualified_for_stays_unassigned():
    p = problem(
        [Job("j", location=1, duration=10, skills=frozenset("z"))],
        [tech("a", 0, "x")],
        [0, 5],
    )
    plan = solve_day_plan(p, seconds=0.2)
    assert plan.unassigned == ["j"]
    assert plan.sequence() == {"a": []}


def test_evaluate_flags_a_broken_skill_and_a_broken_shift():
    p = problem(
        [Job("j", location=1, duration=10, skills=frozenset("x"))],
        [tech("a", 0, "", end=15)],
        [0, 5],
    )
    assert not evaluate(p, {"a": ["j"]}).feasible


def test_greedy_baseline_respects_skills():
    p = problem(
        [Job("j", location=2, duration=10, skills=frozenset("x"))],
        [tech("near", 0, "y"), tech("far", 1, "x")],
        [0, 100, 1],
    )
    assert greedy_nearest(p) == {"near": [], "far": ["j"]}
