"""The urllib client against local servers, and the shared data types."""

import ast
import socket
from pathlib import Path

import pytest

from payments.errors import ConfigurationError, ProviderError, VerificationError
from payments.gateway import Gateway
from payments.gateways.stripe import StripeGateway
from payments.http import Headers, UrllibHttpClient
from payments.registry import GatewayRegistry

PACKAGE = Path(__file__).resolve().parents[2] / "payments"


def test_returns_any_status_with_body(serve):
    server = serve(lambda req: (418, {"X-Reply": "yes"}, b"teapot:" + req.body))
    response = UrllibHttpClient().request(
        "POST", server.base_url + "/x", body=b"hi", headers={"X-Test": "1"}
    )
    assert (response.status, response.body) == (418, b"teapot:hi")
    assert response.headers["x-reply"] == "yes"
    assert server.requests[0].headers["X-TEST"] == "1"
    assert server.requests[0].headers["User-Agent"].startswith("backoffice-payments")


def test_redirects_are_not_followed(serve):
    target = serve(lambda req: (200, {}, b"leaked"))
    server = serve(lambda req: (302, {"Location": target.base_url}, b""))
    response = UrllibHttpClient().request(
        "GET", server.base_url, headers={"Authorization": "Bearer sk"}
    )
    assert response.status == 302 and target.requests == []


def test_connection_refused_is_provider_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderError):
        UrllibHttpClient().request("GET", f"http://127.0.0.1:{port}/")


def test_timeout_is_provider_error():
    with socket.socket() as listener:  # accepts, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        with pytest.raises(ProviderError):
            UrllibHttpClient(timeout=0.2).request("GET", url)


def test_refuses_non_http_schemes():
    with pytest.raises(ProviderError):
        UrllibHttpClient().request("GET", "file:///etc/passwd")


def test_headers_are_case_insensitive():
    headers = Headers([("Stripe-Signature", "a"), ("X-A", "1"), ("x-a", "2")])
    assert headers["stripe-signature"] == "a" and "STRIPE-SIGNATURE" in headers
    assert headers["X-A"] == "1, 2" and len(headers) == 2


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (VerificationError("x"), 400),
        (ConfigurationError("x"), 503),
        (ProviderError("x"), 503),
        (RuntimeError("x"), 500),
    ],
)
def test_error_acknowledgements(build_notification, error, status):
    ack = StripeGateway().acknowledge_error(build_notification(b""), error)
    assert ack.status == status and b"x" not in ack.body


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_package_stays_independent_of_the_rest_of_the_project():
    forbidden = ("sqlalchemy", "pyramid", "backoffice", "storefront", "tenancy")
    for path in PACKAGE.rglob("*.py"):
        for name in imports_of(path):
            assert name.split(".")[0] not in forbidden, f"{path} imports {name}"


def test_gateways_do_not_import_each_other():
    for path in (PACKAGE / "gateways").glob("*.py"):
        for name in imports_of(path):
            assert not name.startswith("payments.gateways"), f"{path} imports {name}"


def test_every_builtin_declares_its_contract():
    for gateway in GatewayRegistry(list).available().values():
        assert isinstance(gateway, Gateway)
        names = [field.name for field in gateway.config_schema]
        assert len(names) == len(set(names))
        if gateway.capabilities.notifications:
            assert type(gateway).verify_notification is not Gateway.verify_notification
        if gateway.capabilities.refund_full:
            assert type(gateway).refund is not Gateway.refund
