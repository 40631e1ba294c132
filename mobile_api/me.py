"""The technician themself: profile, status, registered phones."""

from __future__ import annotations

from flask import Response, current_app, g, jsonify

from mobile_api import bp
from mobile_api.schemas import (
    DeviceRegisterSchema,
    DeviceSchema,
    MeSchema,
    NotificationPreferencesSchema,
    StatusSchema,
    StatusUpdateSchema,
    WebPushKeySchema,
    WebPushSubscriptionSchema,
)
from server.auth.permissions import Capability
from server.idempotency import idempotent
from server.operations import operation
from server.problems import load_json
from server.services.devices import (
    current_availability,
    register_device,
    register_web_push,
    set_availability,
    unregister_device,
)
from server.services.notification_preferences import preferences_of, set_preferences


def _status_body(row: object) -> dict[str, object] | None:
    if row is None:
        return None
    return {"status": row.status, "since": row.starts_at, "note": row.note}  # type: ignore[attr-defined]


@bp.get("/me")
@operation(
    "Who is signed in, and their current status.",
    capability=Capability.MOBILE_USE,
    response=MeSchema(),
    tag="me",
)
def get_me() -> Response:
    """Return the signed-in technician."""
    user = g.api_user
    body = {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "locale": user.locale,
        "status": _status_body(current_availability(user)),
    }
    return jsonify(MeSchema().dump(body))


@bp.post("/me/status")
@idempotent
@operation(
    "Set my status (available, on break, travelling, training, off shift).",
    capability=Capability.MOBILE_USE,
    body=StatusUpdateSchema(),
    response=StatusSchema(),
    tag="me",
    errors=(415, 422),
)
def set_status() -> Response:
    """Tell dispatchers what the technician is doing."""
    data = load_json(StatusUpdateSchema())
    row = set_availability(g.api_user, data["status"], data.get("note"))
    return jsonify(StatusSchema().dump(_status_body(row)))


@bp.get("/me/notification-preferences")
@operation(
    "What I am told, and how (push, e-mail), per topic.",
    capability=Capability.MOBILE_USE,
    response=NotificationPreferencesSchema(),
    tag="me",
)
def get_notification_preferences() -> Response:
    """Return the technician's notification preferences."""
    return jsonify(NotificationPreferencesSchema().dump(preferences_of(g.api_user)))


@bp.patch("/me/notification-preferences")
@idempotent
@operation(
    "Change what I am told: name only the topics and channels to change.",
    capability=Capability.MOBILE_USE,
    body=NotificationPreferencesSchema(),
    response=NotificationPreferencesSchema(),
    tag="me",
    errors=(415, 422),
    description="Emergency assignments are pushed whatever the preferences say.",
)
def change_notification_preferences() -> Response:
    """Switch topics on or off per channel."""
    changed = set_preferences(g.api_user, load_json(NotificationPreferencesSchema()))
    return jsonify(NotificationPreferencesSchema().dump(changed))


@bp.post("/devices")
@idempotent
@operation(
    "Register this phone for push notifications, or refresh its token.",
    capability=Capability.MOBILE_USE,
    body=DeviceRegisterSchema(),
    response=DeviceSchema(),
    status=201,
    tag="me",
    errors=(415, 422),
    description="Returns 201 for a new token, 200 when the token was known.",
)
def add_device() -> tuple[Response, int]:
    """Register or refresh a push token."""
    device, created = register_device(g.api_user, load_json(DeviceRegisterSchema()))
    return jsonify(DeviceSchema().dump(device)), 201 if created else 200


@bp.get("/devices/web-push-key")
@operation(
    "The key to subscribe this browser to Web Push with (VAPID public key).",
    capability=Capability.MOBILE_USE,
    response=WebPushKeySchema(),
    tag="me",
    description=(
        "Pass `application_server_key` to `pushManager.subscribe({userVisibleOnly: true, "
        "applicationServerKey})`, then register the subscription with "
        "`POST /devices/web-push`. The key changes only when the server's VAPID key is "
        "replaced; a subscription made with another key stops receiving pushes (subscribe "
        "again when this value differs from the one the subscription was made with).\n\n"
        'Each push carries JSON with ids only, e.g. `{"v": 1, "kind": '
        '"work_order_assigned", "job_id": 12, "event_id": 345, "url": '
        '"/app/jobs/12"}`: `kind` names what happened (the notification template), `url` '
        "is the app page to open on a tap; sync the job for everything else."
    ),
)
def get_web_push_key() -> Response:
    """Return the VAPID public key."""
    key = current_app.config["FIELDWORK_SETTINGS"].vapid_public_key
    return jsonify(WebPushKeySchema().dump({"application_server_key": key}))


@bp.post("/devices/web-push")
@idempotent
@operation(
    "Register this browser's Web Push subscription, or refresh it.",
    capability=Capability.MOBILE_USE,
    body=WebPushSubscriptionSchema(),
    response=DeviceSchema(),
    status=201,
    tag="me",
    errors=(415, 422),
    description=(
        "Send `PushSubscription.toJSON()` as it is (plus `locale` and `app_version`). "
        "Returns 201 for a new subscription, 200 when the endpoint was known. The endpoint "
        "must be https on a public host. Unregister with `DELETE /devices/{id}`; a "
        "subscription the push service reports gone (404/410) is deactivated "
        "(`is_active: false`): subscribe again."
    ),
)
def add_web_push_subscription() -> tuple[Response, int]:
    """Register or refresh a Web Push subscription."""
    settings = current_app.config["FIELDWORK_SETTINGS"]
    device, created = register_web_push(
        g.api_user,
        load_json(WebPushSubscriptionSchema()),
        allow_loopback=settings.webpush_allow_loopback,
    )
    return jsonify(DeviceSchema().dump(device)), 201 if created else 200


@bp.delete("/devices/<int:device_id>")
@idempotent
@operation(
    "Unregister a phone (no more pushes to it).",
    capability=Capability.MOBILE_USE,
    status=204,
    tag="me",
    errors=(404,),
)
def remove_device(device_id: int) -> tuple[str, int]:
    """Remove one of the technician's devices."""
    unregister_device(g.api_user, device_id)
    return "", 204
