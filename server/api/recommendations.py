"""``/api/v1/work-orders/{id}/recommendations``: who should take this job, and why."""

from __future__ import annotations

from collections import Counter

from flask import Response, g, jsonify
from marshmallow import Schema, fields, validate

from server.api import bp
from server.auth.permissions import Capability, get_work_order
from server.operations import operation
from server.problems import load_args
from server.services.dispatch import describe_ranking, recommend_for_order


class RecommendationArgsSchema(Schema):
    """How many candidates to return."""

    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class ScorePartSchema(Schema):
    """One part of a score: minutes and a sentence."""

    code = fields.String()
    minutes = fields.Float()
    text = fields.String()


class RecommendationSchema(Schema):
    """One eligible technician, the score and its parts."""

    technician_id = fields.Integer()
    name = fields.String()
    rank = fields.Integer()
    cost_minutes = fields.Float()
    travel_minutes = fields.Float(allow_none=True)
    summary = fields.String()
    parts = fields.List(fields.Nested(ScorePartSchema))


class RecommendationListSchema(Schema):
    """Eligible technicians best first, and how many were refused by which rule."""

    work_order_id = fields.Integer()
    items = fields.List(fields.Nested(RecommendationSchema))
    eligible_count = fields.Integer()
    refused = fields.Dict(keys=fields.String(), values=fields.Integer())


@bp.get("/work-orders/<int:order_id>/recommendations")
@operation(
    "Rank the technicians who may take the order, each score shown in words.",
    capability=Capability.WORK_ORDERS_ASSIGN,
    args=RecommendationArgsSchema(),
    response=RecommendationListSchema(),
    tag="work-orders",
    errors=(404, 422),
)
def list_recommendations(order_id: int) -> Response:
    """Return the eligible technicians for an order, best first, with the parts of each score."""
    args = load_args(RecommendationArgsSchema())
    order = get_work_order(g.api_user, order_id)
    ranking = recommend_for_order(order, limit=args["limit"])
    refused = Counter(reasons[0].code for reasons in ranking.refused.values())
    return jsonify(
        {
            "work_order_id": order.id,
            "items": describe_ranking(ranking, g.api_user.locale),
            "eligible_count": ranking.eligible_count,
            "refused": dict(sorted(refused.items())),
        }
    )
