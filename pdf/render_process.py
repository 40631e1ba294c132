"""WeasyPrint in a long-lived process of its own, within a time and size budget.

The worker that signs, stores and e-mails sheets hands every render to one child process
that imports nothing but WeasyPrint and :mod:`pdf.render`:

* the renderer's memory is WeasyPrint's alone: the worker's pyHanko, cryptography,
  SQLAlchemy and Flask are not loaded in it, and it is replaced after ``max_renders``
  sheets, so whatever the layout engine keeps from sheet to sheet cannot grow the worker;
* a render over its time budget is stopped by killing the child (a thread cannot be
  stopped), and a crash or an out-of-memory kill in the renderer fails one sheet, not the
  worker;
* WeasyPrint's import (~0.6 s) is paid once per child, not per sheet.

Requests and replies are length-prefixed pickles over the child's stdin and stdout. Both
ends are our own code, started by us, so the frames are trusted.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import struct
import subprocess  # noqa: S404 - our own interpreter with fixed arguments, no shell
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pdf.render import FetchLog, RenderedPdf, Resource

_FRAME_HEADER = struct.Struct("!Q")
_PROJECT_ROOT = Path(__file__).resolve().parents[1]


class RenderFailed(RuntimeError):
    """The sheet could not be rendered (the renderer failed, died or broke its budget)."""


class RenderBudgetExceeded(RenderFailed):
    """The render took longer, or produced a larger file, than its budget allows."""


@dataclass(frozen=True)
class RenderBudget:
    """Limits of one render (RELIABILITY E10)."""

    #: Wall-clock seconds for one sheet; a 20-page, 60-photo sheet needs about 2 s here.
    seconds: float = 120.0
    #: Largest PDF accepted from the renderer.
    max_pdf_bytes: int = 50 * 1024 * 1024
    #: Longest HTML handed to it (the sheet's own text is bounded far below this).
    max_html_chars: int = 10_000_000


class RenderProcess:
    """One renderer child, started on first use, used by one render at a time."""

    def __init__(self, budget: RenderBudget | None = None, max_renders: int = 200) -> None:
        self.budget = budget or RenderBudget()
        self.max_renders = max_renders
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._owner_pid = 0
        self._renders = 0

    def render(self, html: str, resources: Mapping[str, Resource] | None = None) -> RenderedPdf:
        """Render ``html`` in the child; images come only from ``resources``."""
        if len(html) > self.budget.max_html_chars:
            raise RenderBudgetExceeded(
                f"the sheet's HTML has {len(html):,} characters; "
                f"at most {self.budget.max_html_chars:,} are rendered"
            )
        request = (
            "render",
            html,
            {key: (item.data, item.content_type) for key, item in (resources or {}).items()},
        )
        with self._lock:
            reply = self._exchange(request, self.budget.seconds)
            self._renders += 1
            if self._renders >= self.max_renders:
                self._stop()
        status, payload = reply
        if status != "ok":
            raise RenderFailed(f"the renderer failed: {payload}")
        data, page_count, seal_box, served, refused = payload
        if len(data) > self.budget.max_pdf_bytes:
            raise RenderBudgetExceeded(
                f"the sheet's PDF has {len(data):,} bytes; "
                f"at most {self.budget.max_pdf_bytes:,} are accepted"
            )
        return RenderedPdf(data, page_count, seal_box, FetchLog(served, refused))

    def peak_memory_mb(self) -> float:
        """Return the renderer's peak resident memory so far (VmHWM), starting it if needed."""
        with self._lock:
            status, payload = self._exchange(("peak_memory",), 30.0)
        if status != "ok":
            raise RenderFailed(str(payload))
        return float(payload)

    @property
    def pid(self) -> int | None:
        """The running child's process id, if one runs."""
        return self._child.pid if self._child is not None else None

    def close(self) -> None:
        """Stop the child (a later render starts a new one)."""
        with self._lock:
            self._stop()

    def _exchange(self, request: tuple[Any, ...], seconds: float) -> tuple[str, Any]:
        child = self._running_child()
        deadline = time.monotonic() + seconds
        if child.stdin is None or child.stdout is None:  # never: Popen was given PIPE
            raise RenderFailed("the render process has no pipes")
        try:
            _write_frame(child.stdin, request)
            reply: tuple[str, Any] = _read_frame(child.stdout, deadline)
        except TimeoutError:
            self._stop()
            raise RenderBudgetExceeded(
                f"the render took longer than its budget of {seconds:g} s and was stopped"
            ) from None
        except (OSError, EOFError, pickle.UnpicklingError) as error:
            code = child.poll()
            self._stop()
            raise RenderFailed(f"the render process died (exit {code}): {error}") from error
        return reply

    def _running_child(self) -> subprocess.Popen[bytes]:
        if self._child is not None and self._owner_pid != os.getpid():
            self._child = None  # inherited through fork: the parent's child, not ours to use
        if self._child is not None and self._child.poll() is not None:
            self._stop()  # died while idle (killed, out of memory): close its pipes, start anew
        if self._child is None:
            environment = dict(os.environ)
            environment["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(_PROJECT_ROOT), environment.get("PYTHONPATH")])
            )
            self._child = subprocess.Popen(  # noqa: S603 - our interpreter, fixed module
                [sys.executable, "-m", "pdf.render_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=environment,
                close_fds=True,
            )
            self._owner_pid = os.getpid()
            self._renders = 0
        return self._child

    def _stop(self) -> None:
        child, self._child = self._child, None
        if child is None or self._owner_pid != os.getpid():
            return
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()
        if child.poll() is None:
            child.kill()
        child.wait()


def _write_frame(stream: IO[bytes], value: Any) -> None:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_FRAME_HEADER.pack(len(body)))
    stream.write(body)
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int, deadline: float | None) -> bytes:
    descriptor = stream.fileno()
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([descriptor], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(descriptor, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the pipe")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_frame(stream: IO[bytes], deadline: float | None = None) -> Any:
    (size,) = _FRAME_HEADER.unpack(_read_exactly(stream, _FRAME_HEADER.size, deadline))
    return pickle.loads(_read_exactly(stream, size, deadline))  # noqa: S301 - our own child


_shared: RenderProcess | None = None
_shared_lock = threading.Lock()


def shared_render_process() -> RenderProcess:
    """Return this process's renderer (one per worker process, stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RenderProcess()
            atexit.register(_shared.close)
        return _shared


def _peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve() -> None:
    """The child's loop: answer requests on stdin until the parent closes it."""
    # Frames go to a private copy of stdout; anything a library prints goes to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    from pdf.render import _import_weasyprint_keeping_pillow_strict, render_pdf

    _import_weasyprint_keeping_pillow_strict()  # the ~0.6 s, once, before the first sheet
    while True:
        try:
            request = _read_frame(requests)
        except EOFError:
            return
        reply: tuple[str, Any]
        try:
            if request[0] == "render":
                _, html, items = request
                resources = {key: Resource(data, kind) for key, (data, kind) in items.items()}
                rendered = render_pdf(html, resources)
                reply = (
                    "ok",
                    (
                        rendered.data,
                        rendered.page_count,
                        rendered.seal_box,
                        rendered.fetches.served,
                        rendered.fetches.refused,
                    ),
                )
            elif request[0] == "peak_memory":
                reply = ("ok", _peak_memory_mb())
            else:
                reply = ("error", f"unknown request {request[0]!r}")
        except Exception as error:  # noqa: BLE001 - reported to the parent, the loop goes on
            reply = ("error", f"{type(error).__name__}: {error}")
        _write_frame(replies, reply)


if __name__ == "__main__":
    serve()
