"""Parse the short durations written in definitions (``10m``, ``1h``, ``3d``, ``1 working day``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

_UNITS = {
    "m": "minutes",
    "min": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
}

_PATTERN = re.compile(r"^\s*(\d+)\s*(working\s+)?([a-z]+)\s*$")


@dataclass(frozen=True)
class Duration:
    """Hold a parsed duration: an amount of a unit, in wall-clock or working time."""

    amount: int
    #: ``minutes``, ``hours`` or ``days``.
    unit: str
    working: bool = False

    @property
    def delta(self) -> timedelta:
        """Return the wall-clock length (a working day counts as 24 hours here)."""
        return timedelta(**{self.unit: self.amount})


def parse_duration(text: str) -> Duration:
    """Parse ``text`` such as ``30m``, ``1h``, ``3d`` or ``1 working day``.

    Raises:
        ValueError: if the text is not a positive duration.
    """
    match = _PATTERN.match(text.lower())
    if match is None or match.group(3) not in _UNITS:
        raise ValueError(f"{text!r} is not a duration (write e.g. 30m, 1h, 3d or '1 working day')")
    amount = int(match.group(1))
    if amount <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return Duration(amount, _UNITS[match.group(3)], working=match.group(2) is not None)
