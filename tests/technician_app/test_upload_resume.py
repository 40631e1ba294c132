"""A photo upload cut halfway resumes from the server's offset, not from the start."""

from __future__ import annotations

import io
from typing import Any

from tests.technician_app.conftest import go_offline, go_online, sign_in
from tests.technician_app.test_offline_day import server_state, tap_step


def noisy_photo() -> dict[str, Any]:
    """Return a photo that stays large after the phone's compression (noise compresses badly)."""
    from PIL import Image

    channels = [Image.effect_noise((1600, 1200), 120) for _ in range(3)]
    buffer = io.BytesIO()
    Image.merge("RGB", channels).save(buffer, "JPEG", quality=95)
    return {"name": "noise.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def test_a_photo_upload_cut_at_half_resumes_from_the_servers_offset(
    app_server: dict[str, Any], phone: Any
) -> None:
    """The connection drops once half the photo is up; the next sync asks HEAD and goes on."""
    job = app_server["jobs"]["upload"]
    context = phone()
    page = context.pages[0]
    sign_in(page, "anna", app_server["password"])
    go_offline(context)
    page.goto(f"/app/jobs/{job}")
    for step in ("accept", "arrive", "start_work"):
        tap_step(page, step)
    page.locator("[data-testid=photo-camera]").set_input_files(noisy_photo())
    page.locator("[data-testid=photo-thumb]").wait_for()
    size = page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("fieldwork");
          open.onsuccess = () => {
            const read = open.result.transaction("photos").objectStore("photos").getAll();
            read.onsuccess = () => { resolve(read.result[0].bytes); open.result.close(); };
          };
        })"""
    )
    assert size > 1_000_000
    go_online(context)

    patches: list[tuple[int, str]] = []
    cut = {"done": False}

    def uploads(route: Any) -> None:
        request = route.request
        if request.method == "PATCH":
            offset = int(request.headers["upload-offset"])
            if not cut["done"] and offset >= size // 2:
                cut["done"] = True
                patches.append((offset, "cut"))
                # The phone loses the network mid-upload.
                context.set_offline(True)
                route.abort("internetdisconnected")
                return
            patches.append((offset, "sent"))
        route.continue_()

    context.route("**/api/mobile/v1/uploads**", uploads)
    page.locator("[data-testid=sync-now]").click()
    page.locator("[data-testid=sync-now]").filter(has_text="Sync now").wait_for(timeout=30000)
    assert cut["done"]
    assert page.locator("[data-testid=unsent-count]").inner_text() != "All sent"
    cut_at = next(offset for offset, what in patches if what == "cut")

    context.set_offline(False)
    page.locator("[data-testid=sync-now]").click()
    page.locator("[data-testid=unsent-count]").filter(has_text="All sent").wait_for(timeout=30000)
    after = [offset for offset, what in patches[patches.index((cut_at, "cut")) + 1 :]]
    # Resumed where the server's bytes ended (HEAD), never from the start.
    assert after[0] == cut_at
    assert 0 not in after
    state = server_state(app_server["app"], job)
    assert len(state["photos"]) == 1

    # Another phone of the same technician shows the photo from the server, offline too.
    other = phone()
    second = other.pages[0]
    sign_in(second, "anna", app_server["password"])
    go_offline(other)
    second.goto(f"/app/jobs/{job}")
    second.locator("[data-testid=server-photo] img").wait_for()
    assert second.locator("[data-testid=photo-thumb]").count() == 0
