"""WeasyPrint in its own long-lived process: isolation, time and size budget, recovery."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from pdf.render import Resource
from pdf.render_process import RenderBudget, RenderBudgetExceeded, RenderFailed, RenderProcess
from pdf.sheet import render_html
from tests.pdf.test_render import jpeg, sheet, text_of

PHOTO_KEY = "a" * 32 + ".display"


@pytest.fixture
def renderer():
    process = RenderProcess()
    yield process
    process.close()


def loaded_libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_a_sheet_renders_in_a_child_that_loads_neither_signing_nor_the_server(renderer):
    rendered = renderer.render(
        render_html(sheet()), {PHOTO_KEY: Resource(jpeg((80, 60)), "image/jpeg")}
    )
    assert rendered.data.startswith(b"%PDF-")
    assert "Replaced the start capacitor." in text_of(rendered.data)
    assert rendered.fetches.served == [PHOTO_KEY]
    assert rendered.seal_box is not None
    child = renderer.pid
    assert child is not None
    assert child != os.getpid()
    libraries = loaded_libraries(child)
    assert "libpango" in libraries  # WeasyPrint is there …
    assert "cryptography" not in libraries  # … pyHanko's crypto is not (it signs in the parent)
    assert "psycopg" not in libraries
    assert "sqlalchemy" not in libraries


def test_the_child_stays_for_the_next_sheet_and_is_replaced_after_its_quota():
    renderer = RenderProcess(max_renders=2)
    try:
        renderer.render("<p>one</p>")
        first = renderer.pid
        renderer.render("<p>two</p>")  # its second: the child is retired after it
        assert renderer.pid is None
        renderer.render("<p>three</p>")
        assert renderer.pid not in (None, first)
    finally:
        renderer.close()


def test_a_render_over_its_time_budget_is_stopped_and_the_next_one_works(renderer):
    long_note = "\n".join(f"Checked valve {n}" for n in range(2_000))
    renderer.render("<p>warm</p>")
    slow = renderer.pid
    renderer.budget = RenderBudget(seconds=0.2)
    with pytest.raises(RenderBudgetExceeded, match="budget of 0.2 s"):
        renderer.render(render_html(sheet(work_performed=long_note, photos=[])))
    assert not Path(f"/proc/{slow}").exists()  # killed and reaped, not left running
    renderer.budget = RenderBudget()
    assert "Replaced" in text_of(renderer.render(render_html(sheet(photos=[]))).data)


def test_a_pdf_over_its_size_budget_is_refused(renderer):
    renderer.budget = RenderBudget(max_pdf_bytes=2_000)
    with pytest.raises(RenderBudgetExceeded, match="at most 2,000 are accepted"):
        renderer.render(render_html(sheet(photos=[])))


def test_html_over_its_budget_is_refused_before_it_reaches_the_renderer(renderer):
    renderer.budget = RenderBudget(max_html_chars=1_000)
    with pytest.raises(RenderBudgetExceeded, match="at most 1,000 are rendered"):
        renderer.render("<p>" + "x" * 2_000 + "</p>")
    assert renderer.pid is None  # never started for it


def test_a_renderer_killed_mid_render_fails_that_sheet_only(renderer):
    renderer.render("<p>warm</p>")
    victim = renderer.pid
    assert victim is not None
    long_note = render_html(sheet(work_performed="x\n" * 10_000, photos=[]))
    outcome: list[BaseException] = []

    def render_long() -> None:
        try:
            renderer.render(long_note)
        except RenderFailed as error:
            outcome.append(error)

    worker = threading.Thread(target=render_long)
    worker.start()
    time.sleep(0.5)  # the note takes seconds to lay out: the child is busy with it
    os.kill(victim, signal.SIGKILL)
    worker.join(timeout=60)

    assert len(outcome) == 1
    assert "died" in str(outcome[0])
    assert "again" in text_of(renderer.render("<p>again</p>").data)
    assert renderer.pid != victim


def test_a_renderer_that_died_while_idle_is_replaced_without_failing_a_sheet(renderer):
    renderer.render("<p>warm</p>")
    victim = renderer.pid
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    _wait_until_dead(victim)

    assert "next" in text_of(renderer.render("<p>next</p>").data)
    assert renderer.pid != victim


def _wait_until_dead(pid: int) -> None:
    """Wait until ``pid`` has exited (a zombie until its parent reaps it counts)."""
    deadline = time.monotonic() + 10
    status = Path(f"/proc/{pid}/status")
    while status.exists() and "State:\tZ" not in status.read_text():
        assert time.monotonic() < deadline, "the process did not exit"
        time.sleep(0.01)


def test_outside_urls_are_still_refused_inside_the_child(renderer):
    html = (
        '<img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png">'
        '<link rel="stylesheet" href="https://example.com/x.css"><p>body</p>'
    )
    rendered = renderer.render(html)
    assert rendered.fetches.served == []
    assert len(rendered.fetches.refused) == 3


def test_a_ten_thousand_line_note_renders_within_the_default_budget(renderer):
    """RELIABILITY E10: the longest note the API accepts (20,000 characters) as 10,000 lines."""
    note = "x\n" * 10_000
    assert len(note) == 20_000
    rendered = renderer.render(render_html(sheet(work_performed=note, photos=[])))
    assert rendered.page_count > 10
    assert sum(line == "x" for line in text_of(rendered.data).splitlines()) == 10_000
