"""Eligibility rules one by one: each refuses exactly what it names."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from server.dispatch.eligibility import (
    JobFacts,
    TechnicianFacts,
    check_active,
    check_available,
    check_certifications,
    check_daily_limit,
    check_on_shift,
    check_skill,
    is_eligible,
    refusals,
)
from server.dispatch.recommend import ScoringSettings, recommend

DAY = datetime(2026, 5, 18, tzinfo=UTC)
JOB = JobFacts(
    order_id=1,
    window_start=DAY + timedelta(hours=2),
    window_end=DAY + timedelta(hours=4),
    required_skill="hvac",
    required_skill_level=3,
    required_certifications=("低压电工作业证",),
    latitude=31.2,
    longitude=121.4,
)
TECH = TechnicianFacts(
    technician_id=7,
    name="王师傅",
    skills={"hvac": 4},
    certifications={"低压电工作业证": date(2027, 1, 1)},
    shifts=[(DAY, DAY + timedelta(hours=9))],
    max_jobs_per_day=6,
    jobs_today=2,
    latitude=31.21,
    longitude=121.41,
)


def test_a_qualified_technician_on_shift_is_eligible():
    assert refusals(JOB, TECH) == []
    assert is_eligible(JOB, TECH)


def test_deactivated_account_is_refused():
    refusal = check_active(JOB, replace(TECH, is_active=False))
    assert refusal is not None
    assert refusal.code == "inactive"


def test_missing_skill_is_refused():
    refusal = check_skill(JOB, replace(TECH, skills={"plumbing": 5}))
    assert refusal is not None
    assert refusal.code == "missing_skill"
    assert "hvac" in refusal.text("en")
    assert "技能" in refusal.text("zh_CN")


def test_skill_below_the_required_level_is_refused():
    refusal = check_skill(JOB, replace(TECH, skills={"hvac": 2}))
    assert refusal is not None
    assert refusal.code == "skill_level_too_low"


def test_expired_certificate_is_refused():
    tech = replace(TECH, certifications={"低压电工作业证": date(2026, 5, 17)})
    refusal = check_certifications(JOB, tech)
    assert refusal is not None
    assert refusal.code == "certification_expired"


def test_missing_certificate_is_refused():
    refusal = check_certifications(JOB, replace(TECH, certifications={}))
    assert refusal is not None
    assert refusal.code == "missing_certification"


def test_off_shift_is_refused_unless_on_call_for_an_emergency():
    off = replace(TECH, shifts=[(DAY + timedelta(hours=5), DAY + timedelta(hours=9))])
    assert check_on_shift(JOB, off).code == "off_shift"
    on_call = replace(off, is_on_call=True)
    assert check_on_shift(JOB, on_call).code == "off_shift"
    assert check_on_shift(replace(JOB, is_emergency=True), on_call) is None


def test_technician_at_the_daily_limit_is_refused():
    refusal = check_daily_limit(JOB, replace(TECH, jobs_today=6))
    assert refusal is not None
    assert refusal.code == "daily_limit"


def test_technician_on_leave_is_refused():
    leave = [(DAY - timedelta(days=1), None)]
    refusal = check_available(JOB, replace(TECH, unavailable=leave))
    assert refusal is not None
    assert refusal.code == "unavailable"
    earlier = [(DAY - timedelta(days=3), DAY - timedelta(days=1))]
    assert check_available(JOB, replace(TECH, unavailable=earlier)) is None


def test_a_technician_lacking_the_skill_is_never_recommended_whatever_the_score():
    # Next door, no load, served this asset: the best score there is, but no hvac.
    perfect = replace(
        TECH,
        technician_id=8,
        skills={"plumbing": 5},
        latitude=JOB.latitude,
        longitude=JOB.longitude,
        jobs_today=0,
        served_asset_on=date(2026, 5, 1),
    )
    far = replace(TECH, latitude=31.5, longitude=121.8, jobs_today=5)
    ranking = recommend(JOB, [perfect, far], ScoringSettings(), now=DAY)
    assert [r.technician_id for r in ranking.recommendations] == [7]
    assert ranking.refused[8][0].code == "missing_skill"
