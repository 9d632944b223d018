"""Webhooks never reach our own network: checked when saved and when sent.

``http://2130706433:PORT`` (127.0.0.1 as one number) passed the check when the
endpoint was saved and was delivered to loopback. A real receiver listens on
127.0.0.1 here; a delivery that reached it would show in its log.
"""

from __future__ import annotations

import pytest

from backoffice.webhooks import addresses
from backoffice.webhooks.delivery import post
from backoffice.webhooks.services import EndpointError, check_url
from tests.storefront.test_webhooks import Receiver


@pytest.fixture
def site():
    made = Receiver()
    yield made
    made.close()


def loopback_forms(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/hooks",
        f"http://2130706433:{port}/hooks",
        f"http://0x7f000001:{port}/hooks",
        f"http://0x7f.1:{port}/hooks",
        f"http://127.1:{port}/hooks",
        f"http://0177.0.0.1:{port}/hooks",
        f"http://[::ffff:127.0.0.1]:{port}/hooks",
        f"http://localhost:{port}/hooks",
        f"http://shop.localhost:{port}/hooks",
    ]


def test_every_form_of_loopback_is_refused_when_saved(site):
    port = site.server.server_address[1]
    for url in loopback_forms(port):
        with pytest.raises(EndpointError):
            check_url(url, allow_private=False)
    assert check_url("https://hooks.example.com/x", allow_private=False)


def test_a_delivery_connects_only_to_allowed_addresses(site):
    """Whatever was saved (or a name that resolves to loopback later), the delivery
    checks the address it connects to."""
    port = site.server.server_address[1]
    for url in [*loopback_forms(port)]:
        if "[::ffff:" in url or "shop.localhost" in url:
            continue  # IPv4-only receiver; a name this machine may not resolve
        outcome = post(url, b"{}", {"Content-Type": "application/json"}, 5)
        assert not outcome.ok and outcome.status is None, url
        assert "private address" in outcome.error, (url, outcome.error)
    assert site.received == []
    # The same receiver is reached when private addresses are allowed (tests, dev).
    outcome = post(f"http://2130706433:{port}/hooks", b"{}", {}, 5, allow_private=True)
    assert outcome.status == 500  # no secret set: the receiver refuses the signature
    assert len(site.received) == 1


@pytest.mark.parametrize(
    ("address", "blocked"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),  # cloud metadata
        ("100.64.0.1", True),  # carrier-grade NAT
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("::1", True),
        ("fe80::1%lo", True),
        ("fd00::1", True),
        ("::ffff:10.0.0.1", True),
        ("93.184.215.14", False),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", False),
    ],
)
def test_which_addresses_are_blocked(address, blocked):
    assert addresses.is_blocked(address) is blocked
