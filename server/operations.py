"""Per-view metadata: who may call it and the schemas that document it in OpenAPI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from marshmallow import Schema

from server.auth.permissions import Capability
from server.auth.tokens import SignInReads

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    """What the permission check and the OpenAPI generator know about a view."""

    summary: str
    capability: Capability | None
    public: bool = False
    body: Schema | None = None
    args: Schema | None = None
    response: Schema | None = None
    status: int = 200
    tag: str = ""
    errors: tuple[int, ...] = ()
    description: str = ""
    body_content_type: str = "application/json"
    #: Largest request body accepted, in bytes (None: the API's default).
    max_body: int | None = None
    #: Rows the view needs on every call, read with the sign-in check (``g.sign_in_reads``).
    sign_in_reads: SignInReads | None = None


def operation(
    summary: str,
    *,
    capability: Capability | None = None,
    public: bool = False,
    body: Schema | None = None,
    args: Schema | None = None,
    response: Schema | None = None,
    status: int = 200,
    tag: str = "",
    errors: tuple[int, ...] = (),
    description: str = "",
    body_content_type: str = "application/json",
    max_body: int | None = None,
    sign_in_reads: SignInReads | None = None,
) -> Callable[[F], F]:
    """Attach an ``Operation`` to a view; views without one are refused (deny by default)."""

    def decorate(view: F) -> F:
        view.operation = Operation(  # type: ignore[attr-defined]
            summary,
            capability,
            public,
            body,
            args,
            response,
            status,
            tag,
            errors,
            description,
            body_content_type,
            max_body,
            sign_in_reads,
        )
        return view

    return decorate
