"""Recommendation scores: ranked by cost, every part said in English and Chinese."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from server.dispatch.eligibility import JobFacts, TechnicianFacts
from server.dispatch.recommend import ScoringSettings, recommend, straight_line_minutes

DAY = datetime(2026, 5, 18, tzinfo=UTC)
JOB = JobFacts(
    order_id=1,
    window_start=DAY + timedelta(hours=2),
    window_end=DAY + timedelta(hours=4),
    required_skill="hvac",
    latitude=31.20,
    longitude=121.40,
    deadline=DAY + timedelta(hours=3),
    asset_id=3,
)
BASE = TechnicianFacts(
    technician_id=1,
    name="A",
    skills={"hvac": 3},
    shifts=[(DAY, DAY + timedelta(hours=9))],
    latitude=31.20,
    longitude=121.45,
    position_source="previous_job",
)


def test_travel_is_straight_line_times_road_factor_over_speed():
    settings = ScoringSettings(road_factor=1.5, speed_kmh=30)
    # 0.1 degree of latitude is about 11.1 km: × 1.5 ÷ 30 km/h ≈ 33 minutes.
    assert round(straight_line_minutes(settings, 31.0, 121.0, 31.1, 121.0)) == 33


def test_closer_and_less_loaded_technician_ranks_first():
    near = replace(BASE, technician_id=1, jobs_today=1)
    far = replace(BASE, technician_id=2, longitude=121.80, jobs_today=1)
    busy = replace(BASE, technician_id=3, jobs_today=5)
    ranking = recommend(JOB, [far, busy, near], ScoringSettings(), now=DAY)
    assert [r.technician_id for r in ranking.recommendations] == [1, 3, 2]


def test_every_score_shows_its_parts_in_both_languages():
    tech = replace(BASE, jobs_today=3, served_asset_on=date(2026, 5, 2), jobs_this_week=7)
    rec = recommend(JOB, [tech], ScoringSettings(), now=DAY).recommendations[0]
    english = rec.summary("en")
    assert "min away (from the previous job's site)" in english
    assert "3 jobs today" in english
    assert "served this asset on 2026-05-02" in english
    assert "before the deadline" in english
    assert "7 jobs this week" in english
    chinese = rec.summary("zh_CN")
    assert "今天已有 3 单" in chinese
    assert "曾于 2026-05-02 服务过该设备" in chinese
    assert round(sum(p.minutes for p in rec.parts), 1) == rec.cost


def test_continuity_with_the_asset_can_outweigh_a_little_travel():
    stranger = replace(BASE, technician_id=1)
    regular = replace(BASE, technician_id=2, longitude=121.46, served_asset_on=date(2026, 4, 1))
    ranking = recommend(JOB, [stranger, regular], ScoringSettings(), now=DAY)
    assert ranking.recommendations[0].technician_id == 2


def test_arriving_after_the_deadline_is_charged_and_said():
    far = replace(BASE, latitude=32.2)  # over 100 km away
    rec = recommend(JOB, [far], ScoringSettings(), now=DAY).recommendations[0]
    late = [p for p in rec.parts if p.code == "deadline_late"]
    assert late
    assert late[0].minutes > 0
    assert "after the deadline" in late[0].text("en")


def test_unknown_site_position_scores_a_fixed_travel_and_says_so():
    job = replace(JOB, latitude=None, longitude=None)
    rec = recommend(job, [BASE], ScoringSettings(), now=DAY).recommendations[0]
    assert rec.parts[0].code == "travel_unknown"
    assert rec.parts[0].text("zh_CN") == "距离未知"


def test_ranking_by_the_quick_total_matches_the_sum_of_the_worded_parts():
    techs = [
        replace(
            BASE,
            technician_id=n,
            longitude=121.40 + n / 50,
            jobs_today=n % 4,
            jobs_this_week=n % 9,
            served_customer_on=date(2026, 1, 1) if n % 5 == 0 else None,
        )
        for n in range(1, 30)
    ]
    everyone = recommend(JOB, techs, ScoringSettings(), now=DAY)
    top = recommend(JOB, techs, ScoringSettings(), now=DAY, limit=5)
    assert top.eligible_count == everyone.eligible_count == 29
    assert [r.technician_id for r in top.recommendations] == [
        r.technician_id for r in everyone.recommendations[:5]
    ]
    costs = [r.cost for r in everyone.recommendations]
    assert costs == sorted(costs)
    for rec in everyone.recommendations:
        assert rec.cost == pytest.approx(sum(p.minutes for p in rec.parts), abs=0.1)


def test_travel_falls_back_to_the_straight_line_when_osrm_is_unreachable():
    settings = ScoringSettings(osrm_url="http://127.0.0.1:9")  # discard port: refused
    plain = recommend(JOB, [BASE], ScoringSettings(), now=DAY).recommendations[0]
    fallback = recommend(JOB, [BASE], settings, now=DAY).recommendations[0]
    assert fallback.travel_minutes == plain.travel_minutes


def test_travel_comes_from_osrm_when_configured(monkeypatch):
    import server.dispatch.recommend as module

    def fake_table(url, origins, destination):
        assert url == "http://osrm.local"
        assert destination == (JOB.latitude, JOB.longitude)
        return [7.0 for _ in origins]

    monkeypatch.setattr(module, "osrm_minutes", fake_table)
    rec = recommend(JOB, [BASE], ScoringSettings(osrm_url="http://osrm.local"), now=DAY)
    assert rec.recommendations[0].travel_minutes == 7.0
    assert rec.recommendations[0].summary("en").startswith("7 min away")
