"""Payment notifications record the sender as the proxy correction found it: the
address YooKassa-style gateways authenticate by. A header alone proves nothing."""

from __future__ import annotations

import pytest
from webtest import TestApp

from backoffice.config import make_app
from tests.backoffice.payments.conftest import SECRET_A, Shop, checkout_for, signed

PROVIDER = "185.71.76.1"  # inside YooKassa's published ranges


@pytest.fixture
def store(make_store):
    return make_store()


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "sender"),
    [
        ("10.0.0.2", f"6.6.6.6, {PROVIDER}", PROVIDER),  # the trusted proxy forwards it
        ("10.0.0.2", f"{PROVIDER}, 6.6.6.6", "6.6.6.6"),  # a spoofed left-most hop
        ("192.0.2.1", f"6.6.6.6, {PROVIDER}", "192.0.2.1"),  # not our proxy: its own address
    ],
)
def test_the_notification_sender_is_the_corrected_client(
    mysql_settings, control, store, peer, forwarded_for, sender
):
    settings = {**mysql_settings, "backoffice.trusted_proxies": "10.0.0.0/8"}
    app = TestApp(make_app(settings, control=control), extra_environ={"REMOTE_ADDR": peer})
    shop = Shop(control, store, app)
    try:
        shop.configure("sandbox", {"page_url": "https://pay.test/sandbox", "secret": SECRET_A})
        body, headers = signed(checkout_for(shop.order()))
        shop.notify("sandbox", body, {**headers, "X-Forwarded-For": forwarded_for}, status=200)
        (stored,) = shop.notifications()
        assert stored.remote_addr == sender
    finally:
        shop.engine.dispose()
