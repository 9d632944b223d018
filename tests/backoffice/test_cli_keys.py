"""``backoffice keys rotate`` on a control database of its own (it touches every secret)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from backoffice.schema import store_schema
from tenancy.control import ControlPlane
from tenancy.keyring import KeyRing, KeyRingError, generate_key
from tenancy.models import DatabaseServer, Tenant
from tenancy.provisioning import Provisioner, StoreRequest
from tests.backoffice.conftest import run_cli
from tests.conftest import unique_slug
from tests.tenancy.helpers import open_private_control


@pytest.fixture
def old_key():
    return generate_key()


@pytest.fixture
def keyed_control(root_engine, mysql_admin_url, mysql_settings, old_key):
    """A private control DB whose secrets are all under *old_key*, with two stores."""
    control = open_private_control(
        root_engine, mysql_admin_url, {**mysql_settings, "backoffice.keys": old_key}
    )
    for _ in range(2):
        Provisioner(control, store_schema).create(
            StoreRequest(slug=unique_slug("key"), name="Keys")
        )
    yield control
    control.dispose()


def secrets_of(control):
    with control.session() as session:
        servers = list(session.scalars(select(DatabaseServer)))
        tenants = list(session.scalars(select(Tenant).order_by(Tenant.id)))
    return servers, tenants


def test_rotate_re_encrypts_everything_under_the_new_key(keyed_control, ini_for, old_key):
    new_key = generate_key()
    settings = {**keyed_control.settings, "backoffice.keys": f"{new_key},{old_key}"}
    config = ini_for(settings)
    _servers, before_tenants = secrets_of(keyed_control)
    passwords = [keyed_control.password(t) for t in before_tenants]

    result = run_cli(config, "keys", "rotate")
    assert result.exit_code == 0, result.output
    new_ring = KeyRing.from_text(new_key)  # the old key can now be retired
    assert result.stdout.splitlines() == [
        f"re-encrypted under key {new_ring.current_id}: 1 server URLs, 2 store passwords",
        "gateway secrets: 0 in 2 stores",
    ]

    servers, tenants = secrets_of(keyed_control)
    for server in servers:
        assert server.admin_url_encrypted.split(".")[1] == new_ring.current_id
        assert new_ring.decrypt_text(server.admin_url_encrypted, context=server.secret_context)
    for tenant, password in zip(tenants, passwords, strict=True):
        assert tenant.db_password_encrypted.split(".")[1] == new_ring.current_id
        assert (
            new_ring.decrypt_text(tenant.db_password_encrypted, context=tenant.password_context)
            == password
        )
    assert {t.db_password_encrypted for t in tenants}.isdisjoint(
        t.db_password_encrypted for t in before_tenants
    )

    # A control plane with only the new key reaches every store.
    fresh = ControlPlane({**keyed_control.settings, "backoffice.keys": new_key})
    try:
        for tenant in tenants:
            engine = create_engine(fresh.runtime_url(tenant), poolclass=NullPool)
            with engine.connect() as conn:
                assert conn.scalar(text("SELECT COUNT(*) FROM customers")) == 0
            engine.dispose()
    finally:
        fresh.dispose()

    again = run_cli(config, "keys", "rotate")
    assert again.stdout.splitlines()[0].endswith("0 server URLs, 0 store passwords")


def test_a_token_moved_to_another_store_does_not_decrypt(keyed_control):
    _servers, (first, second) = secrets_of(keyed_control)
    with keyed_control.session() as session:
        victim = session.get(Tenant, second.id)
        victim.db_password_encrypted = first.db_password_encrypted
        session.commit()
        with pytest.raises(KeyRingError, match=f"does not decrypt for tenant:{second.id}:"):
            keyed_control.password(victim)


def test_rotate_refuses_a_token_moved_to_another_store(keyed_control, ini_for, old_key):
    _servers, (first, second) = secrets_of(keyed_control)
    with keyed_control.session() as session:
        session.get(Tenant, second.id).db_password_encrypted = first.db_password_encrypted
        session.commit()
    config = ini_for({**keyed_control.settings, "backoffice.keys": f"{generate_key()},{old_key}"})
    result = run_cli(config, "keys", "rotate")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: secret does not decrypt for tenant:{second.id}:db_password"
    )
    _servers, tenants = secrets_of(keyed_control)  # nothing was half-rotated
    assert tenants[0].db_password_encrypted == first.db_password_encrypted


def test_new_key_flag_needs_the_key_file(keyed_control, ini_for):
    result = run_cli(ini_for(keyed_control.settings), "keys", "rotate", "--new-key")
    assert result.exit_code == 1
    assert "--new-key works on the key file" in result.stderr
