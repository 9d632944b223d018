"""The gateway conformance kit: a pytest plugin and the checks every gateway passes.

Use it from a gateway's own tests (see tests/payments/example_gateway)::

    pytest_plugins = ["payments.testing.conformance"]      # conftest.py

    class TestMyGatewayConformance(GatewayConformance):
        @pytest.fixture
        def gateway_profile(self, serve_provider):
            return MyProfile(serve_provider)

The checks here need no database: authenticity (forged, missing, tampered,
stale), amounts and currencies, thread safety, refunds, fail-closed settings,
secrets kept out of logs, errors and answers, and the import rules. The core's
own suite adds the database-level checks (20 concurrent copies -> one payment,
refunds idempotent on a real store) for every installed gateway.
"""

from __future__ import annotations

import ast
import inspect
import logging
import re
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from payments.config import secret_fields
from payments.errors import (
    ConfigurationError,
    NotSupported,
    PaymentError,
    VerificationError,
)
from payments.gateway import Gateway
from payments.interfaces import EventKind, GatewayEvent, PaymentRequest, RefundRequest
from payments.money import Money
from payments.testing.profile import ConformanceProfile, Delivery
from payments.testing.provider import providers

# A gateway translates data and checks authenticity: no database, no web
# framework, no core, no other gateway.
FORBIDDEN_IMPORTS = (
    "backoffice",
    "storefront",
    "tenancy",
    "sqlalchemy",
    "pymysql",
    "pyramid",
    "redis",
    "celery",
)
# Setting names that are credentials whatever the gateway calls them.
SECRET_NAME = re.compile(r"secret|password|passwd|private|token|(^|_)key$|api_key|word$")
ORDER = "4242"


@pytest.fixture
def serve_provider():
    """``serve_provider(app) -> LocalProvider`` on 127.0.0.1, stopped after the test."""
    with providers() as serve:
        yield serve


def dedup_key(event: GatewayEvent) -> tuple[str, str, str]:
    """What the core's unique constraint is on: replays must produce the same key."""
    return (event.gateway, event.provider_reference, str(event.kind))


def module_imports(module_name: str) -> Iterator[tuple[str, str]]:
    """(file, imported module) for every import in the module or package."""
    module = sys.modules[module_name]
    path = Path(inspect.getsourcefile(module))
    files = sorted(path.parent.rglob("*.py")) if path.name == "__init__.py" else [path]
    package = module_name if path.name == "__init__.py" else module_name.rpartition(".")[0]
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield file.name, alias.name
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    yield file.name, f"{base}.{node.module}" if node.module else base
                else:
                    yield file.name, node.module or ""


def import_violations(gateway: Gateway) -> list[str]:
    own = type(gateway).__module__
    found = []
    for file, name in module_imports(own):
        top = name.split(".")[0]
        if top in FORBIDDEN_IMPORTS:
            found.append(f"{file} imports {name}")
        elif name.startswith("payments.gateways.") and not own.startswith(name) and name != own:
            found.append(f"{file} imports another gateway: {name}")
        elif name == "payments.gateways" and not own.startswith("payments.gateways."):
            found.append(f"{file} imports the built-in gateways")
    return found


class GatewayConformance:
    """Every gateway passes these. Subclass it and provide ``gateway_profile``."""

    @pytest.fixture
    def gateway_profile(self, serve_provider) -> ConformanceProfile:  # pragma: no cover
        raise NotImplementedError("define a gateway_profile fixture returning your profile")

    @pytest.fixture
    def profile(self, gateway_profile) -> ConformanceProfile:
        return gateway_profile

    @pytest.fixture
    def gateway(self, profile) -> Gateway:
        return profile.gateway()

    @pytest.fixture
    def amount(self, profile) -> Money:
        return Money(1500, profile.currency)

    def needs_notifications(self, gateway: Gateway) -> None:
        if not gateway.capabilities.notifications:
            pytest.skip(f"{gateway.name} receives no notifications")

    def verify(self, gateway, profile, delivery: Delivery) -> list[GatewayEvent]:
        return gateway.verify_notification(delivery.incoming(), profile.config())

    # --- what it declares ------------------------------------------------------------

    def test_declares_name_title_and_settings(self, gateway, profile):
        assert isinstance(gateway, Gateway)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", gateway.name), gateway.name
        assert gateway.title and all(field.label for field in gateway.config_schema)
        for field in gateway.config_schema:
            if SECRET_NAME.search(field.name) and field.kind in ("text",):
                pytest.fail(f"setting {field.name!r} looks like a credential: kind='secret'")
        assert gateway.validate_config(profile.config()) is not None
        if gateway.capabilities.notifications:
            assert not gateway.capabilities.offline

    def test_imports_no_database_core_or_other_gateway(self, gateway):
        assert import_violations(gateway) == []

    def test_starts_a_payment_without_showing_secrets(self, gateway, profile, amount):
        request = PaymentRequest(
            order_reference=ORDER,
            amount=amount,
            description=f"Order {ORDER}",
            return_url="https://shop.test/return",
            cancel_url="https://shop.test/cancel",
            notify_url="https://shop.test/payments/notify/x",
            idempotency_key=f"order-{ORDER}-1",
            customer_email="buyer@example.com",
        )
        start = gateway.start_payment(request, profile.config())
        assert start.kind == ("offline" if gateway.capabilities.offline else start.kind)
        shown = " ".join([start.url, start.instructions, *(v for _k, v in start.fields)])
        for secret in profile.secrets():
            assert secret not in shown

    # --- notifications -------------------------------------------------------------------

    def test_offline_gateways_refuse_notifications(self, gateway, profile):
        if gateway.capabilities.notifications:
            pytest.skip("receives notifications")
        with pytest.raises(PaymentError):
            self.verify(gateway, profile, Delivery(b"status=paid&order=1"))

    def test_genuine_notification_is_one_exact_payment(self, gateway, profile, amount):
        self.needs_notifications(gateway)
        delivery = profile.paid(ORDER, amount)
        events = self.verify(gateway, profile, delivery)
        paid = [e for e in events if e.kind == EventKind.PAYMENT_SUCCEEDED]
        assert len(paid) == 1, events
        event = paid[0]
        assert event.gateway == gateway.name
        assert event.order_reference == ORDER
        assert event.amount == amount and event.amount.currency == amount.currency
        assert event.provider_reference
        assert event.occurred_at.tzinfo is not None
        ack = gateway.acknowledge(delivery.incoming(), events)
        assert 200 <= ack.status < 300

    def test_forged_notification_is_refused(self, gateway, profile, amount):
        self.needs_notifications(gateway)
        delivery = profile.forged(ORDER, amount)
        with pytest.raises(VerificationError) as info:
            self.verify(gateway, profile, delivery)
        ack = gateway.acknowledge_error(delivery.incoming(), info.value)
        assert 400 <= ack.status < 500

    @pytest.mark.parametrize(
        "delivery",
        [
            Delivery(b""),
            Delivery(b"", method="GET"),
            Delivery(b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}),
            Delivery(b"{}", {"Content-Type": "application/json"}),
            Delivery(b"\xff\xfe\x00", {"Content-Type": "application/x-www-form-urlencoded"}),
        ],
        ids=["empty-post", "empty-get", "no-fields", "empty-json", "junk-bytes"],
    )
    def test_missing_or_malformed_notification_is_refused(self, gateway, profile, delivery):
        self.needs_notifications(gateway)
        with pytest.raises(VerificationError):
            self.verify(gateway, profile, delivery)

    def test_tampered_amount_is_refused_or_ignored(self, gateway, profile, amount):
        self.needs_notifications(gateway)
        claimed = Money(amount.amount // 10, amount.currency)
        delivery = profile.tampered_amount(ORDER, amount, claimed)
        if delivery is None:
            pytest.skip("the notification carries no amount")
        try:
            events = self.verify(gateway, profile, delivery)
        except VerificationError:
            return
        # Accepted only when the amount comes from elsewhere (the provider's API).
        assert events and all(e.amount == amount for e in events)

    def test_replayed_notification_cannot_pay_twice(self, gateway, profile, amount):
        self.needs_notifications(gateway)
        delivery = profile.paid(ORDER, amount)
        first = [dedup_key(e) for e in self.verify(gateway, profile, delivery)]
        again = [dedup_key(e) for e in self.verify(gateway, profile, delivery)]
        assert first == again  # the core's unique key makes the copy a duplicate
        stale = profile.stale(ORDER, amount)
        if stale is not None:
            with pytest.raises(VerificationError):
                self.verify(gateway, profile, stale)

    def test_concurrent_copies_verify_alike(self, gateway, profile, amount):
        self.needs_notifications(gateway)
        delivery = profile.paid(ORDER, amount)
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: self.verify(gateway, profile, delivery), range(20)))
        keys = {tuple(dedup_key(e) for e in events) for events in results}
        assert len(keys) == 1

    def test_missing_secrets_fail_closed(self, gateway, profile, amount):
        self.needs_notifications(gateway)
        config = profile.config()
        hidden = [name for name in secret_fields(gateway.config_schema) if config.get(name)]
        if not hidden:
            pytest.skip("no secret settings")
        delivery = profile.paid(ORDER, amount)
        for name in hidden:
            stripped = {**config, name: ""}
            try:
                gateway.verify_notification(delivery.incoming(), stripped)
            except ConfigurationError:
                continue
            # An optional secret (a refund password, say) may be unused here:
            # it must then not be needed for authenticity either.
            field = next(f for f in gateway.config_schema if f.name == name)
            assert not field.required, f"verified without the required secret {name!r}"

    # --- refunds ---------------------------------------------------------------------------

    def test_refund_is_exact_and_not_repeated(self, gateway, profile, amount):
        caps = gateway.capabilities
        request = RefundRequest(
            provider_reference="none",
            amount=amount,
            order_reference=ORDER,
            idempotency_key=f"refund-{ORDER}-1",
        )
        if not (caps.refund_full or caps.refund_partial):
            with pytest.raises(NotSupported):
                gateway.refund(request, profile.config())
            return
        self.needs_notifications(gateway)
        [event] = [
            e
            for e in self.verify(gateway, profile, profile.paid(ORDER, amount))
            if e.kind == EventKind.PAYMENT_SUCCEEDED
        ]
        request = RefundRequest(
            provider_reference=event.payment_reference or event.provider_reference,
            amount=amount,
            order_reference=ORDER,
            idempotency_key=f"refund-{ORDER}-1",
        )
        result = gateway.refund(request, profile.config())
        assert result.amount == amount and result.status in ("succeeded", "pending")
        assert result.provider_reference
        try:  # the same request again: the same refund, or refused - never a second one
            again = gateway.refund(request, profile.config())
        except PaymentError:
            pass
        else:
            assert again.provider_reference == result.provider_reference
        refunded = profile.refunded_at_provider(request.provider_reference)
        if refunded is not None:
            assert refunded == amount

    # --- secrets -----------------------------------------------------------------------------

    def test_no_secret_in_logs_errors_or_answers(self, gateway, profile, amount, caplog):
        secrets = [s for s in profile.secrets() if len(s) >= 4]
        if not secrets:
            pytest.skip("no secret settings")
        caplog.set_level(logging.DEBUG)
        seen: list[str] = [repr(gateway)]
        config = profile.config()
        deliveries = [Delivery(b"")]
        if gateway.capabilities.notifications:
            deliveries += [profile.forged(ORDER, amount), profile.paid(ORDER, amount)]
        broken = {name: "" for name in secret_fields(gateway.config_schema)}
        for delivery in deliveries:
            for settings in (config, {**config, **broken}, {**config, "unknown": "x"}):
                incoming = delivery.incoming()
                try:
                    events = gateway.verify_notification(incoming, settings)
                    seen.append(gateway.acknowledge(incoming, events).body.decode("latin-1"))
                except PaymentError as exc:
                    seen += [str(exc), repr(exc), getattr(exc, "errors", "").__str__()]
                    ack = gateway.acknowledge_error(incoming, exc)
                    seen.append(ack.body.decode("latin-1"))
        refund = RefundRequest("no-such-payment", amount, ORDER, f"refund-{ORDER}-9")
        try:
            gateway.refund(refund, config)
        except PaymentError as exc:
            seen += [str(exc), repr(exc)]
        seen += [record.getMessage() for record in caplog.records]
        seen += [caplog.text]
        text = "\n".join(seen)
        for secret in secrets:
            assert secret not in text, "a secret setting leaked into a log, error or answer"
