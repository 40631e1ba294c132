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
            upgrade()
    return app


def seed_race(app: Flask, races: int, technicians: int) -> dict[str, Any]:
    """Commit one dispatcher, ``technicians`` technicians and ``races`` new orders."""
    from server.auth.tokens import issue_token_pair
    from server.extensions import db
    from server.models import Category, Role, TokenAudience
    from server.services.customers import create_customer
    from server.services.users import create_technician_profile, create_user
    from server.services.work_orders import create_work_order

    with app.app_context():
        dispatcher = create_user(
            username="race-dispatcher",
            password="x" * 12,
            role=Role.DISPATCHER,
            password_hash="unused",
        )
        techs = []
        for index in range(technicians):
            tech = create_user(
                username=f"race-tech{index}",
                password="",
                role=Role.TECHNICIAN,
                password_hash="unused",
            )
            create_technician_profile(tech, skills=[("hvac", 5)])
            techs.append(tech.id)
        category = Category(
            code="RACE",
            name_en="Race",
            name_zh="竞争",
            workflow_name="repair",
            required_skill="hvac",
        )
        db.session.add(category)
        customer = create_customer({"name": "Race customer"}, actor=None)
        orders = [
            create_work_order(
                {"category_id": category.id, "customer_id": customer.id, "title": f"Race {index}"},
                dispatcher,
            ).id
            for index in range(races)
        ]
        token = issue_token_pair(dispatcher, TokenAudience.API).access_token
        db.session.commit()
    return {"orders": orders, "techs": techs, "token": token}


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
