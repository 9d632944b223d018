"""A small, injectable HTTP client for calls to payment providers.

Gateways receive an ``HttpClient`` instead of calling urllib directly so the
core can add proxies or metrics, and tests can point at local servers.
Nothing here logs headers or bodies: they carry API keys and card data.
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from payments.errors import ProviderError

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 15.0
USER_AGENT = "backoffice-payments/1"


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive header mapping (HTTP field names are)."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            key = name.lower()
            if key in self._items:  # repeated fields combine per RFC 9110
                self._items[key] = (name, f"{self._items[key][1]}, {value}")
            else:
                self._items[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __repr__(self) -> str:
        return f"Headers({[name for name in self]!r})"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Headers
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise ProviderError("provider answered with invalid JSON", self.status) from None


class HttpClient(Protocol):
    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float | None = None,
    ) -> HttpResponse:
        """Send one request; any HTTP status is returned, transport errors raise
        ``ProviderError``."""
        ...


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A provider API never redirects; following one could leak the
    # Authorization header to another host.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class UrllibHttpClient:
    timeout: float = DEFAULT_TIMEOUT
    user_agent: str = USER_AGENT
    _opener: urllib.request.OpenerDirector = field(
        default_factory=lambda: urllib.request.build_opener(_NoRedirect()), repr=False
    )

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float | None = None,
    ) -> HttpResponse:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ProviderError(f"refusing non-HTTP URL scheme in {url!r}")
        sent = {"User-Agent": self.user_agent, **(headers or {})}
        req = urllib.request.Request(url, data=body, headers=sent, method=method)  # noqa: S310 (scheme checked above)
        log.debug("payments http %s %s", method, _without_query(url))
        try:
            with self._opener.open(req, timeout=timeout or self.timeout) as resp:
                return HttpResponse(resp.status, Headers(resp.headers.items()), resp.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return HttpResponse(exc.code, Headers(exc.headers.items()), exc.read())
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            raise ProviderError(f"{method} {_without_query(url)} failed: {exc}") from None


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def basic_auth(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def join_url(base: str, path: str) -> str:
    """``base`` may carry a path prefix (a test server, a proxy)."""
    return base.rstrip("/") + "/" + path.lstrip("/")


def parse_datetime(value: str) -> datetime:
    """ISO 8601 from a provider ("2024-01-01T10:00:00.000Z"), as aware UTC."""
    parsed = datetime.fromisoformat(value)  # 3.11 reads "Z"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
