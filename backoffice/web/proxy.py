"""Behind a reverse proxy: the client's scheme, host and address, from headers we trust.

The first tween of the app. Only when the peer (``REMOTE_ADDR``) is one of
``backoffice.trusted_proxies`` (IPs and networks) does it take the scheme from
``X-Forwarded-Proto``, the host from ``X-Forwarded-Host`` (and
``X-Forwarded-Port``) and the client's address from ``X-Forwarded-For``, and
write them into the WSGI environ; everything later (``request.scheme``,
``request.host``, URL generation, store resolution, the sign-in throttle,
payment notifications' source addresses) reads the corrected values.

``X-Forwarded-For`` is walked from the right: each trusted proxy appends the
address it received the request from, so the first hop that is not a trusted
proxy is the client. Hops further left were written by the client and prove
nothing. The forwarded headers are removed from the environ afterwards, trusted
or not: WebOb's ``client_addr`` would read a spoofed ``X-Forwarded-For`` itself.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from pyramid.tweens import INGRESS

from tenancy.settings import SettingsError, as_bool

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_FORWARDED",
)
LOOPBACK = "127.0.0.1,::1"
# A proxy chain longer than this is a client padding the header, not a deployment.
MAX_HOPS = 16
HOST_RE = re.compile(r"^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(:[0-9]{1,5})?$")
DEFAULT_PORTS = {"http": "80", "https": "443"}
PEER_KEY = "backoffice.proxy_peer"  # the proxy's own address, for logs


def parse_address(text: str) -> Address | None:
    """An IP address out of one hop (``[v6]:port`` and ``v4:port`` too), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


class TrustedProxies:
    """The networks whose forwarded headers we believe."""

    def __init__(self, networks=()):
        self.networks = tuple(networks)

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> TrustedProxies:
        """``backoffice.trusted_proxies``; the older ``backoffice.trusted_proxy = true``
        (deprecated) means the loopback addresses."""
        text = (settings.get("backoffice.trusted_proxies") or "").strip()
        if not text and as_bool(settings, "backoffice.trusted_proxy"):
            text = LOOPBACK
        networks = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            try:
                networks.append(ipaddress.ip_network(item))
            except ValueError:
                raise SettingsError(
                    f"backoffice.trusted_proxies: {item!r} is not an IP address or network"
                ) from None
        return cls(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __contains__(self, address: Address | None) -> bool:
        return address is not None and any(address in net for net in self.networks)


def client_address(peer: Address, forwarded_for: str, trusted: TrustedProxies) -> Address:
    """The right-most ``X-Forwarded-For`` hop that is not a trusted proxy.

    ``peer`` must be trusted already. A hop that is no address stops the walk:
    the last trusted hop stands in for the client, so garbage cannot pick a key.
    """
    client = peer
    hops = forwarded_for.split(",")[-MAX_HOPS:] if forwarded_for.strip() else []
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        client = address
        if address not in trusted:
            break
    return client


def _last(value: str) -> str:
    """The value the nearest proxy set, when a chain left a list."""
    return value.rsplit(",", 1)[-1].strip()


def correct(environ: dict, trusted: TrustedProxies) -> None:
    """Rewrite scheme, host and address from a trusted proxy's headers; drop the headers."""
    forwarded = {name: environ.pop(name) for name in FORWARDED_HEADERS if name in environ}
    peer = parse_address(environ.get("REMOTE_ADDR") or "")
    if peer not in trusted:
        return
    environ[PEER_KEY] = environ.get("REMOTE_ADDR")
    hops = forwarded.get("HTTP_X_FORWARDED_FOR", "")
    environ["REMOTE_ADDR"] = str(client_address(peer, hops, trusted))
    proto = _last(forwarded.get("HTTP_X_FORWARDED_PROTO", "")).lower()
    if proto in DEFAULT_PORTS:
        environ["wsgi.url_scheme"] = proto
    host = _last(forwarded.get("HTTP_X_FORWARDED_HOST", ""))
    matched = HOST_RE.match(host)
    if matched:
        port = _last(forwarded.get("HTTP_X_FORWARDED_PORT", ""))
        default = DEFAULT_PORTS.get(environ.get("wsgi.url_scheme", ""))
        if not matched.group(1) and port.isdigit() and port != default:
            host = f"{host}:{port}"
        environ["HTTP_HOST"] = host


def proxy_tween_factory(handler, registry):
    trusted = TrustedProxies.from_settings(registry.settings)

    def tween(request):
        correct(request.environ, trusted)
        return handler(request)

    return tween


def includeme(config) -> None:
    config.add_tween("backoffice.web.proxy.proxy_tween_factory", under=INGRESS)
