"""Fixtures for completion sheets: orders completed through the engine, with real photos."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageDraw

from server.extensions import db
from server.models import OutboxMessage, Role
from server.services.attachments import add_photo, add_signature
from server.services.field_reports import save_field_report
from server.services.work_orders import apply_transition
from tests.pdf.photos import phone_photo

CAPTIONS = {
    "zh_CN": [
        "室外机铭牌",
        "压缩机启动电容（旧）",
        "新电容已安装",
        "压力表读数",
        "出风口温度",
        "现场清理完毕",
    ],
    "en": [
        "Outdoor unit label",
        "Old start capacitor",
        "New capacitor fitted",
        "Gauge readings",
        "Outlet temperature",
        "Site cleaned up",
    ],
}
WORK_NOTES = {
    "zh_CN": "更换压缩机启动电容。\n补充 R32 制冷剂 0.4 kg，系统运行正常。",
    "en": "Replaced the compressor start capacitor.\nTopped up 0.4 kg of R32; the system runs normally.",
}
CUSTOMER_NAMES = {"zh_CN": "申城烘焙有限公司", "en": "Shencheng Bakery Ltd"}


@pytest.fixture(scope="session")
def phone_jpegs():
    """Six different 4000 x 3000 JPEGs, made once per session."""
    return [phone_photo(seed) for seed in range(6)]


def signature_png() -> bytes:
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line(
        [(20, 150), (120, 40), (200, 160), (300, 50), (420, 140), (580, 60)], fill="black", width=5
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def store(app):
    return app.extensions["fieldwork.blob_store"]


@pytest.fixture
def complete_order(create_work_order, create_category, create_customer, create_user, store):
    """Return a function: an order driven to completion through the engine, like a phone does.

    Six phone photos go through the upload use case (display copies made there), the
    customer signs on the pad (SVG), the technician signs (PNG), the report is filled in.
    """

    def run(locale="zh_CN", photos=None, email="li@example.cn"):
        dispatcher = create_user(Role.DISPATCHER)
        tech = create_user(
            Role.TECHNICIAN,
            locale=locale,
            display_name="王建国" if locale == "zh_CN" else "Wang Jianguo",
        )
        category = create_category(
            name_en="Air conditioning repair",
            name_zh="空调维修",
            checklist=[
                {"key": "safety", "en": "Power isolated", "zh_CN": "已断电"},
                {"key": "test", "en": "Function test", "zh_CN": "功能测试"},
            ],
        )
        customer = create_customer(
            name=CUSTOMER_NAMES[locale],
            preferred_locale=locale,
            contacts=[
                {
                    "name": "李女士" if locale == "zh_CN" else "Ms Li",
                    "phone": "+86 139 0000 0042",
                    "email": email,
                    "is_primary": True,
                }
            ],
        )
        order = create_work_order(category=category, customer=customer, actor=dispatcher)
        apply_transition(order, "assign", dispatcher, {"assignee_id": tech.id}, order.version)
        for step in ("accept", "start_travel", "arrive", "start_work"):
            apply_transition(order, step, tech, {}, order.version)
        captions = CAPTIONS[locale]
        for number, data in enumerate(photos if photos is not None else []):
            add_photo(order, data, {"caption": captions[number % len(captions)]}, tech, store)
        add_signature(
            order,
            {
                "svg": {
                    "path_data": "M10 80 C 40 10, 65 10, 95 80 S 150 150, 180 80 L 260 60",
                    "width": 300,
                    "height": 120,
                },
                "signer_name": "李女士" if locale == "zh_CN" else "Ms Li",
                "signer_role": "customer",
                "signed_at": datetime(2026, 11, 23, 6, 30, tzinfo=UTC),
            },
            tech,
            store,
        )
        add_signature(
            order,
            {
                "png_base64": base64.b64encode(signature_png()).decode(),
                "signer_name": tech.display_name,
                "signer_role": "technician",
            },
            tech,
            store,
        )
        save_field_report(
            order,
            {
                "work_notes": WORK_NOTES[locale],
                "checklist": [
                    {"key": "safety", "answer": "是" if locale == "zh_CN" else "Yes", "ok": True},
                    {
                        "key": "test",
                        "answer": "出风 9 °C" if locale == "zh_CN" else "Outlet 9 °C",
                        "ok": True,
                    },
                ],
                "parts": [
                    {
                        "part_number": "CAP-35UF",
                        "description": "启动电容 35 µF"
                        if locale == "zh_CN"
                        else "Start capacitor 35 µF",
                        "quantity": 1,
                    }
                ],
                "labour_minutes": 95,
                "resolution_code": "replaced_part",
            },
            tech,
        )
        result = apply_transition(
            order, "complete", tech, {"resolution_code": "replaced_part"}, order.version
        )
        db.session.commit()
        [message] = [m for m in result.outbox if m.action == "request_completion_sheet"]
        return order, message

    return run


def sheet_messages(order):
    return db.session.scalars(
        db.select(OutboxMessage).where(
            OutboxMessage.work_order_id == order.id,
            OutboxMessage.action == "request_completion_sheet",
        )
    ).all()
