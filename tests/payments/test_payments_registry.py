"""Gateway discovery through the ``backoffice.payment_gateways`` entry points."""

import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest

from payments.errors import GatewayLoadError, UnknownGateway
from payments.gateway import Gateway
from payments.gateways.manual import ManualGateway
from payments.money import Money
from payments.registry import (
    BUILTIN_GATEWAYS,
    ENTRY_POINT_GROUP,
    GatewayRegistry,
    available_gateways,
    get_gateway,
    installed_entry_points,
)

BUILTINS = {
    "manual",
    "cod",
    "sandbox",
    "robokassa",
    "yookassa",
    "paypal",
    "stripe",
    "skrill",
    "twocheckout",
    "bluesnap",
}


def nothing_installed():
    return []


def test_builtins_available_without_installation():
    registry = GatewayRegistry(nothing_installed)
    assert set(registry.names()) == BUILTINS
    for name, gateway in registry.available().items():
        assert isinstance(gateway, Gateway)
        assert gateway.name == name
        assert gateway.title
        assert all(field.label for field in gateway.config_schema)


def test_builtin_table_matches_setup_entry_points():
    assert set(BUILTIN_GATEWAYS) == BUILTINS


def test_default_registry_helpers():
    assert get_gateway("stripe").name == "stripe"
    assert get_gateway("stripe") is get_gateway("stripe")  # cached, shared
    assert BUILTINS <= set(available_gateways())


def test_unknown_name_lists_known_ones():
    with pytest.raises(UnknownGateway, match=r"known: .*robokassa"):
        GatewayRegistry(nothing_installed).get("bitcoin")


def test_explicit_registration():
    registry = GatewayRegistry(nothing_installed, include_builtins=False)

    class Custom(ManualGateway):
        name = "custom"

    registry.register(Custom())
    assert registry.get("custom").name == "custom"
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Custom())
    replacement = Custom()
    registry.register(replacement, replace=True)
    assert registry.get("custom") is replacement


@pytest.fixture
def plugin_dist(tmp_path, monkeypatch):
    """A real installed distribution on sys.path: package + .dist-info."""
    package = tmp_path / "bo_tmp_gateway.py"
    package.write_text(
        textwrap.dedent("""
        from payments.gateways.cod import CashOnDeliveryGateway

        class TmpGateway(CashOnDeliveryGateway):
            name = "tmp"
            title = "Temporary"

        class Misnamed(CashOnDeliveryGateway):
            name = "other"

        NOT_A_GATEWAY = object()
    """)
    )
    info = tmp_path / "bo_tmp_gateway-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bo-tmp-gateway\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(f"""
        [{ENTRY_POINT_GROUP}]
        tmp = bo_tmp_gateway:TmpGateway
        misnamed = bo_tmp_gateway:Misnamed
        bogus = bo_tmp_gateway:NOT_A_GATEWAY
        missing = bo_tmp_gateway_nowhere:Gateway
        stripe = bo_tmp_gateway:TmpGateway
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("bo_tmp_gateway", None)


def test_discovers_installed_distribution(plugin_dist):
    names = {point.name for point in installed_entry_points()}
    assert "tmp" in names
    registry = GatewayRegistry()
    assert registry.get("tmp").title == "Temporary"
    assert BUILTINS <= set(registry.names())


def test_broken_plugins_fail_loudly_by_name_and_are_skipped_in_listing(plugin_dist):
    registry = GatewayRegistry()
    with pytest.raises(GatewayLoadError, match="calls itself 'other'"):
        registry.get("misnamed")
    with pytest.raises(GatewayLoadError, match="not a payments Gateway"):
        registry.get("bogus")
    with pytest.raises(GatewayLoadError, match="cannot import"):
        registry.get("missing")
    listed = registry.available()
    assert "tmp" in listed and "misnamed" not in listed


def test_plugin_cannot_shadow_a_builtin(plugin_dist):
    # Declared by the real distribution *and* the temp one with another value.
    real = EntryPoint("stripe", BUILTIN_GATEWAYS["stripe"], ENTRY_POINT_GROUP)
    shadow = EntryPoint("stripe", "bo_tmp_gateway:TmpGateway", ENTRY_POINT_GROUP)
    registry = GatewayRegistry(lambda: [real, shadow])
    with pytest.raises(GatewayLoadError, match="declared twice"):
        registry.get("stripe")
    # The installed temp distribution declares "stripe" too.
    with pytest.raises(GatewayLoadError, match="declared twice"):
        GatewayRegistry().get("stripe")
    assert GatewayRegistry().get("paypal").name == "paypal"


def test_duplicate_identical_declarations_are_fine():
    point = EntryPoint("manual", BUILTIN_GATEWAYS["manual"], ENTRY_POINT_GROUP)
    registry = GatewayRegistry(lambda: [point, point], include_builtins=False)
    assert registry.names() == ["manual"]
    assert registry.get("manual").name == "manual"


def test_entry_point_may_name_an_instance():
    point = EntryPoint("cod", "payments.gateways.cod:CashOnDeliveryGateway", ENTRY_POINT_GROUP)
    registry = GatewayRegistry(lambda: [point], include_builtins=False)
    assert registry.get("cod").name == "cod"


def test_separately_installed_example_package(build_request, build_notification):
    """tests/payments/example_gateway, installed with pip, found by entry point."""
    if not any(p.name == "example" for p in installed_entry_points()):
        pytest.skip(
            "bo-example-gateway not installed: pip install -e tests/payments/example_gateway"
        )
    gateway = GatewayRegistry().get("example")
    assert type(gateway).__module__ == "bo_example_gateway"
    config = {"checkout_url": "https://pay.example/checkout", "secret": "s3"}
    start = gateway.start_payment(build_request(Money(1999, "EUR")), config)
    assert start.kind == "form" and ("amount", "1999") in start.fields
