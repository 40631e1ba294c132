"""Schema fields and limits shared by the ``/api/v1`` schemas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

#: Largest id we accept; bigger numbers cannot name a row and would overflow the column.
MAX_ID = 2**31 - 1
#: Largest page a list returns.
MAX_PAGE_SIZE = 200


def Id(**kwargs: Any) -> fields.Integer:  # noqa: N802 - reads like a field class
    """Return a strict positive integer id field."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def Text(max_length: int, **kwargs: Any) -> fields.String:  # noqa: N802
    """Return a string field with a length limit."""
    minimum = 1 if kwargs.get("required") else 0
    return fields.String(validate=validate.Length(min=minimum, max=max_length), **kwargs)


class DelimitedList(fields.List):
    """A list given in the query string as comma-separated values (``state=new,assigned``)."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        if not isinstance(value, str):
            raise ValidationError("Give comma-separated values.")
        items = [item.strip() for item in value.split(",") if item.strip()]
        if len(items) > 50:
            raise ValidationError("Give at most 50 values.")
        return super()._deserialize(items, attr, data, **kwargs)


class PageArgsSchema(Schema):
    """Cursor pagination arguments."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = fields.String(validate=validate.Length(max=500))


class Ref(Schema):
    """A reference to another resource: its id and a name to show."""

    id = fields.Integer()
    name = fields.String()
