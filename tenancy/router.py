"""Which store a request is for: custom domain, subdomain, path prefix, API key.

The documented order:

1. the host is a registered custom domain (``domains`` table);
2. the host is ``{slug}.<base domain>``;
3. the path starts with ``/s/{slug}/`` (demo, and deployments without wildcard DNS);
4. the ``Authorization: Bearer <key>`` API key names the store.

Every source that is present must agree. A path prefix of store B on the host
of store A, or a key of store B on A's host or path, is refused (404 for a
mismatched path, 403 for a foreign key) — never silently re-routed.
The host is the request's after the proxy correction (``backoffice.web.proxy``):
``X-Forwarded-Host`` counts only from a peer in ``backoffice.trusted_proxies``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tenancy.directory import TenantDirectory, TenantRef
from tenancy.names import SLUG_RE

PATH_RE = re.compile(r"^/s/([^/]+)(/.*)?$")
HOST_RE = re.compile(r"^[a-z0-9.-]{1,253}$")


class Refused(Exception):
    """The request names a store in a way that must not be served."""

    status = 404

    def __init__(self, message: str, status: int = 404):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Resolution:
    tenant: TenantRef | None
    prefix: str = ""  # "/s/<slug>" when the store came from the path
    rest: str | None = None  # the path below the prefix
    via: str = "none"  # domain | subdomain | path | api_key | none


def normalise_host(raw: str | None) -> str:
    host = (raw or "").strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.rstrip(".")


class Resolver:
    def __init__(self, directory: TenantDirectory, base_domain: str):
        self.directory = directory
        self.base_domain = normalise_host(base_domain)

    def resolve(self, host: str, path: str, authorization: str | None = None) -> Resolution:
        host = normalise_host(host)
        by_host, via = self._from_host(host)
        match = PATH_RE.match(path)
        by_path = None
        if match:
            slug = match.group(1)
            if not SLUG_RE.match(slug):
                raise Refused(f"unknown store {slug!r}")
            by_path = self.directory.by_slug(slug)
            if by_path is None:
                raise Refused(f"unknown store {slug!r}")
            if by_host is not None and by_host.id != by_path.id:
                raise Refused("the path names another store than the host")
        tenant = by_host or by_path
        if by_host is None and by_path is not None:
            via = "path"
        key = _bearer(authorization)
        if key is not None:
            by_key = self.directory.by_api_key(key)
            if by_key is None:
                raise Refused("invalid API key", status=401)
            if tenant is not None and tenant.id != by_key.id:
                raise Refused("this API key belongs to another store", status=403)
            if tenant is None:
                tenant, via = by_key, "api_key"
        if by_path is not None:
            return Resolution(tenant, f"/s/{by_path.slug}", match.group(2) or "/", via)
        return Resolution(tenant, via=via)

    def _from_host(self, host: str) -> tuple[TenantRef | None, str]:
        if not host or not HOST_RE.match(host) or host == self.base_domain:
            return None, "none"
        suffix = "." + self.base_domain
        if host.endswith(suffix):
            label = host[: -len(suffix)]
            if "." in label or not SLUG_RE.match(label):
                raise Refused(f"unknown store host {host!r}")
            tenant = self.directory.by_slug(label)
            if tenant is None:
                raise Refused(f"unknown store {label!r}")
            return tenant, "subdomain"
        tenant = self.directory.by_host(host)
        return (tenant, "domain") if tenant is not None else (None, "none")


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Refused("use Authorization: Bearer <API key>", status=401)
    return value.strip()
