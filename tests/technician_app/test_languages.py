"""Every screen in Chinese and English at 360 × 640: translated, no sideways scroll, axe-clean."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.technician_app.conftest import screenshot, sign_in, watch_errors
from tests.technician_app.test_offline_day import tap_step

MESSAGES = Path(__file__).resolve().parents[2] / "technician_app" / "src" / "i18n"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def english_only() -> list[str]:
    """Return the English messages (placeholders cut out) that must not show in Chinese."""
    en = json.loads((MESSAGES / "en.json").read_text("utf-8"))
    zh = json.loads((MESSAGES / "zh_CN.json").read_text("utf-8"))
    pieces = set()
    for key, text in en.items():
        if zh[key] == text:
            continue
        for piece in re.split(r"\{\w+\}", text):
            piece = piece.strip(" :·.,()–“”'")
            if len(piece) >= 4 and re.search(r"[A-Za-z]{3}", piece):
                pieces.add(piece)
    return sorted(pieces)


def check_screen(page: Any, name: str, *, english: list[str] | None) -> None:
    """Screenshot the screen; fail on sideways scroll, English left over, axe findings."""
    page.wait_for_load_state("networkidle")
    screenshot(page, name)
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{name}: scrolls sideways ({widths})"
    if english is not None:
        text = page.locator("body").inner_text()
        left = [piece for piece in english if piece in text]
        assert left == [], f"{name}: English left in Chinese: {left}"
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'critical' || v.impact === 'serious')"
        ".map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))"
    )
    assert found == [], f"{name}: {found}"


@pytest.mark.parametrize(
    ("username", "locale", "prefix"), [("liwei", "zh-CN", "zh"), ("anna", "en-GB", "en")]
)
def test_every_screen_in_the_technicians_language(
    app_server: dict[str, Any], phone: Any, username: str, locale: str, prefix: str
) -> None:
    """Sign-in, day, a job at each stage, outbox and settings, in the profile's language."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make node_modules/.installed` (npm ci)")
    english = english_only() if prefix == "zh" else None
    context = phone(locale=locale)
    page = context.pages[0]
    page.set_viewport_size({"width": 360, "height": 640})
    errors = watch_errors(page)
    page.goto("/app/")
    page.locator("input[name=username]").wait_for()
    check_screen(page, f"{prefix}-signin", english=None)
    sign_in(page, username, app_server["password"])
    check_screen(page, f"{prefix}-day", english=english)
    job = app_server["jobs"]["zh_one" if prefix == "zh" else "tour"]
    page.goto(f"/app/jobs/{job}")
    page.locator("[data-testid=job-screen]").wait_for()
    check_screen(page, f"{prefix}-job-assigned", english=english)
    for step in ("accept", "arrive", "start_work"):
        tap_step(page, step)
    page.locator("[data-step=complete]").click()
    page.locator("[data-testid=completion-blockers]").wait_for()
    check_screen(page, f"{prefix}-job-working", english=english)
    page.goto("/app/queue")
    check_screen(page, f"{prefix}-outbox", english=english)
    page.goto("/app/settings")
    check_screen(page, f"{prefix}-settings", english=english)
    assert errors == []


def test_the_language_can_be_switched_on_the_phone(app_server: dict[str, Any], phone: Any) -> None:
    """A Chinese profile shows Chinese; switching to English in settings changes every screen."""
    context = phone(locale="en-GB")
    page = context.pages[0]
    sign_in(page, "liwei", app_server["password"])
    assert page.locator("nav.tabs").inner_text().split() == ["我的一天", "待发送", "设置"]
    page.goto("/app/settings")
    page.select_option("select[name=locale]", "en")
    page.get_by_role("link", name="My day").click()
    page.get_by_role("heading", name="Today").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
