"""``backoffice tenants backup|restore|clone|move`` and ``backoffice backups``."""

from __future__ import annotations

import functools
import sys

import click

from backoffice.cli.base import cli, emit, friendly, pass_ctx
from backoffice.cli.tenants import tenants
from backoffice.schema import store_schema
from tenancy.backups.archive import BackupError
from tenancy.backups.restore import Copier
from tenancy.backups.retention import prune as prune_backups
from tenancy.backups.service import backup_store, list_backups, verify_backup


def backup_errors(func):
    """A refused or failed backup operation is one line on stderr, exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BackupError as exc:
            raise click.ClickException(str(exc).strip().splitlines()[0]) from None

    return wrapper


class RowBar:
    """A progress bar on stderr fed with row counts (the total may be unknown at
    first); hidden off a terminal: a cron job's or a script's stderr gets no bar
    text, so an error is its only line there."""

    def __init__(self, label: str, total: int | None = None):
        self.bar = click.progressbar(
            length=total or 0,
            label=label,
            show_pos=True,
            file=sys.stderr,
            hidden=not sys.stderr.isatty(),
        )
        self.done = 0

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def total(self, done: int, total: int) -> None:
        self.bar.length = max(total, 1)
        self.bar.update(done - self.done)
        self.done = done

    def add(self, n: int) -> None:
        self.total(self.done + n, max(self.bar.length or 0, self.done + n))


def describe(record) -> dict:
    return {
        "id": record.id,
        "store": record.tenant_slug,
        "state": record.state,
        "created_at": record.created_at,
        "size": record.size,
        "schema_revision": record.schema_revision,
        "source": record.source_dialect,
        "key_id": record.key_id,
        "rows": sum((record.row_counts or {}).values()),
        "sha256": record.sha256,
        "path": record.path,
        "error": record.error,
    }


@tenants.command("backup")
@click.argument("slug")
@pass_ctx
@friendly
@backup_errors
def backup(obj, slug):
    """Write an encrypted, consistent backup of store SLUG."""
    with RowBar("backing up") as bar:
        record = backup_store(obj.control, slug, on_progress=bar.total)
    click.echo(
        f"backup {record.id} of {slug}: {sum(record.row_counts.values())} rows, "
        f"{record.size} bytes, {record.path}"
    )


@tenants.command("restore")
@click.argument("slug")
@click.option("--backup", "backup_id", required=True, help="The backup's id.")
@click.option("--as", "as_slug", default=None, help="Restore into a new store instead.")
@click.option(
    "--server",
    default=None,
    help="With --as: the server of the new store (default: the default server).",
)
@pass_ctx
@friendly
@backup_errors
def restore(obj, slug, backup_id, as_slug, server):
    """Restore store SLUG from a backup into a fresh database, then switch to it."""
    with RowBar("restoring") as bar:
        tenant = Copier(obj.control, store_schema).restore(
            slug, backup_id, as_slug=as_slug, server=server, on_rows=bar.add
        )
    click.echo(
        f"store {tenant.slug} restored from {backup_id} (database "
        f"{tenant.database_name}, revision {tenant.schema_revision})"
    )


@tenants.command("clone")
@click.argument("slug")
@click.argument("new_slug")
@pass_ctx
@friendly
@backup_errors
def clone(obj, slug, new_slug):
    """Copy store SLUG into a new, independent store NEW_SLUG (a sandbox)."""
    with RowBar("cloning") as bar:
        tenant = Copier(obj.control, store_schema).clone(slug, new_slug, on_rows=bar.add)
    click.echo(f"store {tenant.slug} created as a copy of {slug} (database {tenant.database_name})")


@tenants.command("move")
@click.argument("slug")
@click.option(
    "--to-server",
    "server",
    default=None,
    help="The registered server's name (default: the one with the most headroom).",
)
@pass_ctx
@friendly
@backup_errors
def move(obj, slug, server):
    """Copy store SLUG to another server while it serves, then switch in a short
    write freeze, and drop the old copy."""
    with RowBar("moving") as bar:
        tenant = Copier(obj.control, store_schema).move(slug, server, on_rows=bar.add)
    click.echo(
        f"store {tenant.slug} now lives on {tenant.server.name} (database {tenant.database_name})"
    )


@cli.group()
def backups() -> None:
    """Encrypted backups of stores: list, verify, prune."""


@backups.command("list")
@click.argument("slug", required=False)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def list_(obj, slug, as_json):
    """List backups, newest first (of one store if SLUG is given)."""
    with obj.control.session() as session:
        rows = [describe(b) for b in list_backups(session, slug)]

    def render(rows):
        if not rows:
            click.echo("no backups")
            return
        line = "{:<26} {:<30} {:<8} {:>10} {:>12}  {}".format
        click.echo(line("ID", "STORE", "STATE", "ROWS", "BYTES", "REVISION"))
        for r in rows:
            click.echo(
                line(
                    r["id"],
                    r["store"],
                    r["state"],
                    r["rows"],
                    r["size"] or 0,
                    r["schema_revision"] or "-",
                )
            )

    emit(rows, as_json, render)


@backups.command("verify")
@click.argument("backup_id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
@backup_errors
def verify(obj, backup_id, as_json):
    """Decrypt backup ID and check every chunk, count and checksum (no restore)."""
    manifest = verify_backup(obj.control, backup_id)

    def render(m):
        rows = sum(t["rows"] for t in m["tables"].values())
        click.echo(
            f"backup {backup_id} is intact: store {m['tenant']}, revision "
            f"{m['schema_revision']}, {len(m['tables'])} tables, {rows} rows"
        )

    emit(manifest, as_json, render)


@backups.command("prune")
@click.option(
    "--daily",
    type=int,
    default=None,
    help="Days to keep (default: backoffice.backup_keep_daily, 7).",
)
@click.option(
    "--weekly",
    type=int,
    default=None,
    help="Weeks to keep (default: backoffice.backup_keep_weekly, 4).",
)
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def prune(obj, daily, weekly, dry_run, as_json):
    """Delete backups beyond the last N daily and M weekly of every store."""
    result = prune_backups(obj.control, daily=daily, weekly=weekly, dry_run=dry_run)
    data = {"kept": result.kept, "deleted": result.deleted, "dry_run": dry_run}

    def render(d):
        verb = "would delete" if dry_run else "deleted"
        click.echo(f"kept {len(d['kept'])} backups, {verb} {len(d['deleted'])}")

    emit(data, as_json, render)
