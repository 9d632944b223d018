"""``backoffice init | demo | serve``: the embedded default and the web server."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from backoffice.cli.base import cli, friendly, pass_ctx
from backoffice.config import serving_app
from backoffice.demo import seed
from backoffice.observability.logs import configure_logging
from backoffice.payments.configs import GatewaySettings
from backoffice.schema import store_schema
from backoffice.web import serving
from payments.registry import default_registry
from tenancy.db import make_engine
from tenancy.keyring import load_keyring
from tenancy.migrate import init_control
from tenancy.models import DatabaseServer, Tenant
from tenancy.provisioning import Provisioner, StoreRequest
from tenancy.settings import is_production

DEMO_SLUG = "demo"
DEMO_OWNER = ("owner@demo.example", "demo-password")


def initialise(obj, embedded_server: bool | None = None) -> None:
    """Keys, the control database, and (embedded by default only on SQLite) a
    server ``local`` keeping the stores in SQLite files."""
    settings = obj.settings
    keys_from_file = not settings.get("backoffice.keys")
    load_keyring(settings, create=not is_production(settings))
    if keys_from_file:
        click.echo(
            f"encryption keys: {settings['backoffice.keys_file']} "
            "(keep it secret; back it up with the data)"
        )
    url = settings["backoffice.control_url"]
    on_sqlite = url.startswith("sqlite:///")
    if on_sqlite:
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    revision = init_control(obj.control.engine)
    click.echo(f"control database ready at revision {revision}")
    embedded = on_sqlite if embedded_server is None else embedded_server
    with obj.control.session() as session:
        if session.scalar(select(DatabaseServer.id).limit(1)) is not None:
            return
        if embedded:
            store_dir = Path(settings["backoffice.store_dir"])
            obj.control.add_server(session, "local", f"sqlite:///{store_dir}", default=True)
            session.commit()
            click.echo(f"embedded server 'local' stores its shops in {store_dir}")
        else:
            click.echo("next, add a database server: backoffice servers add NAME URL --default")


@cli.command()
@click.option(
    "--embedded-server/--no-embedded-server",
    default=None,
    help="Register the server 'local' (stores as SQLite files) when no server exists. "
    "Default: only when the control database is SQLite.",
)
@pass_ctx
@friendly
def init(obj, embedded_server):
    """Create or upgrade the control database (and, embedded, a key and the local server)."""
    initialise(obj, embedded_server)


@cli.command()
@click.option("--serve/--no-serve", default=True, help="Start the web server afterwards.")
@pass_ctx
@friendly
def demo(obj, serve):
    """Set up the embedded default with a demo store full of sample data."""
    initialise(obj)
    control = obj.control
    with control.session() as session:
        exists = session.scalar(select(Tenant.id).where(Tenant.slug == DEMO_SLUG))
    host, port = serving.listen_address(obj.settings)
    if not exists:
        tenant = Provisioner(control, store_schema).create(
            StoreRequest(
                slug=DEMO_SLUG,
                name="Demo Tea Shop",
                owner_email=DEMO_OWNER[0],
                owner_password=DEMO_OWNER[1],
            )
        )
        engine = make_engine(control.runtime_url(tenant), poolclass=NullPool)
        with engine.begin() as conn:
            seed(conn)
        with Session(engine) as db, db.begin():
            _demo_payments(
                GatewaySettings(db, control.keyring, tenant.id, default_registry()),
                f"http://{host}:{port}/s/{DEMO_SLUG}",
            )
        engine.dispose()
        click.echo(f"demo store '{DEMO_SLUG}' created with sample orders")
    click.echo(
        f"back-office:  http://{host}:{port}/s/{DEMO_SLUG}/admin/  "
        f"(log in as {DEMO_OWNER[0]} / {DEMO_OWNER[1]})"
    )
    click.echo(f"checkout:     http://{host}:{port}/s/{DEMO_SLUG}/checkout")
    if serve:
        _serve_waitress(obj)


def _demo_payments(gateways: GatewaySettings, store_url: str) -> None:
    """The checkout's payment step as a shopper meets it: test card payments (the
    sandbox gateway, whose card page this server serves itself) and cash on
    delivery. No real provider is set up."""
    gateways.save(
        "sandbox",
        {"page_url": f"{store_url}/payments/sandbox", "secret": secrets.token_urlsafe(32)},
        position=1,
    )
    gateways.set_enabled("sandbox", True)
    gateways.save("cod", {}, position=2)
    gateways.set_enabled("cod", True)


def _serve_waitress(obj) -> None:
    host, port = serving.listen_address(obj.settings)
    app = serving_app(obj.settings, control=obj.control)
    click.echo(f"serving on http://{host}:{port} (Ctrl-C stops)")
    serving.run_waitress(app, host, port, serving.thread_count(obj.settings))


@cli.command()
@click.option(
    "--server",
    type=click.Choice(["gunicorn", "waitress"]),
    default="gunicorn",
    show_default=True,
    help="gunicorn: backoffice.workers processes; waitress: one process (embedded SQLite).",
)
@pass_ctx
@friendly
def serve(obj, server):
    """Serve the web app (backoffice.listen_host/_port, .workers, .threads)."""
    configure_logging(obj.settings)
    if server == "waitress":
        _serve_waitress(obj)
        return
    host, port = serving.listen_address(obj.settings)
    workers = serving.worker_count(obj.settings)
    click.echo(f"serving on http://{host}:{port} with {workers} gunicorn workers (Ctrl-C stops)")
    serving.run_gunicorn(obj.settings)
