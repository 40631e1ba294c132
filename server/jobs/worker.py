"""The worker loop: relay outbox messages to their tasks until told to stop."""

from __future__ import annotations

import logging
import threading
from contextlib import suppress

from flask import Flask

from server.jobs import relay

log = logging.getLogger("fieldwork.worker")


def work(app: Flask, stop: threading.Event, *, idle_sleep: float = 1.0, batch: int = 20) -> None:
    """Run batches while there is work; sleep briefly when there is none; stop on ``stop``."""
    import server.jobs.tasks  # noqa: F401  (registers the tasks)

    worker = relay.worker_name()
    log.info("worker %s started", worker)
    while not stop.is_set():
        try:
            with app.app_context():
                handled = relay.run_once(worker, limit=batch)
        except Exception:  # noqa: BLE001 - a failing batch (database restart) must not end the loop
            log.exception("worker batch failed; retrying shortly")
            handled = 0
        if not handled:
            stop.wait(idle_sleep)
    log.info("worker %s stopped", worker)


def run_forever(app: Flask) -> None:
    """Run the worker in the foreground until interrupted (``flask worker``)."""
    with suppress(KeyboardInterrupt):
        work(app, threading.Event())
