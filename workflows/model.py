"""Plain data describing a loaded workflow definition.

A definition is parsed from YAML by :mod:`workflows.schema`, checked by
:mod:`workflows.check` and then used, read-only, by :mod:`workflows.engine`.
Every parsed element remembers the line it came from so that problems can be
reported as ``file:line: message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

#: State categories, in the order a work order usually passes through them.
#: ``new``: not yet in a technician's hands (intake, triage, planning, scheduling);
#: ``active``: a technician (or dispatcher) is working on it;
#: ``waiting``: paused on someone outside (parts, customer, approval, follow-up);
#: ``done``: finished; ``cancelled``: abandoned.
CATEGORIES: Final = ("new", "active", "waiting", "done", "cancelled")
#: Categories of states that end a work order.
TERMINAL_CATEGORIES: Final = frozenset({"done", "cancelled"})
#: Roles a transition can be granted to; ``system`` is the scheduler and services.
ROLES: Final = ("admin", "manager", "dispatcher", "technician", "system", "customer")
#: Service-level clocks a state can start, stop, pause or resume.
CLOCKS: Final = ("respond", "arrive", "resolve", "followup")
#: What a state can do to a clock on entry.
CLOCK_OPERATIONS: Final = ("start", "stop", "pause", "resume")
#: Types of transition input fields.
INPUT_TYPES: Final = ("string", "text", "integer", "number", "boolean", "datetime", "enum")
#: Supported locales; anything else falls back to English.
LOCALES: Final = ("en", "zh_CN")
#: Longest ``string`` input accepted when the definition gives no ``max_length``.
DEFAULT_STRING_MAX_LENGTH: Final = 255


@dataclass(frozen=True)
class Reason:
    """Explain, in both languages, why something was refused."""

    code: str
    message_en: str
    message_zh_CN: str
    #: The input field the reason is about, if any.
    field: str | None = None

    def text(self, locale: str = "en") -> str:
        """Return the message in ``locale``, falling back to English."""
        if locale.replace("-", "_").lower() in {"zh_cn", "zh"}:
            return self.message_zh_CN
        return self.message_en


@dataclass(frozen=True)
class Labels:
    """Hold a display text in English and Simplified Chinese."""

    en: str
    zh_CN: str

    def text(self, locale: str = "en") -> str:
        """Return the label in ``locale``, falling back to English."""
        if locale.replace("-", "_").lower() in {"zh_cn", "zh"}:
            return self.zh_CN
        return self.en


@dataclass(frozen=True)
class Problem:
    """Describe one thing wrong with a definition file."""

    file: str
    line: int
    #: Short rule id, e.g. ``unreachable-state``; see :data:`workflows.check.RULES`.
    rule: str
    message: str

    def __str__(self) -> str:
        """Format as ``file:line: message [rule]``."""
        return f"{self.file}:{self.line}: {self.message} [{self.rule}]"


class DefinitionError(ValueError):
    """Signal that a definition file cannot be loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        """Keep the problems and use the first as the message."""
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid definition")


@dataclass(frozen=True)
class StateClocks:
    """List the clocks a state starts, stops, pauses and resumes on entry."""

    start: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()
    pause: tuple[str, ...] = ()
    resume: tuple[str, ...] = ()


@dataclass(frozen=True)
class State:
    """Describe one state of a workflow."""

    name: str
    category: str
    labels: Labels
    clocks: StateClocks = StateClocks()
    line: int = field(default=0, compare=False)

    @property
    def is_terminal(self) -> bool:
        """Return whether the state ends the work order."""
        return self.category in TERMINAL_CATEGORIES


@dataclass(frozen=True)
class InputField:
    """Describe one field a transition accepts in its payload."""

    name: str
    type: str
    required: bool = False
    max_length: int | None = None
    values: tuple[str, ...] = ()
    labels: Labels | None = None
    #: Display texts for enum values (value -> labels).
    value_labels: Mapping[str, Labels] = field(default_factory=dict)
    line: int = field(default=0, compare=False)

    @property
    def effective_max_length(self) -> int | None:
        """Return the longest accepted text, applying the ``string`` default."""
        if self.max_length is not None:
            return self.max_length
        if self.type == "string":
            return DEFAULT_STRING_MAX_LENGTH
        return None


@dataclass(frozen=True)
class GuardCall:
    """Name a guard and the arguments a transition gives it."""

    name: str
    args: Mapping[str, object] = field(default_factory=dict)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ActionCall:
    """Name an action and the parameters a transition or timer gives it."""

    name: str
    params: Mapping[str, object] = field(default_factory=dict)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Transition:
    """Describe one command that moves a work order between states."""

    name: str
    sources: tuple[str, ...]
    target: str
    labels: Labels
    roles: tuple[str, ...]
    #: Past-tense event kind recorded when the transition happens.
    event: str
    guards: tuple[GuardCall, ...] = ()
    input: tuple[InputField, ...] = ()
    actions: tuple[ActionCall, ...] = ()
    #: Whether this transition may leave a ``done`` state.
    reopen: bool = False
    line: int = field(default=0, compare=False)
    #: Line of each key's value (``from``, ``to``, ``roles``...).
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)

    def input_field(self, name: str) -> InputField | None:
        """Return the input field called ``name``, if declared."""
        for spec in self.input:
            if spec.name == name:
                return spec
        return None


@dataclass(frozen=True)
class Timer:
    """Describe actions to request when a work order stays too long in a state."""

    name: str
    state: str
    after: timedelta
    #: The ``after`` text as written, e.g. ``"1h"``.
    after_text: str
    #: Measure ``after`` in working time (business calendar) instead of wall-clock time.
    working: bool
    actions: tuple[ActionCall, ...]
    labels: Labels
    line: int = field(default=0, compare=False)
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Definition:
    """Hold one version of one workflow."""

    name: str
    version: int
    labels: Labels
    initial: str
    states: Mapping[str, State]
    transitions: tuple[Transition, ...]
    timers: tuple[Timer, ...] = ()
    #: Default deadlines per clock (e.g. ``respond: 10m``); policies may override them.
    deadlines: Mapping[str, timedelta] = field(default_factory=dict)
    description: Labels | None = None
    #: File the definition was loaded from ("" when built in code).
    source: str = field(default="", compare=False)
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> tuple[str, int]:
        """Return ``(name, version)``."""
        return (self.name, self.version)

    def transition(self, name: str) -> Transition | None:
        """Return the transition called ``name``, if any."""
        for transition in self.transitions:
            if transition.name == name:
                return transition
        return None

    def transitions_from(self, state: str) -> list[Transition]:
        """Return the transitions whose sources include ``state``, in file order."""
        return [t for t in self.transitions if state in t.sources]

    def timers_in(self, state: str) -> list[Timer]:
        """Return the timers watching ``state``, in file order."""
        return [t for t in self.timers if t.state == state]
