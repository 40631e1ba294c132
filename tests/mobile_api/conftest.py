"""Fixtures for the mobile API: a technician with a token and jobs assigned to them."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from server.models import Role, TokenAudience
from server.services.work_orders import apply_transition


@pytest.fixture
def dispatcher(create_user):
    return create_user(Role.DISPATCHER)


@pytest.fixture
def tech(create_user):
    return create_user(Role.TECHNICIAN, locale="zh_CN")


@pytest.fixture
def other_tech(create_user):
    return create_user(Role.TECHNICIAN)


@pytest.fixture
def phone(api_headers, tech):
    """Headers of the technician's phone."""
    return api_headers(tech, TokenAudience.MOBILE)


@pytest.fixture
def assign(dispatcher):
    """Assign an order to a technician the way a dispatcher does."""

    def run(order, technician):
        apply_transition(order, "assign", dispatcher, {"assignee_id": technician.id}, order.version)
        return order

    return run


@pytest.fixture
def job(create_work_order, create_category, dispatcher, tech, assign):
    """A repair job with a checklist, assigned to ``tech``."""
    category = create_category(
        checklist=[
            {"key": "safety", "en": "Power isolated", "zh_CN": "已断电"},
            {"key": "test", "en": "Function test", "zh_CN": "功能测试"},
        ]
    )
    return assign(create_work_order(category=category, actor=dispatcher), tech)


def jpeg_bytes(size=(640, 480), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def png_bytes(size=(300, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def new_id() -> str:
    return str(uuid.uuid4())
