"""``backoffice tenants backup|restore`` and ``backoffice backups list|verify|prune``,
as an operator runs them: real stores on MariaDB, real files, the CLI's own output.

The library underneath is tested in ``tests/tenancy/backups``; these tests hold
the command line to what it prints, what it refuses (one line, exit status 1,
no traceback) and that a restore through it brings the data back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.backoffice.admin_fixtures import store_engine
from tests.backoffice.test_cli_tenants import one_error_line


@pytest.fixture
def store(make_store, mysql_control):
    tenant = make_store(owner=True)
    engine = store_engine(mysql_control, tenant)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, description, price_minor, stock, "
                "is_active, created_at, updated_at) VALUES ('TEA-1', 'Sencha <b>', "
                "'', 450, 7, 1, NOW(), NOW())"
            )
        )
    yield tenant
    engine.dispose()


def products(control, tenant) -> list[tuple]:
    engine = store_engine(control, tenant)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text("SELECT sku, name, price_minor, stock FROM products ORDER BY sku")
                )
            ]
    finally:
        engine.dispose()


def backed_up(bo, slug: str) -> tuple[str, Path]:
    result = bo("tenants", "backup", slug)
    assert result.exit_code == 0, result.output
    line = result.stdout.strip()
    assert line.startswith("backup ") and f" of {slug}: " in line, line
    backup_id = line.split()[1]
    path = Path(line.rsplit(", ", 1)[1])
    assert path.is_file() and path.stat().st_size == int(line.split(", ")[1].split()[0])
    return backup_id, path


def test_backup_list_verify_and_restore(bo, store, mysql_control):
    backup_id, _path = backed_up(bo, store.slug)

    table = bo("backups", "list", store.slug).stdout.splitlines()
    assert table[0].split() == ["ID", "STORE", "STATE", "ROWS", "BYTES", "REVISION"]
    [row] = [line.split() for line in table[1:]]
    assert row[:3] == [backup_id, store.slug, "done"]
    [listed] = json.loads(bo("backups", "list", store.slug, "--json").stdout)
    assert listed["id"] == backup_id and listed["rows"] == int(row[3]) >= 2
    assert listed["schema_revision"] == row[5]

    verified = bo("backups", "verify", backup_id)
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.startswith(f"backup {backup_id} is intact: store {store.slug}")

    # The store changes after the backup; the restore brings back what was saved.
    engine = store_engine(mysql_control, store)
    with engine.begin() as conn:
        conn.execute(text("UPDATE products SET stock = 0, name = 'changed'"))
    engine.dispose()
    restored = bo("tenants", "restore", store.slug, "--backup", backup_id, "--yes")
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.startswith(f"store {store.slug} restored from {backup_id}")
    with mysql_control.session() as session:
        tenant = mysql_control.tenant(session, store.slug)
    assert products(mysql_control, tenant) == [("TEA-1", "Sencha <b>", 450, 7)]


def test_restore_as_a_new_store_leaves_the_original(bo, store, mysql_control):
    backup_id, _path = backed_up(bo, store.slug)
    copy_slug = store.slug + "-copy"
    result = bo("tenants", "restore", store.slug, "--backup", backup_id, "--as", copy_slug)
    assert result.exit_code == 0, result.output
    assert bo("tenants", "show", copy_slug, "--json").exit_code == 0
    with mysql_control.session() as session:
        copy = mysql_control.tenant(session, copy_slug)
        original = mysql_control.tenant(session, store.slug)
    assert copy.database_name != original.database_name
    assert products(mysql_control, copy) == products(mysql_control, original)


def test_a_corrupt_backup_is_refused_in_one_line_and_restores_nothing(bo, store, mysql_control):
    backup_id, path = backed_up(bo, store.slug)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    line = one_error_line(bo("backups", "verify", backup_id))
    assert "fails authentication (tampered" in line, line
    with mysql_control.session() as session:
        before = mysql_control.tenant(session, store.slug).database_name
    line = one_error_line(bo("tenants", "restore", store.slug, "--backup", backup_id, "--yes"))
    with mysql_control.session() as session:
        after = mysql_control.tenant(session, store.slug)
    assert after.database_name == before and after.status == "active"
    assert products(mysql_control, after) == [("TEA-1", "Sencha <b>", 450, 7)]


def test_unknown_backup_and_store_are_one_line_each(bo, store):
    assert "nope" in one_error_line(bo("backups", "verify", "nope"))
    assert "no-such-store" in one_error_line(bo("tenants", "backup", "no-such-store"))
    assert bo("backups", "list", "no-such-store").stdout.strip() == "no backups"


def test_prune_dry_run_says_what_it_would_delete_and_deletes_nothing(bo, store):
    backup_id, path = backed_up(bo, store.slug)
    result = bo("backups", "prune", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["dry_run"] is True and backup_id in data["kept"]
    text_result = bo("backups", "prune", "--dry-run")
    assert text_result.stdout.startswith("kept ") and "would delete" in text_result.stdout
    assert path.is_file()


def test_restore_in_place_needs_yes_and_keeps_a_safety_backup(bo, store, mysql_control):
    """Finding 3: a restore in place replaced the live data without asking and without
    keeping what was written since the backup."""
    backup_id, _path = backed_up(bo, store.slug)
    engine = store_engine(mysql_control, store)
    with engine.begin() as conn:  # written after the backup
        conn.execute(text("UPDATE products SET stock = 3"))
    engine.dispose()

    line = one_error_line(bo("tenants", "restore", store.slug, "--backup", backup_id))
    assert "replaces its live database" in line and "--yes" in line
    with mysql_control.session() as session:
        tenant = mysql_control.tenant(session, store.slug)
    assert tenant.database_name == store.database_name
    assert products(mysql_control, tenant) == [("TEA-1", "Sencha <b>", 450, 3)]

    restored = bo("tenants", "restore", store.slug, "--backup", backup_id, "--yes")
    assert restored.exit_code == 0, restored.output
    first, second = restored.stdout.strip().splitlines()
    assert first.startswith(f"store {store.slug} restored from {backup_id}")
    safety = second.split("safety backup ")[1].split(";")[0]
    assert second.endswith(f"backoffice tenants restore {store.slug} --backup {safety} --yes")
    listed = json.loads(bo("backups", "list", store.slug, "--json").stdout)
    # Newest first; the safety backup and the one restored may share a second, and
    # the list's order within one second is not chronological.
    assert {b["id"] for b in listed[:2]} == {safety, backup_id}
    assert listed[0]["state"] == "done"
    with mysql_control.session() as session:
        tenant = mysql_control.tenant(session, store.slug)
    assert products(mysql_control, tenant) == [("TEA-1", "Sencha <b>", 450, 7)]

    back = bo("tenants", "restore", store.slug, "--backup", safety, "--yes")
    assert back.exit_code == 0, back.output
    with mysql_control.session() as session:
        tenant = mysql_control.tenant(session, store.slug)
    assert products(mysql_control, tenant) == [("TEA-1", "Sencha <b>", 450, 3)]
