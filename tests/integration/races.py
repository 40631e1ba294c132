"""Helpers for the concurrency tests: committed data and contenders in threads or processes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask


def make_app(database_url: str, instance: Path, migrate: bool = False) -> Flask:
    """Return an app on ``database_url`` with a pool large enough for 20 contenders."""
    from server import create_app
    from server.config import engine_options

    options = engine_options(database_url)
    options["pool_size"] = 25
    options["max_overflow"] = 5
    app = create_app(
        {
            "FIELDWORK_DATABASE_URL": database_url,
            "FIELDWORK_INSTANCE_PATH": str(instance),
            "FIELDWORK_SECRET_KEY": "race-secret",
            "TESTING": True,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
        }
    )
    if migrate:
        from flask_migrate import upgrade

        with app.app_context():
            upgrade(revision="heads")
    return app


def seed_race(
    app: Flask,
    races: int,
    technicians: int,
    *,
    assign_to_first: bool = False,
    technician_password: str | None = None,
    checklist: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Commit a dispatcher, technicians, a category, a customer with a site and ``races`` orders.

    Returns the ids and tokens: ``token`` (the dispatcher's, /api/v1) and ``tech_token``
    (the first technician's, mobile). With ``assign_to_first`` the orders are assigned to
    the first technician; ``technician_password`` lets them sign in for real.
    """
    from server.auth.passwords import hash_password
    from server.auth.tokens import issue_token_pair
    from server.extensions import db
    from server.models import Category, Role, TokenAudience
    from server.services.customers import create_customer
    from server.services.users import create_technician_profile, create_user
    from server.services.work_orders import apply_transition, create_work_order

    with app.app_context():
        dispatcher = create_user(
            username="race-dispatcher", password="", role=Role.DISPATCHER, password_hash="-"
        )
        tech_hash = hash_password(technician_password) if technician_password else "-"
        techs = []
        for index in range(technicians):
            tech = create_user(
                username=f"tech{index + 1:02d}",
                password="",
                role=Role.TECHNICIAN,
                locale="zh_CN",
                password_hash=tech_hash,
            )
            create_technician_profile(tech, skills=[("hvac", 5)])
            techs.append(tech)
        category = Category(
            code="RACE",
            name_en="AC repair",
            name_zh="空调维修",
            workflow_name="repair",
            required_skill="hvac",
            checklist=checklist or [],
        )
        db.session.add(category)
        customer = create_customer(
            {"name": "王建国", "sites": [{"address": "上海市徐汇区漕溪北路88号"}]}, actor=None
        )
        orders = []
        for index in range(races):
            order = create_work_order(
                {
                    "category_id": category.id,
                    "customer_id": customer.id,
                    "site_id": customer.sites[0].id,
                    "title": f"空调不制冷 {index}",
                },
                dispatcher,
            )
            if assign_to_first:
                apply_transition(
                    order, "assign", dispatcher, {"assignee_id": techs[0].id}, order.version
                )
            orders.append(order.id)
        token = issue_token_pair(dispatcher, TokenAudience.API).access_token
        tech_token = issue_token_pair(techs[0], TokenAudience.MOBILE).access_token
        tech_ids = [tech.id for tech in techs]
        db.session.commit()
    return {"orders": orders, "techs": tech_ids, "token": token, "tech_token": tech_token}


def assign_call(app: Flask, token: str, order_id: int, tech_id: int) -> int:
    """POST the assign request as a dispatcher would; return the HTTP status."""
    response = app.test_client().post(
        f"/api/v1/work-orders/{order_id}/assign",
        headers={"Authorization": f"Bearer {token}"},
        json={"technician_id": tech_id, "expected_version": 1},
    )
    return response.status_code


def race_in_threads(contenders: int, attempt: Callable[[int], int]) -> list[int]:
    """Release ``contenders`` threads at once on ``attempt(index)``; return their results."""
    barrier = threading.Barrier(contenders)
    results: list[int] = [0] * contenders

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = attempt(index)
        except Exception:  # a crash in a contender is a failed race, reported as 599
            results[index] = 599

    threads = [threading.Thread(target=run, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def process_contender(
    database_url: str,
    instance: str,
    token: str,
    orders: list[int],
    tech_id: int,
    barrier: Any,
    results: Any,
    index: int,
) -> None:
    """Run in a separate process: take part in every race, one per order."""
    app = make_app(database_url, Path(instance))
    for order_id in orders:
        barrier.wait()
        try:
            status = assign_call(app, token, order_id, tech_id)
        except Exception:
            status = 599
        results.put((order_id, index, status))
