"""The FCM push sender, end to end against a local fake FCM (``fake_fcm.FakeFcm``)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import firebase_admin
import pytest
import requests
from firebase_admin import exceptions, messaging
from google.oauth2 import service_account as google_service_account

from server.notify import push
from server.notify.push import (
    FCM_ENDPOINT,
    MAX_BATCH,
    SEND_PATH,
    PushMessage,
    PushOutcome,
    PushResult,
    PushSender,
    classify,
)
from tests.notify import fake_fcm
from tests.notify.fake_fcm import FakeFcm

# firebase-admin 7.7 deprecates Message.token in favour of Message.fid (Firebase installation
# IDs). Our devices register FCM registration tokens, which are not FIDs, so the sender must keep
# using ``token`` until the mobile app moves to FIDs; ignore exactly that warning, nothing else.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:Message\.token is deprecated\. Use Message\.fid instead\.:DeprecationWarning"
)

DEVICE_TOKEN = "device-1"


@pytest.fixture(autouse=True)
def no_regional_access_boundary_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    # After each token refresh google-auth looks up the service account's "regional access
    # boundary" at iamcredentials.googleapis.com in a background thread. Tests must not leave
    # 127.0.0.1; the hook is documented to return None when the lookup should be skipped.
    monkeypatch.setattr(
        google_service_account.Credentials,
        "_build_regional_access_boundary_lookup_url",
        lambda self, request=None: None,
    )


@pytest.fixture
def fcm() -> Iterator[FakeFcm]:
    with FakeFcm() as fake:
        yield fake


@pytest.fixture
def service_account(fcm: FakeFcm, tmp_path: Path) -> Path:
    return fcm.write_service_account(tmp_path / "service-account.json")


@pytest.fixture
def sender(fcm: FakeFcm, service_account: Path) -> Iterator[PushSender]:
    with PushSender(str(service_account), endpoint=fcm.url, timeout=2.0) as push_sender:
        yield push_sender


def create_message(token: str = DEVICE_TOKEN, **overrides: Any) -> PushMessage:
    fields: dict[str, Any] = {
        "token": token,
        "title": "Work order #12 assigned",
        "body": "Boiler service at 4 Elm Street, today 14:00",
        "data": {"work_order_id": "12", "state": "assigned"},
        "collapse_key": "work-order-12",
    }
    return PushMessage(**(fields | overrides))


def send_one(sender: PushSender, token: str = DEVICE_TOKEN, **overrides: Any) -> PushResult:
    [result] = sender.send([create_message(token, **overrides)])
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- success and payload -------------------------------------------------------------------


def test_sending_returns_the_message_id(fcm: FakeFcm, sender: PushSender) -> None:
    result = send_one(sender)

    assert result == PushResult(
        token="device-1",
        outcome=PushOutcome.SENT,
        message_id=fcm.message_ids["device-1"],
        error_code=None,
        detail=None,
        retry_after=None,
    )
    assert result.message_id.startswith("projects/fieldwork-test/messages/")
    assert fcm.token_requests >= 1


def test_the_payload_carries_notification_data_collapse_key_and_priority(
    fcm: FakeFcm, sender: PushSender
) -> None:
    send_one(sender)

    [request] = fcm.requests
    assert request.project == "fieldwork-test"
    assert request.headers["authorization"] == "Bearer fake"
    message = request.message
    assert message["token"] == "device-1"
    assert message["notification"] == {
        "title": "Work order #12 assigned",
        "body": "Boiler service at 4 Elm Street, today 14:00",
    }
    assert message["data"] == {"work_order_id": "12", "state": "assigned"}
    assert message["android"] == {"collapse_key": "work-order-12", "priority": "high"}
    assert message["apns"]["headers"] == {
        "apns-collapse-id": "work-order-12",
        "apns-priority": "10",
    }
    assert "validate_only" not in request.body


def test_normal_priority_without_collapse_key(fcm: FakeFcm, sender: PushSender) -> None:
    send_one(sender, priority="normal", collapse_key=None, data={})

    message = fcm.requests[0].message
    assert message["android"] == {"priority": "normal"}
    assert message["apns"]["headers"] == {"apns-priority": "5"}
    assert "data" not in message or message["data"] == {}


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "outcome", "error_code"),
    [
        (fake_fcm.unregistered(), PushOutcome.TOKEN_DEAD, "UNREGISTERED"),
        (fake_fcm.invalid_token(), PushOutcome.TOKEN_DEAD, "INVALID_ARGUMENT"),
        (fake_fcm.invalid_argument(), PushOutcome.PAYLOAD_ERROR, "INVALID_ARGUMENT"),
        (fake_fcm.sender_id_mismatch(), PushOutcome.PAYLOAD_ERROR, "SENDER_ID_MISMATCH"),
        (fake_fcm.quota_exceeded(retry_after=None), PushOutcome.RETRY, "QUOTA_EXCEEDED"),
        (fake_fcm.unavailable(retry_after=None), PushOutcome.RETRY, "UNAVAILABLE"),
        (fake_fcm.internal(), PushOutcome.RETRY, "INTERNAL"),
    ],
    ids=[
        "unregistered",
        "invalid-token",
        "invalid-argument",
        "sender-id-mismatch",
        "quota-exceeded",
        "unavailable",
        "internal",
    ],
)
def test_fcm_errors_map_to_outcomes(
    fcm: FakeFcm,
    sender: PushSender,
    reply: fake_fcm.Reply,
    outcome: PushOutcome,
    error_code: str,
) -> None:
    fcm.reply("device-1", reply)

    result = send_one(sender)

    assert result.outcome is outcome
    assert result.error_code == error_code
    assert result.message_id is None
    assert result.detail == reply.body["error"]["message"]
    assert result.retry_after is None
    # One attempt only: retrying is the caller's decision, never firebase-admin's.
    assert len(fcm.requests_for("device-1")) == 1


@pytest.mark.parametrize(
    "reply",
    [fake_fcm.quota_exceeded(retry_after="30"), fake_fcm.unavailable(retry_after="30")],
    ids=["429", "503"],
)
def test_retry_after_in_seconds_is_reported(
    fcm: FakeFcm, sender: PushSender, reply: fake_fcm.Reply
) -> None:
    fcm.reply("device-1", reply)

    result = send_one(sender)

    assert result.outcome is PushOutcome.RETRY
    assert result.retry_after == 30.0
    assert len(fcm.requests_for("device-1")) == 1


def test_retry_after_as_an_http_date_is_reported_in_seconds(
    fcm: FakeFcm, sender: PushSender
) -> None:
    when = datetime.now(UTC) + timedelta(minutes=2)
    fcm.reply("device-1", fake_fcm.unavailable(retry_after=fake_fcm.http_date(when)))

    result = send_one(sender)

    assert result.outcome is PushOutcome.RETRY
    assert result.retry_after is not None
    assert 100 < result.retry_after <= 120


def test_a_retry_after_date_in_the_past_means_now(fcm: FakeFcm, sender: PushSender) -> None:
    when = datetime.now(UTC) - timedelta(minutes=2)
    fcm.reply("device-1", fake_fcm.quota_exceeded(retry_after=fake_fcm.http_date(when)))

    assert send_one(sender).retry_after == 0.0


def test_a_slow_response_is_a_retry_within_the_timeout(fcm: FakeFcm, service_account: Path) -> None:
    fcm.reply("slow-device", fake_fcm.slow(30))
    with PushSender(str(service_account), endpoint=fcm.url, timeout=0.5) as sender:
        send_one(sender, "warm-up")  # fetch the access token outside the timed part
        started = time.monotonic()
        result = send_one(sender, "slow-device")
        elapsed = time.monotonic() - started

    assert result.outcome is PushOutcome.RETRY
    assert result.error_code == exceptions.DEADLINE_EXCEEDED
    assert elapsed < 1.5  # one timeout, no read retry
    assert len(fcm.requests_for("slow-device")) == 1


def test_an_unreachable_endpoint_is_a_retry(fcm: FakeFcm, service_account: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    with PushSender(str(service_account), endpoint=endpoint, timeout=2.0) as sender:
        result = send_one(sender)

    assert result.outcome is PushOutcome.RETRY
    assert result.error_code == exceptions.UNAVAILABLE


def test_a_failing_token_endpoint_is_a_retry_for_the_whole_batch(
    fcm: FakeFcm, tmp_path: Path
) -> None:
    dead = FakeFcm().start()
    account = dead.write_service_account(tmp_path / "dead-token-uri.json")
    dead.stop()
    with PushSender(str(account), endpoint=fcm.url, timeout=2.0) as sender:
        results = sender.send([create_message("a"), create_message("b")])

    assert [r.outcome for r in results] == [PushOutcome.RETRY, PushOutcome.RETRY]
    assert [r.token for r in results] == ["a", "b"]
    assert fcm.requests == []


def test_outcomes_of_a_mixed_batch_stay_in_input_order(fcm: FakeFcm, sender: PushSender) -> None:
    fcm.reply("dead", fake_fcm.unregistered())
    fcm.reply("busy", fake_fcm.unavailable(retry_after="5"))
    tokens = ["ok-1", "dead", "ok-2", "busy", "ok-3"]

    results = sender.send([create_message(token) for token in tokens])

    assert [(r.token, r.outcome) for r in results] == [
        ("ok-1", PushOutcome.SENT),
        ("dead", PushOutcome.TOKEN_DEAD),
        ("ok-2", PushOutcome.SENT),
        ("busy", PushOutcome.RETRY),
        ("ok-3", PushOutcome.SENT),
    ]
    assert results[3].retry_after == 5.0


def test_a_malformed_message_fails_alone(fcm: FakeFcm, sender: PushSender) -> None:
    # firebase-admin validates a whole batch before sending any of it; a token of the wrong
    # type gets past PushMessage's checks (type hints are not enforced) but not past that.
    bad = create_message(token=12345)

    results = sender.send([create_message("ok-1"), bad, create_message("ok-2")])

    assert [r.outcome for r in results] == [
        PushOutcome.SENT,
        PushOutcome.PAYLOAD_ERROR,
        PushOutcome.SENT,
    ]
    assert results[1].error_code == exceptions.INVALID_ARGUMENT
    assert sorted(r.message["token"] for r in fcm.requests) == ["ok-1", "ok-2"]


def test_nothing_to_send_makes_no_request(fcm: FakeFcm, sender: PushSender) -> None:
    assert sender.send([]) == []
    assert fcm.requests == []


# --- batching ------------------------------------------------------------------------------


def test_messages_go_out_in_batches_of_at_most_500(
    fcm: FakeFcm, sender: PushSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_sizes: list[int] = []
    real_send_each = messaging.send_each

    def counting_send_each(messages: list[messaging.Message], **kwargs: Any) -> Any:
        batch_sizes.append(len(messages))
        return real_send_each(messages, **kwargs)

    monkeypatch.setattr(messaging, "send_each", counting_send_each)
    tokens = [f"device-{n:04}" for n in range(1201)]

    results = sender.send([create_message(token) for token in tokens])

    assert MAX_BATCH == 500
    assert batch_sizes == [500, 500, 201]
    assert len(fcm.requests) == 1201
    assert [r.token for r in results] == tokens
    assert all(r.outcome is PushOutcome.SENT for r in results)
    assert [r.message_id for r in results] == [fcm.message_ids[t] for t in tokens]


# --- apps and endpoints --------------------------------------------------------------------


def test_two_senders_with_different_endpoints_coexist(tmp_path: Path) -> None:
    with FakeFcm() as first_fcm, FakeFcm() as second_fcm:
        first_account = first_fcm.write_service_account(tmp_path / "first.json")
        second_account = second_fcm.write_service_account(tmp_path / "second.json")
        with (
            PushSender(str(first_account), endpoint=first_fcm.url) as first,
            PushSender(str(second_account), endpoint=second_fcm.url, app_name="second") as second,
        ):
            assert first.app_name != second.app_name == "second"
            assert send_one(first, "phone").outcome is PushOutcome.SENT
            assert send_one(second, "tablet").outcome is PushOutcome.SENT
            assert send_one(first, "phone-2").outcome is PushOutcome.SENT

        assert [r.message["token"] for r in first_fcm.requests] == ["phone", "phone-2"]
        assert [r.message["token"] for r in second_fcm.requests] == ["tablet"]


def test_close_deletes_the_senders_app(service_account: Path, fcm: FakeFcm) -> None:
    sender = PushSender(str(service_account), endpoint=fcm.url, app_name="short-lived")
    assert firebase_admin.get_app("short-lived").name == "short-lived"

    sender.close()

    with pytest.raises(ValueError, match="short-lived"):
        firebase_admin.get_app("short-lived")
    # The name is free again.
    PushSender(str(service_account), endpoint=fcm.url, app_name="short-lived").close()


def test_the_endpoint_override_matches_firebase_admin_internals(service_account: Path) -> None:
    # push._point_messaging_at sets private attributes of firebase-admin's messaging service.
    # If this test fails, firebase-admin changed them: fix _point_messaging_at before upgrading.
    assert messaging._MessagingService.FCM_URL == FCM_ENDPOINT + SEND_PATH.replace(
        "{project_id}", "{0}"
    )
    with PushSender(str(service_account)) as sender:  # production endpoint; nothing is sent
        service = messaging._get_messaging_service(firebase_admin.get_app(sender.app_name))
        assert service._fcm_url == (
            "https://fcm.googleapis.com/v1/projects/fieldwork-test/messages:send"
        )
        adapter = service._client.session.get_adapter(service._fcm_url)
        assert adapter.max_retries.total == 0


def test_a_changed_library_fails_loudly(
    service_account: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Changed:
        pass

    monkeypatch.setattr(messaging, "_get_messaging_service", lambda app: Changed())

    with pytest.raises(RuntimeError, match="internals changed"):
        PushSender(str(service_account), app_name="changed")
    with pytest.raises(ValueError, match="changed"):
        firebase_admin.get_app("changed")  # not left behind


def test_the_endpoint_must_be_an_http_url(service_account: Path) -> None:
    with pytest.raises(ValueError, match="http"):
        PushSender(str(service_account), endpoint="fcm.local:8080")


# --- classify and PushMessage, no server ---------------------------------------------------


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (messaging.UnregisteredError("gone"), PushOutcome.TOKEN_DEAD),
        (
            exceptions.InvalidArgumentError(fake_fcm.INVALID_TOKEN_MESSAGE),
            PushOutcome.TOKEN_DEAD,
        ),
        (exceptions.InvalidArgumentError("bad data"), PushOutcome.PAYLOAD_ERROR),
        (messaging.SenderIdMismatchError("other project"), PushOutcome.PAYLOAD_ERROR),
        (messaging.ThirdPartyAuthError("APNs key missing"), PushOutcome.PAYLOAD_ERROR),
        (exceptions.PermissionDeniedError("no IAM role"), PushOutcome.PAYLOAD_ERROR),
        (messaging.QuotaExceededError("slow down"), PushOutcome.RETRY),
        (exceptions.UnavailableError("later"), PushOutcome.RETRY),
        (exceptions.InternalError("oops"), PushOutcome.RETRY),
        (exceptions.DeadlineExceededError("timed out"), PushOutcome.RETRY),
        (exceptions.UnknownError("socket closed"), PushOutcome.RETRY),
        (requests.ReadTimeout(), PushOutcome.RETRY),
        (requests.ConnectionError(), PushOutcome.RETRY),
        (ValueError("bad message"), PushOutcome.PAYLOAD_ERROR),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_classify_without_a_response(error: BaseException, outcome: PushOutcome) -> None:
    assert classify(error)[0] is outcome
    assert classify(error)[2] is None


def test_classify_reads_retry_after_from_the_response() -> None:
    response = requests.Response()
    response.status_code = 429
    response.headers["Retry-After"] = "12"
    response._content = b"{}"

    outcome, code, retry_after = classify(
        messaging.QuotaExceededError("slow down", http_response=response)
    )

    assert (outcome, code, retry_after) == (PushOutcome.RETRY, "RESOURCE_EXHAUSTED", 12.0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"data": {"work_order_id": 12}},
        {"priority": "urgent"},
        {"collapse_key": "x" * 65},
        {"collapse_key": ""},
        {"token": ""},
    ],
    ids=["non-string-data", "priority", "long-collapse-key", "empty-collapse-key", "no-token"],
)
def test_push_message_rejects_what_fcm_would(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="token|priority|data|collapse_key"):
        create_message(**overrides)


def test_module_has_no_import_time_side_effects() -> None:
    assert not [app for app in firebase_admin._apps if app.startswith("fieldwork-push")]
    assert push.FCM_ENDPOINT == "https://fcm.googleapis.com"


def test_close_works_inside_a_running_event_loop(service_account: Path, fcm: FakeFcm) -> None:
    # Playwright's sync API, an async web server or a notebook may hold a loop in this thread.
    import asyncio

    sender = PushSender(str(service_account), endpoint=fcm.url)

    async def close_from_a_coroutine() -> None:
        sender.close()

    asyncio.run(close_from_a_coroutine())
    assert sender.app_name not in firebase_admin._apps
