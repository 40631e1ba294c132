"""The Web Push sender against a local push service (``fake_webpush.FakePushService``).

The fake checks VAPID (RFC 8292) and decrypts the body (RFC 8291) with code of its own; its
checker and decryptor are tested here too, against RFC 8291's example and forged tokens.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from py_vapid import Vapid

from server.notify.push import PushOutcome
from server.notify.webpush import (
    MAX_PAYLOAD_BYTES,
    WebPushMessage,
    WebPushSender,
    classify_status,
)
from tests.notify import fake_webpush
from tests.notify.fake_webpush import (
    FakePushService,
    FakeSubscription,
    Reply,
    b64url,
    b64url_decode,
    check_vapid,
    content_key_and_nonce,
    decrypt_aes128gcm,
    webpush_ikm,
)

SUBJECT = "mailto:ops@fieldwork.example"


def new_vapid_key() -> tuple[str, str]:
    """Return (private scalar, public point), both base64url, as the settings hold them."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    public = b64url(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    return private, public


@pytest.fixture
def vapid_key() -> tuple[str, str]:
    return new_vapid_key()


@pytest.fixture
def service() -> Iterator[FakePushService]:
    with FakePushService() as fake:
        yield fake


@pytest.fixture
def sender(vapid_key: tuple[str, str]) -> Iterator[WebPushSender]:
    with WebPushSender(vapid_key[0], SUBJECT, timeout=2.0, allow_loopback=True) as web_sender:
        yield web_sender


@pytest.fixture
def subscription(service: FakePushService, vapid_key: tuple[str, str]) -> FakeSubscription:
    return service.subscribe(vapid_key[1])


def message_for(subscription: FakeSubscription, **overrides: Any) -> WebPushMessage:
    fields: dict[str, Any] = {
        "endpoint": subscription.endpoint,
        "p256dh": subscription.p256dh,
        "auth": subscription.auth,
        "payload": {"v": 1, "kind": "work_order_assigned", "job_id": 12},
        "topic": "wo-12",
    }
    return WebPushMessage(**(fields | overrides))


# --- sending ----------------------------------------------------------------------------------


def test_a_push_arrives_decryptable_with_vapid_for_the_services_origin(
    service: FakePushService, sender: WebPushSender, subscription: FakeSubscription
) -> None:
    [result] = sender.send([message_for(subscription)])

    assert result.outcome is PushOutcome.SENT
    assert result.message_id.startswith(f"{service.origin}/message/")
    [received] = service.received
    assert received.payload == {"v": 1, "kind": "work_order_assigned", "job_id": 12}
    assert received.claims["aud"] == service.origin
    assert received.claims["sub"] == SUBJECT
    assert time.time() < received.claims["exp"] <= time.time() + 24 * 3600
    assert received.headers["content-encoding"] == "aes128gcm"
    assert received.headers["ttl"] == "86400"
    assert received.headers["urgency"] == "normal"
    assert received.headers["topic"] == "wo-12"
    assert service.refused == []


def test_each_message_is_encrypted_afresh(
    service: FakePushService, sender: WebPushSender, subscription: FakeSubscription
) -> None:
    sender.send([message_for(subscription), message_for(subscription, urgency="high")])

    assert [r.payload["job_id"] for r in service.received] == [12, 12]
    assert service.received[1].headers["urgency"] == "high"


@pytest.mark.parametrize(
    ("reply", "outcome", "retry_after"),
    [
        (fake_webpush.gone(), PushOutcome.TOKEN_DEAD, None),
        (Reply(404), PushOutcome.TOKEN_DEAD, None),
        (fake_webpush.too_many_requests("30"), PushOutcome.RETRY, 30.0),
        (fake_webpush.unavailable("10"), PushOutcome.RETRY, 10.0),
        (fake_webpush.unavailable(None), PushOutcome.RETRY, None),
        (Reply(500), PushOutcome.RETRY, None),
        (fake_webpush.payload_too_large(), PushOutcome.PAYLOAD_ERROR, None),
        (Reply(400), PushOutcome.PAYLOAD_ERROR, None),
        (Reply(307, {"Location": "http://127.0.0.1:9/elsewhere"}), PushOutcome.PAYLOAD_ERROR, None),
    ],
    ids=["410", "404", "429", "503", "503-no-retry-after", "500", "413", "400", "redirect"],
)
def test_push_service_answers_map_to_outcomes(
    service: FakePushService,
    sender: WebPushSender,
    subscription: FakeSubscription,
    reply: Reply,
    outcome: PushOutcome,
    retry_after: float | None,
) -> None:
    service.reply(subscription, reply)

    [result] = sender.send([message_for(subscription)])

    assert result.outcome is outcome
    assert result.retry_after == retry_after
    assert result.message_id is None
    assert service.attempts == [subscription.id]  # one attempt, no redirect followed


def test_an_unknown_subscription_is_dead(service: FakePushService, sender: WebPushSender) -> None:
    stranger = service.subscribe("unused")
    del service.subscriptions[stranger.id]

    [result] = sender.send([message_for(stranger)])

    assert result.outcome is PushOutcome.TOKEN_DEAD


def test_retry_after_as_an_http_date(
    service: FakePushService, sender: WebPushSender, subscription: FakeSubscription
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(minutes=2), usegmt=True)
    service.reply(subscription, fake_webpush.too_many_requests(when))

    [result] = sender.send([message_for(subscription)])

    assert result.outcome is PushOutcome.RETRY
    assert 100 < result.retry_after <= 120


def test_a_subscription_made_for_another_key_is_refused_by_the_service(
    service: FakePushService, sender: WebPushSender
) -> None:
    other = service.subscribe(new_vapid_key()[1])

    [result] = sender.send([message_for(other)])

    assert result.outcome is PushOutcome.PAYLOAD_ERROR  # configuration, not a dead phone
    assert result.error_code == "403"
    assert [(r.status, r.reason) for r in service.refused] == [
        (403, "k is not the subscription's applicationServerKey")
    ]
    assert service.received == []


def test_wrong_keys_do_not_decrypt_at_the_browser(
    service: FakePushService, sender: WebPushSender, subscription: FakeSubscription
) -> None:
    impostor = service.subscribe(subscription.application_server_key)

    [result] = sender.send([message_for(subscription, auth=impostor.auth)])

    assert result.outcome is PushOutcome.PAYLOAD_ERROR
    assert service.refused[0].reason == "the record does not decrypt"


def test_internal_addresses_are_refused_unless_loopback_is_allowed(
    service: FakePushService, vapid_key: tuple[str, str], subscription: FakeSubscription
) -> None:
    https_loopback = subscription.endpoint.replace("http://", "https://")
    with WebPushSender(vapid_key[0], SUBJECT, timeout=2.0) as guarded:
        plain, tls = guarded.send(
            [message_for(subscription), message_for(subscription, endpoint=https_loopback)]
        )

    assert (plain.outcome, plain.error_code) == (PushOutcome.PAYLOAD_ERROR, "insecure_endpoint")
    # Refused before any connection, and reported as a host that did not answer.
    assert (tls.outcome, tls.error_code) == (PushOutcome.RETRY, "unreachable")
    assert service.attempts == []


def test_a_name_is_resolved_once_and_its_internal_addresses_refused(
    monkeypatch: pytest.MonkeyPatch, vapid_key: tuple[str, str], subscription: FakeSubscription
) -> None:
    import socket

    lookups: list[str] = []
    real = socket.getaddrinfo

    def resolver(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(str(host))
        if host == "push.example.net":
            return real("10.0.0.7", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with WebPushSender(vapid_key[0], SUBJECT, timeout=2.0, allow_loopback=True) as web_sender:
        [result] = web_sender.send(
            [message_for(subscription, endpoint="https://push.example.net/push/x")]
        )

    assert (result.outcome, result.error_code) == (PushOutcome.RETRY, "unreachable")
    assert lookups.count("push.example.net") == 1


def test_an_unreachable_service_is_a_retry(vapid_key: tuple[str, str]) -> None:
    with FakePushService() as gone_service:
        subscription = gone_service.subscribe(vapid_key[1])
    with WebPushSender(vapid_key[0], SUBJECT, timeout=2.0, allow_loopback=True) as web_sender:
        [result] = web_sender.send([message_for(subscription)])

    assert result.outcome is PushOutcome.RETRY


@pytest.mark.parametrize(
    "overrides",
    [
        {"topic": "has space"},
        {"topic": "x" * 33},
        {"urgency": "urgent"},
        {"payload": {"blob": "x" * MAX_PAYLOAD_BYTES}},
        {"endpoint": "ftp://push.example/1"},
    ],
    ids=["topic-alphabet", "topic-length", "urgency", "too-big", "scheme"],
)
def test_messages_push_services_would_refuse_are_refused_here(
    subscription: FakeSubscription, overrides: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="topic|urgency|payload|endpoint"):
        message_for(subscription, **overrides)


def test_classify_status_without_a_server() -> None:
    assert classify_status(201, None) == (PushOutcome.SENT, None)
    assert classify_status(410, "5") == (PushOutcome.TOKEN_DEAD, None)
    assert classify_status(429, "86400000") == (PushOutcome.RETRY, 86400.0)  # capped at a day
    assert classify_status(503, "soon") == (PushOutcome.RETRY, None)
    assert classify_status(413, None) == (PushOutcome.PAYLOAD_ERROR, None)
    assert classify_status(401, None) == (PushOutcome.PAYLOAD_ERROR, None)


# --- the fake's own checks (RFC 8291 example, forged VAPID) -------------------------------------

#: RFC 8291 §5 and Appendix A.
RFC_UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
RFC_AS_PUBLIC = (
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
)
RFC_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
RFC_SALT = "DGv6ra1nlYgDCS1FRnbzlw"
RFC_MESSAGE = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6"
    "TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qul"
    "cy4a-fN"
)


def rfc_user_agent_key() -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(
        int.from_bytes(b64url_decode(RFC_UA_PRIVATE), "big"), ec.SECP256R1()
    )


def test_the_fakes_decryption_matches_rfc_8291s_example() -> None:
    ikm = webpush_ikm(rfc_user_agent_key(), b64url_decode(RFC_AS_PUBLIC), b64url_decode(RFC_AUTH))
    cek, nonce = content_key_and_nonce(b64url_decode(RFC_SALT), ikm)

    assert b64url(ikm) == "S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg"
    assert b64url(cek) == "oIhVW04MRdy2XN9CiKLxTg"
    assert b64url(nonce) == "4h_95klXJ5E_qnoN"
    plaintext = decrypt_aes128gcm(
        b64url_decode(RFC_MESSAGE), rfc_user_agent_key(), b64url_decode(RFC_AUTH)
    )
    assert plaintext == b"When I grow up, I want to be a watermelon"


def test_the_fake_refuses_a_tampered_body() -> None:
    body = bytearray(b64url_decode(RFC_MESSAGE))
    body[-1] ^= 1
    with pytest.raises(ValueError, match="does not decrypt"):
        decrypt_aes128gcm(bytes(body), rfc_user_agent_key(), b64url_decode(RFC_AUTH))


AUDIENCE = "https://push.example.net"


def vapid_header(private: str, **claims: Any) -> str:
    values = {"aud": AUDIENCE, "exp": int(time.time()) + 3600, "sub": SUBJECT} | claims
    return Vapid.from_string(private).sign(values)["Authorization"]


def sign_token(private: str, claims: dict[str, Any]) -> str:
    """Sign an ES256 JWT (raw r||s signature, RFC 7518) with our own code."""
    key = ec.derive_private_key(int.from_bytes(b64url_decode(private), "big"), ec.SECP256R1())
    signing_input = (
        b64url(json.dumps({"typ": "JWT", "alg": "ES256"}).encode())
        + "."
        + b64url(json.dumps(claims).encode())
    )
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def test_the_fake_accepts_a_valid_vapid_header(vapid_key: tuple[str, str]) -> None:
    check = check_vapid(vapid_header(vapid_key[0]), AUDIENCE, vapid_key[1])
    assert (check.status, check.reason) == (0, "")
    assert check.claims["aud"] == AUDIENCE
    claims = {"aud": AUDIENCE, "exp": int(time.time()) + 60}
    own = f"vapid t={sign_token(vapid_key[0], claims)}, k={vapid_key[1]}"
    assert check_vapid(own, AUDIENCE, vapid_key[1]).status == 0


def test_the_fake_refuses_a_token_not_signed_by_k(vapid_key: tuple[str, str]) -> None:
    # A token signed by another key, presented with our public key: a forgery.
    forged_token = vapid_header(new_vapid_key()[0]).split("t=", 1)[1].split(",", 1)[0]
    header = f"vapid t={forged_token},k={vapid_key[1]}"
    assert check_vapid(header, AUDIENCE, vapid_key[1]).reason == "signature does not match k"


def test_the_fake_refuses_a_changed_claim(vapid_key: tuple[str, str]) -> None:
    token = vapid_header(vapid_key[0]).split("t=", 1)[1].split(",", 1)[0]
    header_b64, claims_b64, signature = token.split(".")
    claims = json.loads(b64url_decode(claims_b64)) | {"aud": "https://evil.example"}
    tampered = f"{header_b64}.{b64url(json.dumps(claims).encode())}.{signature}"
    check = check_vapid(f"vapid t={tampered},k={vapid_key[1]}", AUDIENCE, vapid_key[1])
    assert check.status == 401


def test_the_fake_refuses_another_servers_key(vapid_key: tuple[str, str]) -> None:
    other_private, _other_public = new_vapid_key()
    check = check_vapid(vapid_header(other_private), AUDIENCE, vapid_key[1])
    assert check.status == 403  # valid token, but not by the key the subscription names


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "https://other.example"}, "aud"),
        ({"aud": AUDIENCE + "/"}, "aud"),
        ({"exp": int(time.time()) - 5}, "expired"),
        ({"exp": int(time.time()) + 25 * 3600}, "24 hours"),
        ({"sub": "ops@fieldwork.example"}, "sub"),
    ],
    ids=["other-origin", "trailing-slash", "expired", "too-long", "bare-sub"],
)
def test_the_fake_refuses_bad_claims(
    vapid_key: tuple[str, str], claims: dict[str, Any], reason: str
) -> None:
    # Signed here, not by py_vapid, which refuses to sign some of these itself.
    values = {"aud": AUDIENCE, "exp": int(time.time()) + 3600, "sub": SUBJECT} | claims
    header = f"vapid t={sign_token(vapid_key[0], values)},k={vapid_key[1]}"
    check = check_vapid(header, AUDIENCE, vapid_key[1])
    assert check.status == 401
    assert reason in check.reason


def test_the_fake_refuses_alg_none_and_missing_headers(vapid_key: tuple[str, str]) -> None:
    none_header = b64url(json.dumps({"typ": "JWT", "alg": "none"}).encode())
    claims = b64url(json.dumps({"aud": AUDIENCE, "exp": int(time.time()) + 60}).encode())
    unsigned = f"vapid t={none_header}.{claims}.,k={vapid_key[1]}"
    assert check_vapid(unsigned, AUDIENCE, vapid_key[1]).status == 401
    assert check_vapid(None, AUDIENCE, vapid_key[1]).status == 401
    legacy = "WebPush " + base64.urlsafe_b64encode(b"x").decode()
    assert check_vapid(legacy, AUDIENCE, vapid_key[1]).status == 401
