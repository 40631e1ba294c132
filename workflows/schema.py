"""Read a definition file against a hand-written schema, reporting ``file:line: message``.

The YAML is composed into nodes (which carry line numbers) rather than loaded into
plain Python values, so every problem points at the line that causes it. Checks that
need the whole definition (reachability, references between states) live in
:mod:`workflows.check`; this module checks shape, types, allowed values, and the
names and arguments of guards and actions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from workflows.actions import action_specs
from workflows.durations import parse_duration
from workflows.guards import guard_specs
from workflows.model import (
    CATEGORIES,
    CLOCK_OPERATIONS,
    CLOCKS,
    INPUT_TYPES,
    ROLES,
    ActionCall,
    Definition,
    GuardCall,
    InputField,
    Labels,
    Problem,
    State,
    StateClocks,
    Timer,
    Transition,
)
from workflows.params import bind_arguments

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_EVENT_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*$")

#: Past tenses that the simple spelling rules would get wrong.
_PAST_TENSE = {
    "begin": "begun",
    "cancel": "cancelled",
    "drop": "dropped",
    "hold": "held",
    "plan": "planned",
    "put": "put",
    "send": "sent",
    "set": "set",
    "skip": "skipped",
    "stop": "stopped",
    "submit": "submitted",
}


def derive_event_kind(transition_name: str) -> str:
    """Derive the event kind of a transition: ``start_travel`` -> ``WorkOrderTravelStarted``."""
    verb, *rest = transition_name.split("_")
    if verb in _PAST_TENSE:
        past = _PAST_TENSE[verb]
    elif verb.endswith("e"):
        past = verb + "d"
    elif verb.endswith("y") and len(verb) > 1 and verb[-2] not in "aeiou":
        past = verb[:-1] + "ied"
    else:
        past = verb + "ed"
    return "WorkOrder" + "".join(word.capitalize() for word in rest) + past.capitalize()


@dataclass
class ParseResult:
    """Hold what parsing produced: a definition (None if its shape is broken) and problems."""

    definition: Definition | None
    problems: list[Problem] = field(default_factory=list)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Parser:
    """Walk the node tree of one file, collecting problems as it goes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.broken = False
        self._constructor = SafeConstructor()

    # -- reporting ----------------------------------------------------------------
    def problem(self, node: Node | int, message: str, rule: str = "schema") -> None:
        line = node if isinstance(node, int) else _line(node)
        self.problems.append(Problem(self.file, line, rule, message))
        if rule == "schema":
            self.broken = True

    # -- primitive shapes ---------------------------------------------------------
    def mapping(
        self,
        node: Node,
        what: str,
        required: tuple[str, ...] = (),
        optional: tuple[str, ...] = (),
        open_keys: bool = False,
    ) -> dict[str, tuple[Node, Node]] | None:
        """Return key -> (key node, value node), checking the key set."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping")
            return None
        result: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str):
                self.problem(key_node, f"{what}: keys must be texts, got {key!r}")
                continue
            if key in result:
                self.problem(key_node, f"{what}: duplicate key '{key}'")
                continue
            if not open_keys and key not in required and key not in optional:
                allowed = ", ".join(required + optional)
                self.problem(key_node, f"{what}: unknown key '{key}' (allowed: {allowed})")
                continue
            result[key] = (key_node, value_node)
        for key in required:
            if key not in result:
                self.problem(node, f"{what}: missing required key '{key}'")
        return result

    def scalar(self, node: Node) -> object:
        if not isinstance(node, ScalarNode):
            return node
        return self._constructor.construct_object(node)

    def text(self, node: Node, what: str) -> str | None:
        value = self.scalar(node)
        if not isinstance(value, str) or not value.strip():
            self.problem(node, f"{what} must be a non-empty text")
            return None
        return value

    def identifier(self, node: Node, what: str) -> str | None:
        value = self.text(node, what)
        if value is not None and not _IDENTIFIER.match(value):
            self.problem(node, f"{what} '{value}' must be lower_snake_case")
            return None
        return value

    def choice(self, node: Node, what: str, choices: tuple[str, ...]) -> str | None:
        value = self.scalar(node)
        if not isinstance(value, str) or value not in choices:
            self.problem(node, f"{what} must be one of {', '.join(choices)}, got {value!r}")
            return None
        return value

    def boolean(self, node: Node, what: str) -> bool | None:
        value = self.scalar(node)
        if not isinstance(value, bool):
            self.problem(node, f"{what} must be true or false, got {value!r}")
            return None
        return value

    def integer(self, node: Node, what: str, minimum: int = 1) -> int | None:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.problem(node, f"{what} must be a whole number >= {minimum}, got {value!r}")
            return None
        return value

    def sequence(self, node: Node, what: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what} must be a list")
            return None
        return list(node.value)

    def choices(self, node: Node, what: str, choices: tuple[str, ...]) -> tuple[str, ...]:
        items = self.sequence(node, what)
        if items is None:
            return ()
        result: list[str] = []
        for item in items:
            value = self.choice(item, f"{what} item", choices)
            if value is not None and value not in result:
                result.append(value)
        return tuple(result)

    def labels(self, node: Node, what: str) -> Labels | None:
        keys = self.mapping(node, f"{what} labels", required=("en", "zh_CN"))
        if keys is None or "en" not in keys or "zh_CN" not in keys:
            return None
        en = self.text(keys["en"][1], f"{what} labels.en")
        zh = self.text(keys["zh_CN"][1], f"{what} labels.zh_CN")
        if en is None or zh is None:
            return None
        return Labels(en.strip(), zh.strip())

    def duration(self, node: Node, what: str) -> tuple[timedelta, str, bool] | None:
        value = self.scalar(node)
        if not isinstance(value, str):
            self.problem(node, f"{what} must be a duration such as 30m, 1h or 3d, got {value!r}")
            return None
        try:
            parsed = parse_duration(value)
        except ValueError as exc:
            self.problem(node, f"{what}: {exc}")
            return None
        return parsed.delta, value, parsed.working

    def plain(self, node: Node) -> object:
        """Convert a node to plain Python values (for guard and action arguments)."""
        if isinstance(node, MappingNode):
            return {self.scalar(k): self.plain(v) for k, v in node.value}
        if isinstance(node, SequenceNode):
            return [self.plain(item) for item in node.value]
        return self.scalar(node)

    # -- sections -----------------------------------------------------------------
    def call(self, node: Node, what: str) -> tuple[str, object, int] | None:
        """Read ``- name`` or ``- name: args`` into (name, raw args, line)."""
        if isinstance(node, ScalarNode):
            name = self.text(node, what)
            return None if name is None else (name, None, _line(node))
        if isinstance(node, MappingNode) and len(node.value) == 1:
            key_node, value_node = node.value[0]
            name = self.text(key_node, what)
            return None if name is None else (name, self.plain(value_node), _line(key_node))
        self.problem(node, f"{what} must be a name, or a mapping of one name to its arguments")
        return None

    def guards(self, node: Node, where: str) -> tuple[GuardCall, ...]:
        result: list[GuardCall] = []
        specs = guard_specs()
        for item in self.sequence(node, f"{where} guards") or []:
            call = self.call(item, f"{where} guard")
            if call is None:
                continue
            name, raw, line = call
            spec = specs.get(name)
            if spec is None:
                known = ", ".join(sorted(specs))
                self.problem(
                    line, f"{where}: unknown guard '{name}' (known: {known})", "unknown-guard"
                )
                result.append(GuardCall(name, {}, line))
                continue
            args, errors = bind_arguments(spec.signature, raw)
            for error in errors:
                self.problem(line, f"{where}: guard '{name}': {error}", "bad-guard-args")
            result.append(GuardCall(name, args, line))
        return tuple(result)

    def actions(self, node: Node, where: str) -> tuple[ActionCall, ...]:
        result: list[ActionCall] = []
        specs = action_specs()
        for item in self.sequence(node, f"{where} actions") or []:
            call = self.call(item, f"{where} action")
            if call is None:
                continue
            name, raw, line = call
            spec = specs.get(name)
            if spec is None:
                known = ", ".join(sorted(specs))
                self.problem(
                    line, f"{where}: unknown action '{name}' (known: {known})", "unknown-action"
                )
                result.append(ActionCall(name, {}, line))
                continue
            params, errors = bind_arguments(spec.signature, raw)
            for error in errors:
                self.problem(line, f"{where}: action '{name}': {error}", "bad-action-args")
            result.append(ActionCall(name, params, line))
        return tuple(result)

    def input_field(self, name: str, key_node: Node, node: Node, where: str) -> InputField | None:
        what = f"{where} input '{name}'"
        keys = self.mapping(
            node,
            what,
            required=("type",),
            optional=("required", "max_length", "values", "labels", "value_labels"),
        )
        if keys is None or "type" not in keys:
            return None
        kind = self.choice(keys["type"][1], f"{what} type", INPUT_TYPES)
        required = False
        if "required" in keys:
            required = bool(self.boolean(keys["required"][1], f"{what} required"))
        max_length: int | None = None
        if "max_length" in keys:
            if kind not in {"string", "text"}:
                self.problem(keys["max_length"][0], f"{what}: max_length is only for string/text")
            max_length = self.integer(keys["max_length"][1], f"{what} max_length")
        values: tuple[str, ...] = ()
        if kind == "enum":
            if "values" not in keys:
                self.problem(node, f"{what}: an enum needs 'values'")
            else:
                items = self.sequence(keys["values"][1], f"{what} values") or []
                found = [self.identifier(item, f"{what} value") for item in items]
                values = tuple(v for v in found if v is not None)
                if not items:
                    self.problem(keys["values"][1], f"{what}: values must not be empty")
                if len(set(values)) != len(values):
                    self.problem(keys["values"][1], f"{what}: values must be unique")
        elif "values" in keys:
            self.problem(keys["values"][0], f"{what}: values are only for type enum")
        labels = self.labels(keys["labels"][1], what) if "labels" in keys else None
        value_labels: dict[str, Labels] = {}
        if "value_labels" in keys:
            entries = self.mapping(keys["value_labels"][1], f"{what} value_labels", open_keys=True)
            for value, (value_key, value_node) in (entries or {}).items():
                if value not in values:
                    self.problem(value_key, f"{what}: value_labels names unknown value '{value}'")
                    continue
                parsed = self.labels(value_node, f"{what} value '{value}'")
                if parsed is not None:
                    value_labels[value] = parsed
        if kind is None:
            return None
        return InputField(
            name=name,
            type=kind,
            required=required,
            max_length=max_length,
            values=values,
            labels=labels,
            value_labels=value_labels,
            line=_line(key_node),
        )

    def transition(self, node: Node, index: int) -> Transition | None:
        keys = self.mapping(
            node,
            f"transition #{index + 1}",
            required=("name", "from", "to", "labels", "roles"),
            optional=("event", "guards", "input", "actions", "reopen"),
        )
        if keys is None:
            return None
        name = self.identifier(keys["name"][1], "transition name") if "name" in keys else None
        where = f"transition '{name or index + 1}'"
        lines = {key: _line(value) for key, (_, value) in keys.items()}
        sources: list[str] = []
        if "from" in keys:
            from_node = keys["from"][1]
            if isinstance(from_node, SequenceNode):
                for item in from_node.value:
                    state = self.identifier(item, f"{where} from")
                    if state is not None and state not in sources:
                        sources.append(state)
                if not from_node.value:
                    self.problem(from_node, f"{where}: 'from' must name at least one state")
            else:
                state = self.identifier(from_node, f"{where} from")
                if state is not None:
                    sources.append(state)
        target = self.identifier(keys["to"][1], f"{where} to") if "to" in keys else None
        labels = self.labels(keys["labels"][1], where) if "labels" in keys else None
        roles = self.choices(keys["roles"][1], f"{where} roles", ROLES) if "roles" in keys else ()
        event: str | None = None
        if "event" in keys:
            event = self.text(keys["event"][1], f"{where} event")
            if event is not None and not _EVENT_KIND.match(event):
                self.problem(keys["event"][1], f"{where}: event '{event}' must be CamelCase")
        guards = self.guards(keys["guards"][1], where) if "guards" in keys else ()
        fields: list[InputField] = []
        if "input" in keys:
            entries = self.mapping(keys["input"][1], f"{where} input", open_keys=True) or {}
            for field_name, (key_node, value_node) in entries.items():
                if not _IDENTIFIER.match(field_name):
                    self.problem(
                        key_node, f"{where}: input '{field_name}' must be lower_snake_case"
                    )
                    continue
                spec = self.input_field(field_name, key_node, value_node, where)
                if spec is not None:
                    fields.append(spec)
        actions = self.actions(keys["actions"][1], where) if "actions" in keys else ()
        reopen = False
        if "reopen" in keys:
            reopen = bool(self.boolean(keys["reopen"][1], f"{where} reopen"))
        if name is None or target is None or labels is None or not sources:
            return None
        return Transition(
            name=name,
            sources=tuple(sources),
            target=target,
            labels=labels,
            roles=roles,
            event=event or derive_event_kind(name),
            guards=guards,
            input=tuple(fields),
            actions=actions,
            reopen=reopen,
            line=_line(node),
            lines=lines,
        )

    def state(self, name: str, key_node: Node, node: Node) -> State | None:
        what = f"state '{name}'"
        keys = self.mapping(node, what, required=("category", "labels"), optional=("clocks",))
        if keys is None:
            return None
        category = (
            self.choice(keys["category"][1], f"{what} category", CATEGORIES)
            if "category" in keys
            else None
        )
        labels = self.labels(keys["labels"][1], what) if "labels" in keys else None
        clocks = StateClocks()
        if "clocks" in keys:
            ops = self.mapping(keys["clocks"][1], f"{what} clocks", optional=CLOCK_OPERATIONS)
            found = {
                op: self.choices(value, f"{what} clocks.{op}", CLOCKS)
                for op, (_, value) in (ops or {}).items()
            }
            clocks = StateClocks(**found)
        if category is None or labels is None:
            return None
        return State(name, category, labels, clocks, line=_line(key_node))

    def timer(self, node: Node, index: int) -> Timer | None:
        keys = self.mapping(
            node,
            f"timer #{index + 1}",
            required=("name", "state", "after", "actions", "labels"),
            optional=("working",),
        )
        if keys is None:
            return None
        name = self.identifier(keys["name"][1], "timer name") if "name" in keys else None
        where = f"timer '{name or index + 1}'"
        state = self.identifier(keys["state"][1], f"{where} state") if "state" in keys else None
        after = self.duration(keys["after"][1], f"{where} after") if "after" in keys else None
        working = after[2] if after is not None else False
        if "working" in keys:
            working = bool(self.boolean(keys["working"][1], f"{where} working"))
        actions = self.actions(keys["actions"][1], where) if "actions" in keys else ()
        if "actions" in keys and isinstance(keys["actions"][1], SequenceNode) and not actions:
            self.problem(keys["actions"][1], f"{where}: actions must not be empty")
        labels = self.labels(keys["labels"][1], where) if "labels" in keys else None
        if name is None or state is None or after is None or labels is None:
            return None
        return Timer(
            name=name,
            state=state,
            after=after[0],
            after_text=after[1],
            working=working,
            actions=actions,
            labels=labels,
            line=_line(node),
            lines={key: _line(value) for key, (_, value) in keys.items()},
        )

    def definition(self, root: Node) -> Definition | None:
        keys = self.mapping(
            root,
            "workflow",
            required=("name", "version", "labels", "initial", "states", "transitions"),
            optional=("description", "timers", "deadlines"),
        )
        if keys is None:
            return None
        lines = {key: _line(value) for key, (_, value) in keys.items()}
        name = self.identifier(keys["name"][1], "name") if "name" in keys else None
        version = self.integer(keys["version"][1], "version") if "version" in keys else None
        labels = self.labels(keys["labels"][1], "workflow") if "labels" in keys else None
        description = (
            self.labels(keys["description"][1], "description") if "description" in keys else None
        )
        initial = self.identifier(keys["initial"][1], "initial") if "initial" in keys else None
        deadlines: dict[str, timedelta] = {}
        if "deadlines" in keys:
            entries = self.mapping(keys["deadlines"][1], "deadlines", optional=CLOCKS) or {}
            for clock, (_, value_node) in entries.items():
                parsed = self.duration(value_node, f"deadline '{clock}'")
                if parsed is not None:
                    deadlines[clock] = parsed[0]
        states: dict[str, State] = {}
        if "states" in keys:
            entries = self.mapping(keys["states"][1], "states", open_keys=True) or {}
            if not entries and isinstance(keys["states"][1], MappingNode):
                self.problem(keys["states"][1], "states must not be empty")
            for state_name, (key_node, value_node) in entries.items():
                if not _IDENTIFIER.match(state_name):
                    self.problem(key_node, f"state '{state_name}' must be lower_snake_case")
                    continue
                state = self.state(state_name, key_node, value_node)
                if state is not None:
                    states[state_name] = state
        transitions: list[Transition] = []
        if "transitions" in keys:
            items = self.sequence(keys["transitions"][1], "transitions") or []
            for index, item in enumerate(items):
                transition = self.transition(item, index)
                if transition is not None:
                    transitions.append(transition)
        timers: list[Timer] = []
        if "timers" in keys:
            items = self.sequence(keys["timers"][1], "timers") or []
            for index, item in enumerate(items):
                timer = self.timer(item, index)
                if timer is not None:
                    timers.append(timer)
        if self.broken or name is None or version is None or labels is None or initial is None:
            return None
        return Definition(
            name=name,
            version=version,
            labels=labels,
            initial=initial,
            states=states,
            transitions=tuple(transitions),
            timers=tuple(timers),
            deadlines=deadlines,
            description=description,
            source=self.file,
            lines=lines,
        )


def parse_definition(text: str, file: str = "<string>") -> ParseResult:
    """Parse the YAML ``text`` of one definition; ``file`` names it in problems."""
    parser = _Parser(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else 1
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        return ParseResult(None, [Problem(file, line, "schema", f"invalid YAML: {message}")])
    except yaml.YAMLError as exc:
        return ParseResult(None, [Problem(file, 1, "schema", f"invalid YAML: {exc}")])
    if root is None:
        return ParseResult(None, [Problem(file, 1, "schema", "the file is empty")])
    definition = parser.definition(root)
    return ParseResult(definition, parser.problems)
