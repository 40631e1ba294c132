"""Describe and validate the arguments of guards and actions written in definitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from workflows.durations import parse_duration


@dataclass(frozen=True)
class Param:
    """Describe one argument of a guard or an action."""

    #: ``str``, ``int``, ``bool``, ``choice``, ``choice_list``, ``str_list`` or ``duration``.
    kind: str
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None


@dataclass(frozen=True)
class Signature:
    """Describe all arguments of a guard or an action."""

    params: Mapping[str, Param] = field(default_factory=dict)
    #: Parameter that a bare value fills, as in ``- photos_at_least: 2``.
    primary: str | None = None


def _check_value(name: str, param: Param, value: object) -> str | None:
    if param.kind == "str":
        if not isinstance(value, str) or not value.strip():
            return f"{name} must be a non-empty text"
    elif param.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} must be a whole number"
        if param.minimum is not None and value < param.minimum:
            return f"{name} must be at least {param.minimum}"
    elif param.kind == "bool":
        if not isinstance(value, bool):
            return f"{name} must be true or false"
    elif param.kind == "choice":
        if value not in param.choices:
            return f"{name} must be one of {', '.join(param.choices)} (got {value!r})"
    elif param.kind in {"choice_list", "str_list"}:
        if isinstance(value, str) or not isinstance(value, Sequence) or not value:
            return f"{name} must be a non-empty list"
        for item in value:
            if not isinstance(item, str):
                return f"{name} must list texts (got {item!r})"
            if param.kind == "choice_list" and item not in param.choices:
                return f"{name} must list values from {', '.join(param.choices)} (got {item!r})"
    elif param.kind == "duration":
        if not isinstance(value, str):
            return f"{name} must be a duration such as '1 working day'"
        try:
            parse_duration(value)
        except ValueError as exc:
            return f"{name}: {exc}"
    return None


def bind_arguments(signature: Signature, raw: object) -> tuple[dict[str, object], list[str]]:
    """Match ``raw`` (None, a bare value or a mapping) to ``signature``.

    Returns:
        The arguments with defaults filled in, and a list of error messages.
    """
    errors: list[str] = []
    given: dict[str, object]
    if raw is None:
        given = {}
    elif isinstance(raw, Mapping):
        given = {str(k): v for k, v in raw.items()}
    elif signature.primary is not None:
        given = {signature.primary: raw}
    elif not signature.params:
        return {}, ["takes no arguments"]
    else:
        return {}, [f"takes named arguments: {', '.join(signature.params)}"]
    bound: dict[str, object] = {}
    for key, value in given.items():
        param = signature.params.get(key)
        if param is None:
            known = ", ".join(signature.params) or "none"
            errors.append(f"unknown argument {key!r} (known: {known})")
            continue
        error = _check_value(key, param, value)
        if error is not None:
            errors.append(error)
            continue
        bound[key] = list(value) if isinstance(value, list) else value
    for key, param in signature.params.items():
        if key in given:
            continue
        if param.required:
            errors.append(f"missing argument {key!r}")
        elif param.default is not None:
            bound[key] = list(param.default) if isinstance(param.default, tuple) else param.default
    return bound, errors
