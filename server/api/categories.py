"""``/api/v1/categories``: request classes and the workflow each follows."""

from __future__ import annotations

from flask import Response, jsonify
from marshmallow import Schema, fields
from sqlalchemy import select

from server.api import bp
from server.auth.permissions import Capability
from server.extensions import db
from server.models import Category
from server.operations import operation


class CategorySchema(Schema):
    """A request category."""

    id = fields.Integer()
    code = fields.String()
    name_en = fields.String()
    name_zh = fields.String()
    default_priority = fields.String()
    workflow_name = fields.String()
    required_skill = fields.String(allow_none=True)
    required_skill_level = fields.Integer()
    is_active = fields.Boolean()


class CategoryListSchema(Schema):
    """All categories."""

    items = fields.List(fields.Nested(CategorySchema))


@bp.get("/categories")
@operation(
    "List the request categories.",
    capability=Capability.CATEGORIES_READ,
    response=CategoryListSchema(),
    tag="categories",
)
def list_categories() -> Response:
    """List every category, active first."""
    rows = db.session.scalars(select(Category).order_by(Category.is_active.desc(), Category.code))
    return jsonify(CategoryListSchema().dump({"items": list(rows)}))
