"""``backoffice servers``: the MySQL/MariaDB servers stores can live on."""

import click
from sqlalchemy import func, select

from backoffice.cli.base import cli, emit, friendly, pass_ctx
from tenancy.models import DatabaseServer, Tenant


@cli.group()
def servers() -> None:
    """Register and list database servers."""


@servers.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--default", "make_default", is_flag=True, help="New stores go here.")
@click.option("--user-host", default=None, help="Host part of store users (default '%').")
@pass_ctx
@friendly
def add(obj, name, url, make_default, user_host):
    """Register server NAME with its admin URL (the DDL identity), e.g.
    mysql+pymysql://provisioner:secret@db1:3306/ . The URL is stored encrypted."""
    control = obj.control
    with control.session() as session:
        server = control.add_server(session, name, url, default=make_default, user_host=user_host)
        backend = control.backend(server)
        backend.database_exists("mysql")  # proves the URL works before saving it
        session.commit()
        click.echo(
            f"server {name} ({server.kind}) registered"
            + (" as the default" if server.is_default else "")
        )


@servers.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def list_(obj, as_json):
    """List servers (never their credentials)."""
    with obj.control.session() as session:
        rows = []
        for server in session.scalars(select(DatabaseServer).order_by(DatabaseServer.name)):
            count = session.scalar(select(func.count()).where(Tenant.server_id == server.id))
            rows.append(
                {
                    "name": server.name,
                    "kind": server.kind,
                    "status": server.status,
                    "default": server.is_default,
                    "user_host": server.user_host,
                    "stores": count,
                }
            )

    def render(rows):
        if not rows:
            click.echo("no servers registered: backoffice servers add NAME URL")
            return
        line = "{} {:<20} {:<7} {:<9} {:>6}".format
        click.echo(line(" ", "NAME", "KIND", "STATUS", "STORES") + "   (* the default)")
        for r in rows:
            click.echo(
                line("*" if r["default"] else " ", r["name"], r["kind"], r["status"], r["stores"])
            )

    emit(rows, as_json, render)
