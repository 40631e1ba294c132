"""``/api/v1/openapi.json``: the integration API's OpenAPI 3 document."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify

from server.api import bp
from server.openapi import build_openapi
from server.operations import operation


def _order_links(order_id: str, version: str) -> dict[str, dict[str, Any]]:
    """Where an answer naming a work order leads: read it, change it, dispatch it."""
    path = {"order_id": order_id}
    current = {"expected_version": version}
    return {
        "GetWorkOrder": {"operationId": "get_work_order_view", "parameters": path},
        "UpdateWorkOrder": {
            "operationId": "update_work_order_view",
            "parameters": path,
            "requestBody": current,
        },
        "AssignWorkOrder": {
            "operationId": "assign_work_order_view",
            "parameters": path,
            "requestBody": current,
        },
        "UnassignWorkOrder": {
            "operationId": "unassign_work_order_view",
            "parameters": path,
            "requestBody": current,
        },
        "ApplyTransition": {
            "operationId": "transition_work_order_view",
            "parameters": path,
            "requestBody": current,
        },
        "ListTransitions": {"operationId": "list_transitions_view", "parameters": path},
        "ListRecommendations": {"operationId": "list_recommendations", "parameters": path},
    }


def _customer_links(customer_id: str, site_id: str | None = None) -> dict[str, dict[str, Any]]:
    """Where an answer naming a customer leads: their file, contacts, sites and a new order."""
    path = {"customer_id": customer_id}
    order = {"customer_id": customer_id} | ({"site_id": site_id} if site_id else {})
    return {
        "GetCustomer": {"operationId": "get_customer", "parameters": path},
        "ListCustomerWorkOrders": {
            "operationId": "list_work_orders_view",
            "parameters": {"customer_id": customer_id},
        },
        "UpdateCustomer": {"operationId": "update_customer_view", "parameters": path},
        "AddContact": {"operationId": "add_contact_view", "parameters": path},
        "AddSite": {"operationId": "add_site_view", "parameters": path},
        "CreateWorkOrder": {"operationId": "create_work_order_view", "requestBody": order},
    }


def _webhook_links(webhook_id: str) -> dict[str, dict[str, Any]]:
    """Where an answer naming a webhook subscription leads."""
    path = {"webhook_id": webhook_id}
    return {
        "ListWebhookDeliveries": {"operationId": "list_webhook_deliveries", "parameters": path},
        "DeleteWebhook": {"operationId": "delete_webhook_view", "parameters": path},
    }


_ORDER = _order_links("$response.body#/id", "$response.body#/version")

#: OpenAPI links: which answer feeds which request (clients and stateful tests follow them).
LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "list_work_orders_view": _order_links(
        "$response.body#/items/0/id", "$response.body#/items/0/version"
    ),
    "create_work_order_view": _ORDER,
    "get_work_order_view": _ORDER,
    "update_work_order_view": _ORDER,
    "assign_work_order_view": _ORDER,
    "unassign_work_order_view": _ORDER,
    "transition_work_order_view": _ORDER,
    "list_transitions_view": {
        "ApplyTransition": {
            "operationId": "transition_work_order_view",
            "parameters": {"order_id": "$request.path.order_id"},
            "requestBody": {
                "transition": "$response.body#/items/0/name",
                "expected_version": "$response.body#/version",
            },
        },
        "GetWorkOrder": {
            "operationId": "get_work_order_view",
            "parameters": {"order_id": "$request.path.order_id"},
        },
    },
    "list_recommendations": {
        "AssignRecommended": {
            "operationId": "assign_work_order_view",
            "parameters": {"order_id": "$request.path.order_id"},
            "requestBody": {"technician_id": "$response.body#/items/0/technician_id"},
        },
        "GetTechnician": {
            "operationId": "get_technician",
            "parameters": {"technician_id": "$response.body#/items/0/technician_id"},
        },
    },
    "list_categories": {
        "ListCategoryWorkOrders": {
            "operationId": "list_work_orders_view",
            "parameters": {"category": "$response.body#/items/0/code"},
        },
        "CreateWorkOrder": {
            "operationId": "create_work_order_view",
            "requestBody": {"category_id": "$response.body#/items/0/id"},
        },
    },
    "list_customers": _customer_links("$response.body#/items/0/id"),
    "create_customer_view": _customer_links("$response.body#/id", "$response.body#/sites/0/id"),
    "get_customer": _customer_links("$response.body#/id", "$response.body#/sites/0/id"),
    "update_customer_view": _customer_links("$response.body#/id", "$response.body#/sites/0/id"),
    "add_contact_view": {
        "GetCustomer": {
            "operationId": "get_customer",
            "parameters": {"customer_id": "$request.path.customer_id"},
        },
    },
    "add_site_view": {
        "AddAsset": {
            "operationId": "add_asset_view",
            "parameters": {
                "customer_id": "$request.path.customer_id",
                "site_id": "$response.body#/id",
            },
        },
        "CreateWorkOrder": {
            "operationId": "create_work_order_view",
            "requestBody": {
                "customer_id": "$request.path.customer_id",
                "site_id": "$response.body#/id",
            },
        },
    },
    "add_asset_view": {
        "CreateWorkOrder": {
            "operationId": "create_work_order_view",
            "requestBody": {
                "customer_id": "$request.path.customer_id",
                "site_id": "$request.path.site_id",
                "asset_id": "$response.body#/id",
            },
        },
    },
    "list_technicians": {
        "GetTechnician": {
            "operationId": "get_technician",
            "parameters": {"technician_id": "$response.body#/items/0/id"},
        },
        "ListTechnicianWorkOrders": {
            "operationId": "list_work_orders_view",
            "parameters": {"assignee_id": "$response.body#/items/0/id"},
        },
    },
    "get_technician": {
        "ListTechnicianWorkOrders": {
            "operationId": "list_work_orders_view",
            "parameters": {"assignee_id": "$response.body#/id"},
        },
    },
    "list_webhooks": _webhook_links("$response.body#/items/0/id"),
    "create_webhook_view": _webhook_links("$response.body#/id"),
}


@bp.get("/openapi.json")
@operation("This OpenAPI document.", public=True, tag="meta")
def openapi_document() -> Response:
    """Serve the OpenAPI document of ``/api/v1``."""
    return jsonify(
        build_openapi(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            "api",
            "/api/v1",
            "Fieldwork integration API",
            links=LINKS,
        )
    )
