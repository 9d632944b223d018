"""``backoffice tenants``: create, inspect and operate individual stores."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from backoffice.cli.base import cli, emit, friendly, pass_ctx
from backoffice.schema import store_schema
from tenancy import operations
from tenancy.migrate import migrate_stores, select_stores
from tenancy.models import Tenant, TenantStatus
from tenancy.provisioning import Provisioner, StoreRequest
from tenancy.repair import repair as repair_store
from tenancy.sagas import pause_hook, stuck


def describe(tenant: Tenant) -> dict:
    """What operators may see of a store: everything but its password."""
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "status": tenant.status,
        "server": tenant.server.name,
        "database": tenant.database_name,
        "db_user": tenant.db_user,
        "schema_revision": tenant.schema_revision,
        "version": tenant.version,
        "error": tenant.error,
        "created_at": tenant.created_at,
        "updated_at": tenant.updated_at,
    }


@cli.group()
def tenants() -> None:
    """Stores: each one a database and a MySQL user of its own."""


@tenants.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The store's display name.")
@click.option("--server", default=None, help="Server name (default: the default server).")
@click.option("--owner-email", default=None)
@click.option("--owner-password", default=None, help="At least 8 characters.")
@click.option("--locale", type=click.Choice(["en", "ru", "uk"]), default="en")
@click.option(
    "--resume",
    "--retry",
    "resume",
    is_flag=True,
    help="Carry on with (or retry) a create that failed.",
)
@pass_ctx
@friendly
def create(obj, slug, name, server, owner_email, owner_password, locale, resume):
    """Provision store SLUG: database, user, grants, schema, owner."""
    if bool(owner_email) != bool(owner_password):
        raise click.ClickException("--owner-email and --owner-password go together")
    request = StoreRequest(
        slug=slug,
        name=name,
        server=server,
        owner_email=owner_email,
        owner_password=owner_password,
        locale=locale,
    )
    provisioner = Provisioner(obj.control, store_schema, fault=pause_hook(obj.settings))
    tenant = provisioner.create(request, resume=resume)
    click.echo(
        f"store {tenant.slug} is active (database {tenant.database_name} on {tenant.server.name})"
    )


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--status", default=None, help="Only stores with this status.")
@click.option(
    "--stuck",
    "only_stuck",
    is_flag=True,
    help="Only stores whose create, restore, clone or move died or failed (see 'repair').",
)
@pass_ctx
@friendly
def list_(obj, as_json, status, only_stuck):
    """List stores."""
    if only_stuck:
        return _list_stuck(obj, as_json)
    with obj.control.session() as session:
        query = select(Tenant).order_by(Tenant.slug)
        if status:
            query = query.where(Tenant.status == status)
        rows = [describe(t) for t in session.scalars(query)]

    def render(rows):
        if not rows:
            click.echo("no stores")
            return
        line = "{:<30} {:<12} {:<12} {:<32} {}".format
        click.echo(line("SLUG", "STATUS", "SERVER", "DATABASE", "REVISION"))
        for r in rows:
            click.echo(
                line(
                    r["slug"], r["status"], r["server"], r["database"], r["schema_revision"] or "-"
                )
            )

    emit(rows, as_json, render)


def _list_stuck(obj, as_json):
    with obj.control.session() as session:
        rows = [row.as_dict() for row in stuck(session)]

    def render(rows):
        if not rows:
            click.echo("no stuck stores")
            return
        line = "{:<30} {:<12} {:<10} {:<10} {:<20} {}".format
        click.echo(line("SLUG", "STATUS", "OPERATION", "STEP", "SINCE", "ERROR"))
        for r in rows:
            since = r["lease_since"] or r["updated_at"]
            click.echo(
                line(
                    r["slug"],
                    r["status"],
                    r["operation"] or "-",
                    r["step"] or "-",
                    f"{since:%Y-%m-%d %H:%M:%S}" if since else "-",
                    (r["error"] or "-").splitlines()[0][:120],
                )
            )

    emit(rows, as_json, render)


@tenants.command("repair")
@click.argument("slug")
@pass_ctx
@friendly
def repair(obj, slug):
    """Take over a create, restore, clone or move that died (its lease expired) and
    finish it: resume the create, or drop the half-built copy; safe to run twice."""
    click.echo(repair_store(obj.control, store_schema, slug, fault=pause_hook(obj.settings)))


@tenants.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def show(obj, slug, as_json):
    """Show one store (never its password)."""
    with obj.control.session() as session:
        data = describe(obj.control.tenant(session, slug))

    def render(data):
        for key, value in data.items():
            click.echo(f"{key:<16} {'' if value is None else value}")

    emit(data, as_json, render)


def _simple(name: str, action, done: str, help_text: str):
    @tenants.command(name, help=help_text)
    @click.argument("slug")
    @pass_ctx
    @friendly
    def command(obj, slug):
        with obj.control.session() as session:
            tenant = action(obj.control, session, slug)
            click.echo(f"store {tenant.slug} {done}")

    return command


_simple(
    "suspend",
    operations.suspend,
    "suspended",
    "Stop serving the store (403) without touching its data.",
)
_simple("resume", operations.resume, "is active again", "Serve a suspended store again.")
_simple(
    "rotate-password",
    operations.rotate_password,
    "has a new database password",
    "Give the store's MySQL user a new password; the old one stops working.",
)


@tenants.command("limit-connections")
@click.argument("slugs", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every store.")
@pass_ctx
@friendly
def limit_connections(obj, slugs, all_):
    """Apply backoffice.store_max_connections to existing stores' MySQL users."""
    if bool(slugs) == all_:
        raise click.ClickException("name the stores, or pass --all (not both)")
    limit = obj.control.settings.get("backoffice.store_max_connections") or "0"
    if limit == "0":
        raise click.ClickException("backoffice.store_max_connections is 0 (off): set it first")
    with obj.control.session() as session:
        query = select(Tenant).order_by(Tenant.slug)
        if all_:  # stores whose user exists and is not being replaced
            query = query.where(Tenant.status.in_([TenantStatus.ACTIVE, TenantStatus.SUSPENDED]))
        else:
            query = query.where(Tenant.slug.in_(slugs))
        stores = list(session.scalars(query))
    for missing in sorted(set(slugs) - {t.slug for t in stores}):
        raise click.ClickException(f"no store with slug {missing!r}")
    for tenant in stores:
        if obj.control.backend(tenant.server).limit_connections(tenant.db_user):
            click.echo(f"store {tenant.slug}: at most {limit} connections")
        else:
            click.echo(f"store {tenant.slug}: no connection limit on this server")


@tenants.command("drop")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Really drop the database and all its data.")
@pass_ctx
@friendly
def drop(obj, slug, yes):
    """Drop the store's database and user, and forget the store."""
    if not yes:
        raise click.ClickException(
            f"dropping {slug} deletes all its data; repeat with --yes to do it"
        )
    with obj.control.session() as session:
        operations.drop(obj.control, session, slug)
    click.echo(f"store {slug} dropped")


@tenants.command("migrate")
@click.argument("slugs", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every active or suspended store.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def migrate(obj, slugs, all_, concurrency, as_json):
    """Upgrade stores' schemas to the newest revision; one failure stops no other."""
    if bool(slugs) == all_:
        raise click.ClickException("name the stores to migrate, or pass --all (not both)")
    stores, missing = select_stores(obj.control, None if all_ else slugs)
    rows = [
        {"slug": s, "ok": False, "revision": None, "error": "no such store", "seconds": 0.0}
        for s in missing
    ]
    with click.progressbar(
        length=len(stores), label="migrating", hidden=as_json, file=sys.stderr
    ) as bar:
        results = migrate_stores(
            obj.control,
            store_schema,
            stores,
            concurrency=concurrency,
            on_result=lambda _result: bar.update(1),
        )
    rows += [
        {
            "slug": r.slug,
            "ok": r.ok,
            "revision": r.revision,
            "error": r.error,
            "seconds": round(r.seconds, 3),
        }
        for r in results
    ]
    failed = sum(not r["ok"] for r in rows)

    def render(rows):
        for r in rows:
            state = f"ok {r['revision']}" if r["ok"] else f"FAILED {r['error']}"
            click.echo(f"{r['slug']:<30} {state}")
        click.echo(f"{len(rows) - failed} migrated, {failed} failed")

    emit(rows, as_json, render)
    if failed:
        raise SystemExit(1)
