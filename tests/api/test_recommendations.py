"""GET /api/v1/work-orders/{id}/recommendations: eligible technicians, best first, with reasons."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import delete, insert, select

from server.extensions import db
from server.models import (
    Role,
    TechnicianProfile,
    TechnicianSkill,
    User,
    WorkingHours,
)


@pytest.fixture
def dispatcher(create_user):
    return create_user(Role.DISPATCHER)


def on_shift_all_week(tech_id: int) -> None:
    for day in range(7):
        db.session.add(
            WorkingHours(
                technician_id=tech_id, weekday=day, starts_at=time(0), ends_at=time(23, 59)
            )
        )


@pytest.fixture
def team(create_user):
    """Two hvac technicians (near and far from the site) and a plumber next door."""
    people = {}
    for name, longitude in (("near", 121.44), ("far", 121.70), ("plumber", 121.43)):
        tech = create_user(Role.TECHNICIAN, username=f"rec-{name}")
        tech.technician_profile.home_longitude = longitude
        tech.technician_profile.home_latitude = 31.19
        on_shift_all_week(tech.id)
        people[name] = tech
    db.session.execute(
        delete(TechnicianSkill).where(
            TechnicianSkill.technician_id == people["plumber"].id, TechnicianSkill.skill == "hvac"
        )
    )
    db.session.flush()
    return people


def url(order_id: int) -> str:
    return f"/api/v1/work-orders/{order_id}/recommendations"


def test_recommendations_rank_eligible_technicians_and_explain_each_score(
    client, api_headers, dispatcher, create_work_order, team
):
    order = create_work_order()
    response = client.get(url(order.id), headers=api_headers(dispatcher))
    assert response.status_code == 200
    body = response.get_json()
    ids = [item["technician_id"] for item in body["items"]]
    assert ids[:2] == [team["near"].id, team["far"].id]
    assert team["plumber"].id not in ids
    assert body["refused"].get("missing_skill", 0) == 0  # not even a candidate: filtered by skill
    first = body["items"][0]
    assert first["rank"] == 1
    assert "min away (from home base)" in first["summary"]
    assert "0 jobs today" in first["summary"]
    assert [p["code"] for p in first["parts"]][:2] == ["travel", "load_today"]
    assert first["cost_minutes"] == pytest.approx(
        sum(p["minutes"] for p in first["parts"]), abs=0.2
    )


def test_recommendations_speak_the_callers_language(
    client, api_headers, create_user, create_work_order, team
):
    chinese = create_user(Role.DISPATCHER, locale="zh_CN")
    order = create_work_order()
    body = client.get(url(order.id), headers=api_headers(chinese)).get_json()
    assert "分钟路程（从驻地出发）" in body["items"][0]["summary"]


def test_a_too_junior_technician_is_refused_with_the_rule_named(
    client, api_headers, dispatcher, create_category, create_work_order, team
):
    category = create_category(required_skill="hvac", required_skill_level=4)
    order = create_work_order(category=category)
    body = client.get(url(order.id), headers=api_headers(dispatcher)).get_json()
    assert body["items"] == []
    assert body["refused"] == {"skill_level_too_low": 2}


def test_unknown_order_is_404(client, api_headers, dispatcher):
    response = client.get(url(999999), headers=api_headers(dispatcher))
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_technicians_may_not_ask_for_recommendations(
    client, api_headers, create_user, create_work_order
):
    tech = create_user(Role.TECHNICIAN)
    order = create_work_order()
    assert client.get(url(order.id), headers=api_headers(tech)).status_code == 403


def add_technicians(count: int, prefix: str) -> None:
    """Insert ``count`` on-shift hvac technicians in bulk."""
    first = db.session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) or 0
    users = [
        {
            "id": first + 1 + n,
            "username": f"{prefix}{n}",
            "display_name": f"{prefix} {n}",
            "role": Role.TECHNICIAN,
            "locale": "en",
            "is_active": True,
            "is_demo": False,
            "password_hash": "x",
        }
        for n in range(count)
    ]
    db.session.execute(insert(User), users)
    ids = [u["id"] for u in users]
    db.session.execute(
        insert(TechnicianProfile),
        [
            {
                "user_id": i,
                "home_latitude": 31.0 + (i % 50) / 100,
                "home_longitude": 121.2 + (i % 70) / 100,
                "is_on_call": False,
                "max_jobs_per_day": 6,
            }
            for i in ids
        ],
    )
    db.session.execute(
        insert(TechnicianSkill), [{"technician_id": i, "skill": "hvac", "level": 3} for i in ids]
    )
    db.session.execute(
        insert(WorkingHours),
        [
            {"technician_id": i, "weekday": d, "starts_at": time(0), "ends_at": time(23, 59)}
            for i in ids
            for d in range(7)
        ],
    )
    db.session.flush()


def test_recommendation_among_2000_technicians_runs_a_bounded_number_of_statements(
    client, api_headers, dispatcher, create_work_order, count_queries
):
    order = create_work_order()
    headers = api_headers(dispatcher)
    add_technicians(20, "few")
    client.get(url(order.id), headers=headers)  # the test session caches what one call loads
    with count_queries() as few:
        assert client.get(url(order.id), headers=headers).status_code == 200
    add_technicians(1980, "many")
    with count_queries() as many:
        response = client.get(url(order.id), headers=headers)
    assert response.status_code == 200
    assert response.get_json()["eligible_count"] == 2000
    assert len(many) == len(few), "\n".join(s[:90] for s in many)
    print(f"statements: {len(many)}")
    assert len(many) <= 20, len(many)
