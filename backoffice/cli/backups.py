"""``backoffice tenants backup|restore|clone|move`` and ``backoffice backups``."""

from __future__ import annotations

import functools
import json
import sys

import click

from backoffice.cli.base import cli, emit, friendly, pass_ctx
from backoffice.cli.tenants import tenants
from backoffice.schema import store_schema
from tenancy.backups.archive import BackupError
from tenancy.backups.restore import Copier
from tenancy.backups.retention import prune as prune_backups
from tenancy.backups.safekeeping import (
    backup_many,
    backup_slugs,
    fetch_offsite,
    safe_backup,
    stale_stores,
)
from tenancy.backups.service import list_backups, verify_backup
from tenancy.sagas import pause_hook


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
        "offsite_key": record.offsite_key,
    }


@tenants.command("backup")
@click.argument("slug", required=False)
@click.option("--all", "all_", is_flag=True, help="Every active or suspended store.")
@click.option("--concurrency", type=click.IntRange(1, 32), default=2, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="With --all: the results as JSON.")
@pass_ctx
@friendly
@backup_errors
def backup(obj, slug, all_, concurrency, as_json):
    """Write an encrypted, consistent backup of store SLUG (or of --all stores),
    verify it, and copy it off-site when backoffice.offsite_bucket is set."""
    if bool(slug) == all_:
        raise click.ClickException("name one store, or pass --all (not both)")
    if all_:
        backup_all(obj.control, concurrency, as_json)
        return
    with RowBar("backing up") as bar:
        record = safe_backup(obj.control, slug, on_progress=bar.total)
    where = f", off-site {record.offsite_key}" if record.offsite_key else ""
    click.echo(
        f"backup {record.id} of {slug}: {sum(record.row_counts.values())} rows, "
        f"{record.size} bytes, {record.path}{where}"
    )


def backup_all(control, concurrency: int, as_json: bool) -> None:
    """One line per store as it finishes; exit status 1 if any store failed."""
    slugs = backup_slugs(control)
    with click.progressbar(
        length=len(slugs), label="backing up", file=sys.stderr, hidden=not sys.stderr.isatty()
    ) as bar:

        def report(result):
            bar.update(1)
            if not as_json:
                click.echo(result_line(result))

        results = backup_many(control, slugs, concurrency=concurrency, on_result=report)
    failed = sum(not r.ok for r in results)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        click.echo(f"{len(results) - failed} backed up, {failed} failed")
    if failed:
        raise SystemExit(1)


def result_line(r) -> str:
    if not r.ok:
        return f"{r.slug:<30} FAILED {r.error}"
    offsite = " off-site" if r.offsite_key else ""
    return f"{r.slug:<30} ok {r.backup_id} {r.rows} rows {r.size} bytes{offsite} ({r.seconds}s)"


@tenants.command("restore")
@click.argument("slug")
@click.option("--backup", "backup_id", required=True, help="The backup's id.")
@click.option("--as", "as_slug", default=None, help="Restore into a new store instead.")
@click.option(
    "--server",
    default=None,
    help="With --as: the server of the new store (default: the default server).",
)
@click.option("--yes", is_flag=True, help="In place: really replace the live database.")
@click.option(
    "--from-offsite",
    is_flag=True,
    help="Download the off-site copy even if the local file exists (it is "
    "downloaded anyway when the local file is missing).",
)
@pass_ctx
@friendly
@backup_errors
def restore(obj, slug, backup_id, as_slug, server, yes, from_offsite):
    """Restore store SLUG from a backup into a fresh database, then switch to it.

    In place, the live database is backed up first (the safety backup, named in
    the output), so what was written since backup ID can be got back."""
    if not as_slug and not yes:
        _confirm_in_place(slug, backup_id)
    if fetch_offsite(obj.control, backup_id, force=from_offsite):
        click.echo(f"backup {backup_id} downloaded from off-site storage", err=True)
    copier = Copier(obj.control, store_schema, fault=pause_hook(obj.settings))
    with RowBar("restoring") as bar:
        tenant = copier.restore(slug, backup_id, as_slug=as_slug, server=server, on_rows=bar.add)
    click.echo(
        f"store {tenant.slug} restored from {backup_id} (database "
        f"{tenant.database_name}, revision {tenant.schema_revision})"
    )
    if copier.safety_backup is not None:
        safety = copier.safety_backup.id
        click.echo(
            f"what it held before is safety backup {safety}; to go back: "
            f"backoffice tenants restore {slug} --backup {safety} --yes"
        )


def _confirm_in_place(slug: str, backup_id: str) -> None:
    """A restore in place replaces the live data: asked on a terminal, --yes elsewhere."""
    question = (
        f"replace the live database of store {slug} with backup {backup_id}? "
        "(a safety backup of it is taken first)"
    )
    if sys.stdin.isatty():
        click.confirm(question, abort=True)
        return
    raise click.ClickException(
        f"restoring {slug} in place replaces its live database (a safety backup is "
        "taken first); repeat with --yes to do it"
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
        copier = Copier(obj.control, store_schema, fault=pause_hook(obj.settings))
        tenant = copier.clone(slug, new_slug, on_rows=bar.add)
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
        copier = Copier(obj.control, store_schema, fault=pause_hook(obj.settings))
        tenant = copier.move(slug, server, on_rows=bar.add)
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
    data = {
        "kept": result.kept,
        "deleted": result.deleted,
        "offsite_deleted": result.offsite_deleted,
        "errors": result.errors,
        "dry_run": dry_run,
    }

    def render(d):
        verb = "would delete" if dry_run else "deleted"
        offsite = f" ({len(d['offsite_deleted'])} off-site too)" if d["offsite_deleted"] else ""
        click.echo(f"kept {len(d['kept'])} backups, {verb} {len(d['deleted'])}{offsite}")
        for error in d["errors"]:
            click.echo(f"error: {error}", err=True)

    emit(data, as_json, render)
    if result.errors:
        raise SystemExit(1)


@backups.command("stale")
@click.option("--hours", type=float, default=24.0, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def stale(obj, hours, as_json):
    """Stores whose last good backup is older than --hours; exit status 1 if any
    (for monitoring)."""
    late = [s.as_dict() for s in stale_stores(obj.control, hours)]

    def render(rows):
        if not rows:
            click.echo(f"every store has a good backup from the last {hours:g} hours")
            return
        line = "{:<30} {:<10} {:<26} {:>8}".format
        click.echo(line("STORE", "STATUS", "LAST GOOD BACKUP", "HOURS"))
        for r in rows:
            click.echo(line(r["slug"], r["status"], r["last_backup_id"] or "none", r["hours"]))

    emit(late, as_json, render)
    if late:
        raise SystemExit(1)
