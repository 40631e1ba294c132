"""HTTP to addresses that integrators give us (webhooks), never to our own network.

A webhook URL is chosen by an admin, but it must not become a way to reach the machines
around the server (cloud metadata at 169.254.169.254, the database, an internal admin page).
The check runs on the address the socket actually connected to, after DNS, so a name that
resolves to a private address (or changes its answer between a check and the connection)
is refused all the same. ``FIELDWORK_WEBHOOK_ALLOW_PRIVATE`` lifts it for receivers on the
same host or network (development, tests, an on-premises ERP).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from typing import Any


class PrivateAddressRefused(OSError):
    """The destination is on a loopback, private, link-local or otherwise internal network."""


def is_public_address(address: str) -> bool:
    """Return whether ``address`` (an IP literal) is routable on the public internet."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _guarded_create_connection(
    address: tuple[str, int], timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT, source: Any = None
) -> socket.socket:
    sock = socket.create_connection(address, timeout, source)
    peer = sock.getpeername()[0]
    if not is_public_address(peer):
        sock.close()
        raise PrivateAddressRefused(f"{address[0]} is at {peer}, an internal address")
    return sock


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_create_connection


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
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
    # No proxies from the environment either: they would make the peer check meaningless.
    handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)
