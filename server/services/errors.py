"""What a use case says when it refuses; edges turn these into HTTP answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ServiceError(Exception):
    """A use case refused; ``code`` is stable, ``message`` is for people."""

    #: HTTP status the edges answer with.
    status = 400

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(ServiceError):
    """A referenced object does not exist (or is not visible)."""

    status = 404


class InvalidInput(ServiceError):
    """Input is well-formed but not acceptable; ``errors`` is keyed by field."""

    status = 422

    def __init__(
        self, errors: Mapping[str, Sequence[str]], message: str = "Invalid input."
    ) -> None:
        super().__init__(
            "validation_failed", message, errors={k: list(v) for k, v in errors.items()}
        )


class VersionConflict(ServiceError):
    """The caller's ``expected_version`` is stale."""

    status = 409

    def __init__(self, current_version: int, **details: Any) -> None:
        super().__init__(
            "version_conflict",
            "This record changed since you loaded it; reload and try again.",
            current_version=current_version,
            **details,
        )


class Refused(ServiceError):
    """A workflow step is not allowed now; ``reasons`` say why."""

    status = 422


class QuotaExceeded(ServiceError):
    """Storing this would exceed a quota; ``limit`` and ``used`` are in the details.

    With ``retry_after`` (seconds) the quota frees up by itself (a rolling window, uploads
    that expire), so the answer is 429 and the caller should wait; without it the caller has
    to free something first, so the answer is 413.
    """

    status = 413

    def __init__(
        self,
        code: str,
        message: str,
        *,
        limit: int,
        used: int,
        retry_after: int | None = None,
        **details: Any,
    ) -> None:
        super().__init__(code, message, limit=limit, used=used, **details)
        self.retry_after = retry_after
        if retry_after is not None:
            self.status = 429
