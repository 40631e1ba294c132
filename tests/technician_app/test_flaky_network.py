"""Replay over a network that drops every third request, before or after the server saw it."""

from __future__ import annotations

import itertools
from typing import Any

from tests.technician_app.conftest import go_offline, go_online, sign_in
from tests.technician_app.test_offline_day import (
    STEPS,
    report_and_complete,
    server_state,
    tap_step,
)


def test_a_flaky_network_still_applies_everything_exactly_once(
    app_server: dict[str, Any], phone: Any
) -> None:
    """Every third API request is cut: on the way out, or on the way back after the server
    answered. Pressing Sync until all is sent leaves one of everything on the server."""
    job = app_server["jobs"]["flaky"]
    context = phone()
    page = context.pages[0]
    sign_in(page, "anna", app_server["password"])
    go_offline(context)
    page.goto(f"/app/jobs/{job}")
    for name in STEPS[:-1]:
        tap_step(page, name)
    report_and_complete(page, photos=2)
    go_online(context)

    counter = itertools.count(1)
    cut = {"before": 0, "after": 0}

    def flaky(route: Any) -> None:
        number = next(counter)
        if number % 3:
            route.continue_()
        elif number % 2:
            cut["before"] += 1
            route.abort("connectionreset")  # never reached the server
        else:
            cut["after"] += 1
            route.fetch()  # the server did it; the phone never hears back
            route.abort("connectionreset")

    context.route("**/api/mobile/v1/**", flaky)
    sync = page.locator("[data-testid=sync-now]")
    for _ in range(40):
        if page.locator("[data-testid=unsent-count]").inner_text() == "All sent":
            break
        sync.filter(has_text="Sync now").wait_for()
        sync.click()
        page.wait_for_timeout(300)
    page.locator("[data-testid=unsent-count]").filter(has_text="All sent").wait_for()
    assert cut["before"] > 0
    assert cut["after"] > 0

    state = server_state(app_server["app"], job)
    assert state["state"] == "completed"
    assert state["transitions"] == ["assign", *STEPS]
    assert len(state["photos"]) == 2
    assert len({client_id for client_id, *_ in state["photos"]}) == 2
    assert state["signatures"] == ["Zhou Min"]
    assert state["actions"]["request_completion_sheet"] == 1
