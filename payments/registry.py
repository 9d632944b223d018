"""Finding gateways by name through the ``backoffice.payment_gateways`` entry points.

Third-party gateways ship as separate distributions declaring::

    entry_points={"backoffice.payment_gateways": ["example = pkg:ExampleGateway"]}

The built-in gateways are declared the same way in pyproject.toml; ``BUILTIN_GATEWAYS``
is only a fallback so a source checkout works before ``pip install -e .``.
Nothing is imported until a gateway is asked for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points

from payments.errors import GatewayLoadError, UnknownGateway
from payments.gateway import Gateway
from payments.http import HttpClient

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "backoffice.payment_gateways"

BUILTIN_GATEWAYS: dict[str, str] = {
    "manual": "payments.gateways.manual:ManualGateway",
    "cod": "payments.gateways.cod:CashOnDeliveryGateway",
    "sandbox": "payments.gateways.sandbox:SandboxGateway",
    "robokassa": "payments.gateways.robokassa:RobokassaGateway",
    "yookassa": "payments.gateways.yookassa:YooKassaGateway",
    "paypal": "payments.gateways.paypal:PayPalGateway",
    "stripe": "payments.gateways.stripe:StripeGateway",
    "skrill": "payments.gateways.skrill:SkrillGateway",
    "twocheckout": "payments.gateways.twocheckout:TwoCheckoutGateway",
    "bluesnap": "payments.gateways.bluesnap:BlueSnapGateway",
}

EntryPointSource = Callable[[], Iterable[EntryPoint]]


def installed_entry_points() -> Iterable[EntryPoint]:
    return entry_points(group=ENTRY_POINT_GROUP)


def builtin_entry_points() -> list[EntryPoint]:
    return [EntryPoint(n, v, ENTRY_POINT_GROUP) for n, v in BUILTIN_GATEWAYS.items()]


class GatewayRegistry:
    """Name -> gateway instance, loaded lazily and cached (thread-safe)."""

    def __init__(
        self,
        source: EntryPointSource = installed_entry_points,
        *,
        include_builtins: bool = True,
        http: HttpClient | None = None,
        hidden: Iterable[str] = (),
        show_examples: bool = True,
    ) -> None:
        self._source = source
        self._include_builtins = include_builtins
        self._http = http
        # Hidden gateways are not offered (``available``) but still load by
        # name, so a store that set one up before keeps verifying its
        # notifications and refunds.
        self._hidden = frozenset(hidden)
        self._show_examples = show_examples
        self._lock = threading.RLock()
        self._points: dict[str, EntryPoint] | None = None
        self._conflicts: dict[str, list[str]] = {}
        self._instances: dict[str, Gateway] = {}

    def register(self, gateway: Gateway, *, replace: bool = False) -> None:
        """Add an instance directly (tests, or a core-configured gateway)."""
        with self._lock:
            if not replace and gateway.name in self.names():
                raise ValueError(f"payment gateway {gateway.name!r} already registered")
            self._instances[gateway.name] = gateway
            self._conflicts.pop(gateway.name, None)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(set(self._entry_points()) | set(self._instances))

    def get(self, name: str) -> Gateway:
        with self._lock:
            if name in self._instances:
                return self._instances[name]
            points = self._entry_points()
            if name in self._conflicts:
                raise GatewayLoadError(
                    f"payment gateway {name!r} is declared twice: "
                    + " vs ".join(self._conflicts[name])
                )
            point = points.get(name)
            if point is None:
                known = ", ".join(self.names()) or "none"
                raise UnknownGateway(f"no payment gateway {name!r} (known: {known})")
            gateway = self._load(point)
            self._instances[name] = gateway
            return gateway

    def available(self, *, include_hidden: bool = False) -> dict[str, Gateway]:
        """Every loadable gateway that may be offered; broken plugins are logged
        and skipped."""
        found: dict[str, Gateway] = {}
        for name in self.names():
            try:
                gateway = self.get(name)
            except GatewayLoadError:
                log.exception("payment gateway %r could not be loaded", name)
                continue
            if include_hidden or not self.is_hidden(gateway):
                found[name] = gateway
        return found

    def is_hidden(self, gateway: Gateway) -> bool:
        """Hidden by name (a deployment setting) or an example/test gateway."""
        return gateway.name in self._hidden or (gateway.example and not self._show_examples)

    def distribution(self, name: str) -> tuple[str, str]:
        """(distribution name, version) that provides the gateway; built-ins
        without installed metadata report ("backoffice", "")."""
        with self._lock:
            point = self._entry_points().get(name)
        dist = getattr(point, "dist", None) if point is not None else None
        if dist is None:
            return ("backoffice", "")
        return (dist.metadata["Name"] or "", dist.version or "")

    def _entry_points(self) -> dict[str, EntryPoint]:
        if self._points is None:
            points: dict[str, EntryPoint] = {}
            for point in self._source():
                self._add(points, point)
            if self._include_builtins:
                # Also a declaration: a plugin may not quietly replace a built-in.
                for point in builtin_entry_points():
                    self._add(points, point)
            self._points = points
        return self._points

    def _add(self, points: dict[str, EntryPoint], point: EntryPoint) -> None:
        # The same value twice is a stale install; two values for one name is
        # a plugin trying to shadow another gateway: refuse to guess.
        seen = points.get(point.name)
        if seen is None:
            points[point.name] = point
        elif seen.value != point.value:
            self._conflicts[point.name] = [seen.value, point.value]

    def _load(self, point: EntryPoint) -> Gateway:
        try:
            target = point.load()
        except Exception as exc:
            raise GatewayLoadError(f"cannot import {point.value!r}: {exc}") from exc
        if isinstance(target, type) and issubclass(target, Gateway):
            target = target(http=self._http)
        gateway = target
        if not isinstance(gateway, Gateway):
            raise GatewayLoadError(f"{point.value!r} is not a payments Gateway")
        if gateway.name != point.name:
            raise GatewayLoadError(
                f"{point.value!r} calls itself {gateway.name!r}, registered as {point.name!r}"
            )
        return gateway


_default: GatewayRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> GatewayRegistry:
    global _default  # noqa: PLW0603 -- one registry per process, built on first use
    with _default_lock:
        if _default is None:
            _default = GatewayRegistry()
        return _default


def get_gateway(name: str) -> Gateway:
    return default_registry().get(name)


def available_gateways() -> dict[str, Gateway]:
    return default_registry().available()


def register_gateway(gateway: Gateway, *, replace: bool = False) -> None:
    default_registry().register(gateway, replace=replace)
