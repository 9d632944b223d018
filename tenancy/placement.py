"""Where a store goes: the active server with the most headroom.

Each candidate's load is a weighted sum of three figures, each divided by the
largest value among the candidates (so 1.0 is "the busiest of them"):

* ``stores``: stores on the server (control DB);
* ``size``: bytes the server's InnoDB tablespaces take (``information_schema``);
* ``connections``: open connections as a share of ``max_connections``.

Store counts are read at every placement, size and connections at most
``STATS_MAX_AGE`` seconds ago (per process). The weights are
``backoffice.placement_weights`` (``stores:1,size:1,connections:1``); the
lowest load wins, the default server wins a tie. Only ``active`` servers
of the same kind take stores; ``draining`` and ``full`` ones refuse even an
explicit ``--server``. ``backoffice.placement = default`` turns placement off
(new stores go to the default server, as before there was a fleet).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenancy.control import ControlPlane
from tenancy.models import DatabaseServer, ServerStatus, Tenant
from tenancy.servers import STATS_MAX_AGE, ServerError
from tenancy.settings import SettingsError

DEFAULT_WEIGHTS = "stores:1,size:1,connections:1"
METRICS = ("stores", "size", "connections")

log = logging.getLogger(__name__)


class PlacementError(ServerError):
    """No server may take the store; the message says why."""


@dataclass
class ServerLoad:
    name: str
    kind: str
    status: str
    default: bool
    stores: int
    size_bytes: int = 0
    connections: int = 0
    max_connections: int = 0
    error: str | None = None
    load: float = 0.0

    def figure(self, metric: str) -> float:
        if metric == "stores":
            return float(self.stores)
        if metric == "size":
            return float(self.size_bytes)
        return self.connections / self.max_connections if self.max_connections else 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def weights(settings: Mapping[str, str]) -> dict[str, float]:
    raw = settings.get("backoffice.placement_weights") or DEFAULT_WEIGHTS
    result = dict.fromkeys(METRICS, 0.0)
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, _, value = part.partition(":")
        try:
            if name.strip() not in result:
                raise ValueError(name)
            result[name.strip()] = float(value)
        except ValueError:
            raise SettingsError(
                f"backoffice.placement_weights: {part!r} is not one of "
                f"{', '.join(m + ':N' for m in METRICS)}"
            ) from None
    return result


def server_loads(
    control: ControlPlane,
    session: Session,
    servers: Iterable[DatabaseServer] | None = None,
    *,
    max_age: float = 0.0,
) -> list[ServerLoad]:
    """Every (or each given) server's stores, size and connections (read from
    the server at most *max_age* seconds ago), scored."""
    if servers is None:
        servers = session.scalars(select(DatabaseServer).order_by(DatabaseServer.name))
    counts = dict(
        session.execute(select(Tenant.server_id, func.count()).group_by(Tenant.server_id)).all()
    )
    loads = []
    for server in servers:
        load = ServerLoad(
            server.name, server.kind, server.status, server.is_default, counts.get(server.id, 0)
        )
        try:
            stats = control.backend(server).stats(max_age)
            load.size_bytes, load.connections = stats.size_bytes, stats.connections
            load.max_connections = stats.max_connections
        except Exception as exc:  # noqa: BLE001 -- an unreachable server is reported, not fatal
            load.error = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        loads.append(load)
    _score(loads, weights(control.settings))
    return loads


def _score(loads: list[ServerLoad], weight: dict[str, float]) -> None:
    tops = {m: max((load.figure(m) for load in loads), default=0.0) for m in METRICS}
    for load in loads:
        load.load = round(sum(weight[m] * load.figure(m) / tops[m] for m in METRICS if tops[m]), 4)


def accepts(server: DatabaseServer) -> None:
    if server.status != ServerStatus.ACTIVE:
        raise PlacementError(
            f"server {server.name!r} is {server.status} and takes no new stores "
            f"(backoffice servers mark {server.name} active)"
        )


def place(
    control: ControlPlane,
    session: Session,
    name: str | None = None,
    *,
    exclude: Iterable[int] = (),
    kind: str | None = None,
) -> DatabaseServer:
    """The server named *name* if it takes stores, else the one with most headroom."""
    if name:
        server = control.server(session, name)
        accepts(server)
        return server
    if control.settings.get("backoffice.placement", "headroom") == "default":
        server = control.server(session)
        accepts(server)
        return server
    servers = list(session.scalars(select(DatabaseServer).order_by(DatabaseServer.name)))
    default = next((s for s in servers if s.is_default), None)
    kind = kind or (default.kind if default else None)
    excluded = set(exclude)
    candidates = [
        s
        for s in servers
        if s.status == ServerStatus.ACTIVE
        and s.id not in excluded
        and (kind is None or s.kind == kind)
    ]
    if not candidates:
        raise PlacementError(
            "no active database server takes new stores: backoffice servers add NAME URL, "
            "or backoffice servers mark NAME active"
        )
    if len(candidates) == 1:
        return candidates[0]
    loads = server_loads(control, session, candidates, max_age=STATS_MAX_AGE)
    reachable = [load for load in loads if load.error is None]
    for load in loads:
        if load.error:
            log.warning("server %s left out of placement: %s", load.name, load.error)
    best = min(reachable or loads, key=lambda load: (load.load, not load.default, load.name))
    return next(s for s in candidates if s.name == best.name)
