"""Where a webhook may be sent: never to our own network, checked when it is sent.

A check of the URL when it is saved is not enough: a host name may resolve to a
private address later (DNS rebinding), and numeric forms such as
``http://2130706433/`` or ``http://0x7f.1/`` name loopback without looking like
it. So the delivery resolves the host itself, refuses every disallowed address,
and connects to an address it checked; TLS still verifies the host name.
Redirects are refused (``delivery._NoRedirects``) and environment proxies are
not used, so no other hop can take the request elsewhere.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request


class BlockedAddress(OSError):
    """The host resolves only to addresses webhooks may not reach."""


def is_blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def numeric_host(host: str) -> str | None:
    """The address a numeric host names (``2130706433``, ``127.1``, ``[::1]``), else None."""
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return infos[0][4][0] if infos else None


def connect(host: str, port: int, timeout, allow_private: bool) -> socket.socket:
    """A connected socket to the first allowed address of ``host``."""
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM
    ):
        if not allow_private and is_blocked(sockaddr[0]):
            error = BlockedAddress(f"{host} resolves to a private address ({sockaddr[0]})")
            continue
        sock = socket.socket(family, kind, proto)
        try:
            if isinstance(timeout, int | float):  # else http.client's "no timeout given"
                sock.settimeout(timeout)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"{host} has no address")


def opener(*, allow_private: bool, refuse_redirects: type) -> urllib.request.OpenerDirector:
    """An urllib opener whose connections go only to allowed addresses."""

    class Guarded(http.client.HTTPConnection):
        def connect(self):
            self.sock = connect(self.host, self.port, self.timeout, allow_private)

    # HTTPSConnection.connect() calls super().connect(), which is Guarded's, then
    # wraps the socket with TLS for self.host (certificate and SNI as usual).
    class GuardedTLS(http.client.HTTPSConnection, Guarded):
        pass

    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(Guarded, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(GuardedTLS, req)

    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), HTTPHandler, HTTPSHandler, refuse_redirects
    )
