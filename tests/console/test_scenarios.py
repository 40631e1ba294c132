"""The dispatcher's day in a real browser: intake, search, board, phone changes, the file."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

from playwright.sync_api import expect

from tests.console.conftest import ARTIFACTS, axe_violations, screenshot, sign_in


def mobile(base: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    """Call the mobile API like the technician's phone does."""
    request = urllib.request.Request(  # noqa: S310 (the live test server on loopback)
        base + "/api/mobile/v1" + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def drag(page: Any, source: Any, target: Any) -> None:
    """Drag ``source`` onto ``target`` with the mouse, in small steps like a person."""
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    target.scroll_into_view_if_needed()
    end = target.bounding_box()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=20)
    page.mouse.move(end["x"] + end["width"] / 2 + 2, end["y"] + end["height"] / 2 + 2, steps=5)
    page.mouse.up()


def test_call_to_board_to_phone_and_back(tab, live_server):
    page = tab
    sign_in(page, "disp", live_server["password"])
    expect(page.locator("h1")).to_have_text("Dashboard")
    screenshot(page, "dashboard")

    # Intake: search as you type finds the existing customer; this caller is a new one.
    page.goto("/intake")
    page.fill("#customer_query", "联华")
    expect(page.locator("#customer-results")).to_contain_text("上海联华超市")
    page.fill("#customer_query", "")
    page.click("summary:has-text('New customer')")
    page.fill("#new_customer_name", "王小明")
    page.fill("#new_customer_phone", "+86 139 1234 5678")
    page.fill("#new_customer_address", "上海市浦东新区世纪大道100号")
    page.select_option("#category_id", label="Air-conditioning repair")
    expect(page.locator("#priority")).to_have_value("high")  # the category's default
    page.fill("#title", "客厅空调不制冷 zebra-42")
    page.fill("#description", "客户电话报修，室内机滴水。")
    page.click("button:has-text('Create work order')")
    expect(page.locator(".flash.ok")).to_contain_text("created")
    number = re.search(r"WO-\d{4}-\d{6}", page.locator("h1").inner_text()).group(0)
    order_url = page.url

    # The list finds it by search.
    page.goto("/work-orders")
    page.fill("#q", "zebra-42")
    page.click("button:has-text('Apply')")
    expect(page.locator(f"tr[data-order='{number}']")).to_be_visible()
    expect(page.locator("table.orders tbody tr")).to_have_count(1)

    # The board: drag it from the queue onto the first technician at 10:00.
    tech_id, tech_name = live_server["techs"][0], live_server["tech_names"][0]
    page.goto("/board")
    job = page.locator(f".queue .job[data-number='{number}']")
    expect(job).to_be_visible()
    cell = page.locator(f"tr[data-tech-row='{tech_id}'] .drop-list[data-hour='10']")
    drag(page, job, cell)
    placed = page.locator(f"tr[data-tech-row='{tech_id}'] .job[data-number='{number}']")
    expect(placed).to_be_visible()
    expect(placed.locator("[data-job-state]")).to_have_text("Assigned")
    expect(page.locator(f".queue .job[data-number='{number}']")).to_have_count(0)
    screenshot(page, "board")

    # The detail page is open in a second tab while the technician accepts on the phone.
    detail = page.context.new_page()
    detail.goto(order_url)
    expect(detail.locator("[data-assignee]")).to_have_text(tech_name)
    expect(detail.locator("[data-state='assigned']")).to_be_visible()
    token = mobile(
        live_server["url"],
        "/auth/token",
        {"username": "tech1", "password": live_server["password"]},
    )["access_token"]
    version = int(placed.get_attribute("data-version"))
    order_id = int(placed.get_attribute("data-order-id"))
    moved = mobile(
        live_server["url"],
        f"/jobs/{order_id}/transitions",
        {"transition": "accept", "expected_version": version},
        token,
    )
    assert moved["state"] == "accepted"
    # Both pages show it within 10 seconds, without a reload: on the detail page the header,
    # the timeline and the steps (which now carry the new version) all follow.
    expect(placed.locator("[data-job-state]")).to_have_text("Accepted", timeout=10_000)
    expect(detail.locator("[data-state='accepted']")).to_be_visible(timeout=10_000)
    expect(detail.locator("#order-timeline")).to_contain_text("mobile", timeout=10_000)
    expect(detail.locator("#order-steps input[name='expected_version']").first).to_have_value(
        str(moved["version"]), timeout=10_000
    )
    screenshot(detail, "detail")

    # A dispatcher half-way through typing a step keeps the text when the phone moves again;
    # the page says it is behind instead of wiping the form.
    typed = detail.locator("#order-steps input[name='reason'], #order-steps input[name='note']")
    typed.first.fill("客户改约明天")
    mobile(
        live_server["url"],
        f"/jobs/{order_id}/transitions",
        {"transition": "start_travel", "expected_version": moved["version"]},
        token,
    )
    expect(detail.locator("[data-state='en_route']")).to_be_visible(timeout=10_000)
    expect(detail.locator("[data-stale-note]")).to_be_visible()
    expect(typed.first).to_have_value("客户改约明天")
    expect(detail.locator("#order-timeline")).to_contain_text("mobile")

    # The customer file has the order.
    detail.click("a:has-text('王小明')")
    expect(detail.locator("h1")).to_contain_text("王小明")
    expect(detail.locator(f"tr[data-order='{number}']")).to_be_visible()
    assert page.js_errors == []


def test_switching_to_chinese_translates_the_pages(tab, live_server):
    page = tab
    sign_in(page, "tech2", live_server["password"])  # technicians see the app hint only
    expect(page.locator("h1")).to_contain_text("Fieldwork")
    page.context.clear_cookies()
    sign_in(page, "boss", live_server["password"])
    page.goto("/profile")
    page.select_option("#profile-locale", "zh_CN")
    page.fill("#profile-timezone", "Asia/Shanghai")
    page.click("button[name='profile-submit']")
    expect(page.locator(".flash.ok")).to_have_text("设置已保存。")
    for path, heading in [
        ("/", "工作台"),
        ("/work-orders", "工单"),
        ("/board", "派工看板"),
        ("/technicians", "技术员"),
        ("/intake", "新建工单"),
    ]:
        page.goto(path)
        expect(page.locator("h1")).to_contain_text(heading)
        if path in ("/", "/board"):
            screenshot(page, "dashboard-zh" if path == "/" else "board-zh")
    page.goto("/work-orders")
    expect(page.locator("label[for='f-state']")).to_have_text("状态")
    expect(page.locator("nav[aria-label]")).to_contain_text("派工看板")
    # Back to English for the other tests that share this admin.
    page.goto("/profile")
    page.select_option("#profile-locale", "en")
    page.click("button[name='profile-submit']")
    expect(page.locator("h1")).to_have_text("Profile")


def test_main_pages_have_no_critical_or_serious_accessibility_issues(tab, live_server):
    page = tab
    sign_in(page, "boss", live_server["password"])
    page.goto("/work-orders")
    first_order = page.locator("table.orders tbody tr a").first.get_attribute("href")
    pages = [
        "/",
        "/work-orders",
        "/intake",
        "/board",
        first_order,
        f"/customers/{live_server['customer']}",
        "/map",
        "/technicians",
        "/profile",
        "/admin",
    ]
    report = {}
    for path in pages:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if path == "/map":  # no tile server here: the markers still show
            assert page.locator("#map .leaflet-interactive").count() > 0
        if path == "/":
            assert page.locator("canvas#trend").get_attribute("width")  # chart.js drew it
        screenshot(page, "page-" + (path.strip("/").replace("/", "-") or "dashboard"))
        report[path] = axe_violations(page)
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    # The acceptance bar is "no critical issue"; the pages meet "no serious one" too.
    grave = {
        path: [v for v in found if v["impact"] in ("critical", "serious")]
        for path, found in report.items()
    }
    assert {path: v for path, v in grave.items() if v} == {}

    # Keyboard only: focus a queued job, Enter selects it, the form plans it.
    page.goto("/board")
    job = page.locator(".queue .job").first
    number = job.get_attribute("data-number")
    job.locator(".job-link").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#move-title")).to_be_visible()
    expect(page.locator(".recommended li").first).to_be_visible()
    page.locator("#move-tech").select_option(str(live_server["techs"][1]))
    page.locator("#move-hour").select_option("14")
    page.get_by_role("button", name="Plan", exact=True).press("Enter")
    row = page.locator(f"tr[data-tech-row='{live_server['techs'][1]}']")
    expect(row.locator(f".job[data-number='{number}']")).to_be_visible()
    assert page.js_errors == []
