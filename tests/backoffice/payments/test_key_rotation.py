"""``backoffice keys rotate`` re-encrypts the gateway secrets in every store's database."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from backoffice.payments.configs import GatewaySettings, secret_context
from backoffice.payments.models import GatewayConfig
from payments.registry import GatewayRegistry
from tenancy.db import make_engine
from tenancy.keyring import KeyRing, generate_key
from tests.backoffice.conftest import run_cli
from tests.backoffice.test_cli_keys import secrets_of


def store_session(control, tenant):
    return Session(make_engine(control.runtime_url(tenant), poolclass=NullPool))


def test_rotate_re_encrypts_gateway_secrets_of_every_store(keyed_control, ini_for, old_key):
    _servers, tenants = secrets_of(keyed_control)
    for tenant in tenants:
        with store_session(keyed_control, tenant) as db, db.begin():
            GatewaySettings(db, keyed_control.keyring, tenant.id, GatewayRegistry()).save(
                "sandbox", {"page_url": "https://pay.test/", "secret": f"s-{tenant.slug}"}
            )
    new_key = generate_key()
    config = ini_for({**keyed_control.settings, "backoffice.keys": f"{new_key},{old_key}"})
    result = run_cli(config, "keys", "rotate")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "gateway secrets: 2 in 2 stores"
    new_ring = KeyRing.from_text(new_key)  # the old key can go now
    for tenant in tenants:
        with store_session(keyed_control, tenant) as db:
            token = db.scalar(select(GatewayConfig.secrets))["secret"]
        assert (
            new_ring.decrypt_text(token, context=secret_context(tenant.id, "sandbox", "secret"))
            == f"s-{tenant.slug}"
        )
    again = run_cli(config, "keys", "rotate")
    assert again.stdout.splitlines()[1] == "gateway secrets: 0 in 2 stores"


def test_a_secret_copied_to_another_store_is_reported_not_rotated(keyed_control, ini_for, old_key):
    _servers, (first, second) = secrets_of(keyed_control)
    tokens = []
    for tenant in (first, second):
        with store_session(keyed_control, tenant) as db, db.begin():
            GatewaySettings(db, keyed_control.keyring, tenant.id, GatewayRegistry()).save(
                "sandbox", {"page_url": "https://pay.test/", "secret": "x"}
            )
            tokens.append(db.scalar(select(GatewayConfig.secrets)))
    with store_session(keyed_control, second) as db, db.begin():
        db.execute(update(GatewayConfig).values(secrets=tokens[0]))
    config = ini_for({**keyed_control.settings, "backoffice.keys": f"{generate_key()},{old_key}"})
    result = run_cli(config, "keys", "rotate")
    assert result.exit_code == 1
    assert (
        f"store {second.slug}: secret does not decrypt for tenant:{second.id}:gateway:"
        "sandbox:secret" in result.stderr
    )
    assert "1 stores not rotated" in result.stderr
