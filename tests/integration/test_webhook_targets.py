"""Webhook targets: internal addresses refused before connecting, and no port-scan oracle.

The resolver and the network are stand-ins the tests program: ``dns`` answers names (a
different answer per lookup, for rebinding), ``network`` records every ``connect`` and can
route a public address to a local socket standing in for a host on the internet.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from server.extensions import db
from server.jobs import relay
from server.models import Delivery, OutboxMessage, OutboxStatus, WebhookSubscription
from server.services.webhooks import create_webhook

#: A public address; the tests' ``network`` routes connections to it to a local socket.
PUBLIC = "8.8.8.8"


@pytest.fixture(autouse=True)
def internal_targets_refused(app, monkeypatch):
    """Run with production's rule: no private targets."""
    import server.jobs.tasks  # noqa: F401  (registers the tasks)

    settings = dataclasses.replace(app.config["FIELDWORK_SETTINGS"], webhook_allow_private=False)
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)


class Resolver:
    """A programmable DNS: ``answers[name]`` is one address list per lookup (the last repeats)."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.asked: list[str] = []


@pytest.fixture
def dns(monkeypatch) -> Resolver:
    """Answer names from the test's table; unknown names do not resolve; IP literals pass."""
    resolver = Resolver()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return real(host, port, family, type, proto, flags)
        resolver.asked.append(host)
        queue = resolver.answers.get(host)
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return resolver


class Network:
    """Every address a socket connected to; ``routes`` stand local sockets in for public ones."""

    def __init__(self) -> None:
        self.connects: list[tuple[str, int]] = []
        self.routes: dict[tuple[str, int], tuple[str, int]] = {}


@pytest.fixture
def network(monkeypatch) -> Network:
    """Record each ``socket.connect``; route the public addresses the test names."""
    net = Network()
    original = socket.socket.connect

    def connect(self, address):
        target = (str(address[0]), int(address[1]))
        net.connects.append(target)
        if ipaddress.ip_address(target[0].split("%")[0]).is_global and target not in net.routes:
            raise AssertionError(f"the test would reach the internet: {target}")
        return original(self, net.routes.get(target, address))

    monkeypatch.setattr(socket.socket, "connect", connect)
    return net


class Listener:
    """A listening TCP socket on 127.0.0.1 that nobody accepts on: connections stay queued."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self) -> int:
        """Return how many connections reached the port (even ones closed since)."""
        count = 0
        while True:
            try:
                conn, _peer = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def listener() -> Iterator[Listener]:
    """Return an open port on loopback that records connections."""
    opened = Listener()
    yield opened
    opened.sock.close()


def closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Receiver:
    """A real HTTP(S) receiver on 127.0.0.1 that records each POST's headers."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if context is not None:
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def drain() -> None:
    while relay.run_once("w"):
        pass


def subscribe(*urls: str) -> None:
    for url in urls:
        create_webhook({"url": url, "events": ["WorkOrderCreated"]})
    db.session.commit()


def outcomes() -> dict[str, tuple[OutboxStatus, int, str | None]]:
    """Return (status, attempts, last error) of each webhook message, by URL."""
    db.session.expire_all()
    urls = {s.id: s.url for s in db.session.scalars(db.select(WebhookSubscription))}
    messages = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.action == "webhook"))
    return {
        urls[m.payload["subscription_id"]]: (m.status, m.attempts, m.last_error) for m in messages
    }


def deliveries() -> list[Delivery]:
    return list(db.session.scalars(db.select(Delivery).where(Delivery.channel == "webhook")))


def not_reached() -> tuple[OutboxStatus, int, str]:
    """Return the outcome of every target not reached after one attempt, whatever the reason."""
    from server.jobs.tasks import WEBHOOK_UNREACHABLE

    return (OutboxStatus.PENDING, 1, WEBHOOK_UNREACHABLE)


def test_an_open_and_a_closed_loopback_port_look_the_same(create_work_order, listener, network):
    open_url = f"http://127.0.0.1:{listener.port}/hook"
    closed_url = f"http://127.0.0.1:{closed_port()}/hook"
    subscribe(open_url, closed_url)
    create_work_order()
    db.session.commit()

    drain()
    found = outcomes()
    assert found[open_url] == found[closed_url] == not_reached()
    assert listener.connections() == 0
    assert network.connects == []
    assert deliveries() == []


def test_every_target_not_reached_is_recorded_alike(create_work_order, listener, dns, network):
    public_but_down = closed_port()
    network.routes[(PUBLIC, public_but_down)] = ("127.0.0.1", public_but_down)
    dns.answers.update(
        {
            "inside.example.com": [["127.0.0.1"]],
            "metadata.example.com": [["169.254.169.254"]],
            "lan.example.com": [["10.0.0.5"]],
            "v6.example.com": [["::1"]],
            # One internal answer refuses the name, even after a public one.
            "mixed.example.com": [[PUBLIC, "127.0.0.1"]],
        }
    )
    port = listener.port
    urls = [
        f"http://127.0.0.1:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://inside.example.com:{port}/",
        "http://metadata.example.com/latest/meta-data/",
        "http://lan.example.com:5432/",
        f"http://v6.example.com:{port}/",
        f"http://mixed.example.com:{port}/",
        "http://nowhere.example.com/",  # does not resolve
        "https://nowhere.example.com/",
        f"http://{PUBLIC}:{public_but_down}/",  # public, but nothing listens
    ]
    subscribe(*urls)
    create_work_order()
    db.session.commit()

    drain()
    assert outcomes() == dict.fromkeys(urls, not_reached())
    assert listener.connections() == 0
    # The only connection tried went to the one public address.
    assert network.connects == [(PUBLIC, public_but_down)]
    assert deliveries() == []


def test_a_name_resolving_to_an_internal_address_is_refused_before_connecting(
    create_work_order, listener, dns, network
):
    dns.answers["erp.example.com"] = [["127.0.0.1"]]
    url = f"http://erp.example.com:{listener.port}/hook"
    subscribe(url)
    create_work_order()
    db.session.commit()

    drain()
    assert outcomes()[url] == not_reached()
    assert dns.asked == ["erp.example.com"]
    assert network.connects == []
    assert listener.connections() == 0


def test_dns_rebinding_cannot_reach_the_internal_address(
    create_work_order, listener, receiver, dns, network
):
    # The internal service listens on the URL's port; the "public" host is the receiver.
    network.routes[(PUBLIC, listener.port)] = ("127.0.0.1", receiver.port)
    dns.answers["hooks.example.com"] = [[PUBLIC], ["127.0.0.1"]]
    url = f"http://hooks.example.com:{listener.port}/hook"
    subscribe(url)
    create_work_order()
    db.session.commit()

    drain()
    assert outcomes()[url] == (OutboxStatus.DONE, 1, None)
    assert dns.asked == ["hooks.example.com"]  # checked and connected on one answer
    assert network.connects == [(PUBLIC, listener.port)]
    assert listener.connections() == 0
    [headers] = receiver.requests
    assert headers["Host"] == f"hooks.example.com:{listener.port}"
    assert [d.status for d in deliveries()] == ["sent"]


def _certificate_for(name: str, directory: Path) -> tuple[Path, Path, Path]:
    """Write a throw-away CA and a server certificate for ``name``; return CA, cert, key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def build(subject: str, issuer: str, key: Any, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), False
            ).add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("Fieldwork test CA", "Fieldwork test CA", ca_key, ca_key, ca=True)
    cert = build(name, "Fieldwork test CA", key, ca_key, ca=False)
    paths = (directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.mark.parametrize(
    ("certified", "delivered"), [("hooks.example.com", True), ("other.example.com", False)]
)
def test_https_checks_sni_and_certificate_against_the_url_name(
    create_work_order, dns, network, monkeypatch, tmp_path, certified, delivered
):
    ca, cert, key = _certificate_for(certified, tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    # The client trusts the test CA, with Python's default checks (hostname included).
    monkeypatch.setattr(
        ssl, "_create_default_https_context", lambda: ssl.create_default_context(cafile=ca)
    )
    receiver = Receiver(server_context)
    try:
        network.routes[(PUBLIC, receiver.port)] = ("127.0.0.1", receiver.port)
        dns.answers["hooks.example.com"] = [[PUBLIC]]
        url = f"https://hooks.example.com:{receiver.port}/hook"
        subscribe(url)
        create_work_order()
        db.session.commit()
        drain()
    finally:
        receiver.close()

    assert names == ["hooks.example.com"]
    assert network.connects == [(PUBLIC, receiver.port)]
    if delivered:
        assert outcomes()[url] == (OutboxStatus.DONE, 1, None)
        assert [h["Host"] for h in receiver.requests] == [f"hooks.example.com:{receiver.port}"]
    else:
        assert outcomes()[url] == not_reached()
        assert receiver.requests == []


def test_allowed_private_targets_are_still_delivered(app, monkeypatch, create_work_order, receiver):
    settings = dataclasses.replace(app.config["FIELDWORK_SETTINGS"], webhook_allow_private=True)
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
    url = f"http://127.0.0.1:{receiver.port}/hook"
    subscribe(url)
    create_work_order()
    db.session.commit()

    drain()
    assert outcomes()[url] == (OutboxStatus.DONE, 1, None)
    assert len(receiver.requests) == 1
