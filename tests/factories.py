"""``create_<thing>`` factory fixtures that make realistic rows with few arguments."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from server.auth.tokens import issue_token_pair
from server.extensions import db
from server.models import Category, Customer, Role, TokenAudience, User, WorkOrder
from server.services.customers import create_customer as create_customer_service
from server.services.users import create_technician_profile
from server.services.users import create_user as create_user_service
from server.services.work_orders import create_work_order as create_work_order_service

#: Every factory-made user has this password.
PASSWORD = "correct horse battery"

_counter = itertools.count(1)

# Hashing with full Argon2 cost for every factory user would dominate the suite's run time;
# the factories share one hash (the real parameters are tested in tests/unit).
_HASH: dict[str, str] = {}


def _password_hash() -> str:
    from server.auth.passwords import hash_password

    if "hash" not in _HASH:
        _HASH["hash"] = hash_password(PASSWORD)
    return _HASH["hash"]


@pytest.fixture
def create_user(db_session: Any) -> Callable[..., User]:
    """Return a factory of users (``role`` defaults to dispatcher)."""

    def factory(role: Role | str = Role.DISPATCHER, **fields: Any) -> User:
        role = Role(role)
        username = fields.pop("username", f"{role.value}{next(_counter)}")
        user = create_user_service(
            username=username,
            password=PASSWORD,
            role=role,
            password_hash=_password_hash(),
            **fields,
        )
        if role is Role.TECHNICIAN:
            create_technician_profile(
                user,
                skills=[("hvac", 3), ("electrical", 2)],
                team="puxi",
                home_latitude=31.2,
                home_longitude=121.45,
            )
        db.session.flush()
        return user

    return factory


@pytest.fixture
def create_category(db_session: Any) -> Callable[..., Category]:
    """Return a factory of categories (the repair workflow by default)."""

    def factory(**fields: Any) -> Category:
        number = next(_counter)
        values = {
            "code": f"CAT-{number}",
            "name_en": f"Category {number}",
            "name_zh": f"类别{number}",
            "workflow_name": "repair",
            "required_skill": "hvac",
            "required_skill_level": 1,
        } | fields
        category = Category(**values)
        db.session.add(category)
        db.session.flush()
        return category

    return factory


@pytest.fixture
def create_customer(db_session: Any) -> Callable[..., Customer]:
    """Return a factory of customers with one site and one asset."""

    def factory(**fields: Any) -> Customer:
        number = next(_counter)
        data = {
            "name": f"客户 {number}",
            "contacts": [
                {
                    "name": "王先生",
                    "phone": f"+86 138 0000 {number:04d}",
                    "email": None,
                    "is_primary": True,
                }
            ],
            "sites": [
                {
                    "address": f"上海市徐汇区漕溪北路{number}号",
                    "latitude": 31.19,
                    "longitude": 121.43,
                    "assets": [{"model": "Gree GMV6", "serial_number": f"GR{number:08d}"}],
                }
            ],
        } | fields
        return create_customer_service(data, actor=None)

    return factory


@pytest.fixture
def create_work_order(
    db_session: Any,
    create_category: Callable[..., Category],
    create_customer: Callable[..., Customer],
    create_user: Callable[..., User],
) -> Callable[..., WorkOrder]:
    """Return a factory of work orders (new, in the repair workflow)."""

    def factory(
        *,
        category: Category | None = None,
        customer: Customer | None = None,
        actor: User | None = None,
        **fields: Any,
    ) -> WorkOrder:
        category = category or create_category()
        customer = customer or create_customer()
        site = customer.sites[0] if customer.sites else None
        data = {
            "category_id": category.id,
            "customer_id": customer.id,
            "title": "空调不制冷 AC not cooling",
            "site_id": site.id if site else None,
            "asset_id": site.assets[0].id if site and site.assets else None,
        } | fields
        return create_work_order_service(data, actor or create_user(Role.DISPATCHER))

    return factory


@pytest.fixture
def api_headers(db_session: Any) -> Callable[[User], dict[str, str]]:
    """Return a function giving ``Authorization`` headers with a fresh token for a user."""

    def factory(user: User, audience: TokenAudience = TokenAudience.API) -> dict[str, str]:
        pair = issue_token_pair(user, audience)
        db.session.flush()
        return {"Authorization": f"Bearer {pair.access_token}"}

    return factory


def add_completion_evidence(order: WorkOrder, technician: User, **report: Any) -> None:
    """Give an order in progress what completing it requires: a photo, a signature, a report.

    Rows only (the bytes are not stored): for tests about what happens after completion.
    """
    from server.models import Attachment, AttachmentKind, FieldReport

    for kind in (AttachmentKind.PHOTO, AttachmentKind.SIGNATURE):
        db.session.add(
            Attachment(
                work_order_id=order.id,
                kind=kind,
                content_type="image/png",
                size=1,
                sha256=f"{order.id:064d}",
                storage_key=f"test/{order.id}/{kind}",
                uploaded_by_id=technician.id,
            )
        )
    db.session.add(
        FieldReport(
            work_order_id=order.id,
            visit_id=order.current_visit.id,
            resolution_code="fixed",
            reported_by_id=technician.id,
            **report,
        )
    )
    db.session.flush()
