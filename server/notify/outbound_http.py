"""HTTP to addresses that integrators give us (webhooks), never to our own network.

A webhook URL is chosen by an admin, but it must not become a way to reach the machines
around the server (cloud metadata at 169.254.169.254, the database, an internal admin page),
nor a way to learn which of them listen. So the host is resolved once, every address it
resolves to is checked before any connection is opened, and the socket connects to exactly
the checked addresses: there is no second lookup, so a name whose answer changes between
the check and the connection (DNS rebinding) cannot slip through. TLS (SNI and the
certificate check) and the ``Host`` header still use the name from the URL.

Callers must not tell a refused target from an unreachable one (see
``server.jobs.tasks.webhook``): that difference is exactly what a port scan reads.
``FIELDWORK_WEBHOOK_ALLOW_PRIVATE`` lifts the check for receivers on the same host or
network (development, tests, an on-premises ERP).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from typing import Any

#: The NAT64 well-known prefix: such an address stands for the IPv4 address in its last bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class PrivateAddressRefused(OSError):
    """The destination is on a loopback, private, link-local or otherwise internal network."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address carries to (mapped, NAT64, 6to4, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # is_global alone is not enough: Python 3.11 calls ::ffff:0:0/96 and ::/96 global.
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def is_public_address(address: str) -> bool:
    """Return whether ``address`` (an IP literal) is routable on the public internet."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            # NAT64 and mapped addresses are reserved ranges that stand for their IPv4 part;
            # 6to4 and Teredo are routable themselves and must carry a public IPv4 as well.
            if ip.ipv4_mapped is None and ip not in _NAT64 and not _is_public(ip):
                return False
            return _is_public(embedded)
    return _is_public(ip)


def resolve_public(host: str, port: int) -> list[tuple[Any, ...]]:
    """Resolve ``host`` once; return its addresses if every one is public, else refuse.

    One internal answer refuses the whole name: a resolver that mixes a public address with
    an internal one is how rebinding attacks pick the address a client ends up using.
    """
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as error:  # a name the IDNA codec cannot encode
        raise socket.gaierror(socket.EAI_NONAME, f"{host!r} is not a host name") from error
    if not answers:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
    for *_rest, sockaddr in answers:
        if not is_public_address(str(sockaddr[0])):
            raise PrivateAddressRefused(f"{host} is at {sockaddr[0]}, an internal address")
    return answers


def _guarded_create_connection(
    address: tuple[str, int], timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT, source: Any = None
) -> socket.socket:
    """Connect to one of the checked addresses of ``address``'s host (never by name again)."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in resolve_public(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source:
                sock.bind(source)
            sock.connect(sockaddr)
        except OSError as failed:
            sock.close()
            error = failed
            continue
        return sock
    assert error is not None  # noqa: S101 - resolve_public never returns an empty list
    raise error


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_create_connection


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    # HTTPSConnection.connect wraps the socket with server_hostname=self.host: the URL's name.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_create_connection


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_GuardedHTTPSConnection, req)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: a subscription names its final URL."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def opener(allow_private: bool) -> urllib.request.OpenerDirector:
    """Return a urllib opener that follows no redirect and, unless allowed, no internal IP."""
    handlers: list[Any] = [_NoRedirect()]
    if not allow_private:
        handlers += [_GuardedHTTPHandler(), _GuardedHTTPSHandler()]
    # No proxies from the environment either: a proxy would connect wherever it was told.
    handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)
