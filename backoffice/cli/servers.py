"""``backoffice servers``: the MySQL/MariaDB servers stores can live on."""

import time

import click
from sqlalchemy import select

from backoffice.cli.base import cli, emit, friendly, pass_ctx
from backoffice.schema import store_schema
from backoffice.tasks.app import make_celery
from backoffice.tasks.maintenance import DRAIN_TASK
from tenancy import fleet
from tenancy.models import DatabaseServer, Job, ServerStatus
from tenancy.placement import server_loads


@cli.group()
def servers() -> None:
    """Register, list, mark and drain database servers."""


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
    """List servers with their stores, data size, connections and placement load
    (never their credentials)."""
    with obj.control.session() as session:
        servers_ = list(session.scalars(select(DatabaseServer).order_by(DatabaseServer.name)))
        hosts = {s.name: s.user_host for s in servers_}
        rows = [
            {**load.as_dict(), "user_host": hosts[load.name]}
            for load in server_loads(obj.control, session, servers_)
        ]

    def render(rows):
        if not rows:
            click.echo("no servers registered: backoffice servers add NAME URL")
            return
        line = "{} {:<20} {:<7} {:<9} {:>6} {:>10} {:>11} {:>6}".format
        click.echo(
            line(" ", "NAME", "KIND", "STATUS", "STORES", "SIZE", "CONNECTIONS", "LOAD")
            + "   (* the default)"
        )
        for r in rows:
            connections = f"{r['connections']}/{r['max_connections'] or '-'}"
            click.echo(
                line(
                    "*" if r["default"] else " ",
                    r["name"],
                    r["kind"],
                    r["status"],
                    r["stores"],
                    _size(r["size_bytes"]),
                    connections,
                    f"{r['load']:.2f}",
                )
                + (f"   unreachable: {r['error']}" if r["error"] else "")
            )

    emit(rows, as_json, render)


@servers.command("mark")
@click.argument("name")
@click.argument("status", type=click.Choice([s.value for s in ServerStatus]))
@pass_ctx
@friendly
def mark(obj, name, status):
    """Mark server NAME active (takes new stores), draining or full (takes none)."""
    fleet.mark(obj.control, name, status)
    click.echo(f"server {name} is {status}")


@servers.command("drain")
@click.argument("name")
@click.option("--wait", is_flag=True, help="Stay and show the progress until it is done.")
@pass_ctx
@friendly
def drain(obj, name, wait):
    """Mark server NAME draining and move all its stores to other servers.

    With a broker (backoffice.broker_url) a worker runs the drain and this
    command returns at once (--wait follows its progress); without one the
    drain runs here."""
    job_id = fleet.start_drain(obj.control, name)
    app = make_celery(obj.settings)
    if app.conf.task_always_eager:
        job = fleet.drain(obj.control, store_schema, job_id, on_store=_show_store)
    else:
        app.send_task(DRAIN_TASK, args=[job_id])
        click.echo(f"server {name} is draining: job {job_id} queued")
        if not wait:
            return
        job = _follow(obj.control, job_id)
    click.echo(
        f"server {name}: {len(job.detail.get('moved', []))} stores moved, "
        f"{len(job.detail.get('skipped', {}))} skipped, {len(job.detail.get('failed', {}))} failed"
    )
    if job.state != "done":
        raise click.ClickException(job.error or f"drain job {job_id} is {job.state}")


def _show_store(job, slug: str, error: str | None) -> None:
    click.echo(f"[{job.progress}] {slug}: {'moved' if error is None else error}")


def _follow(control, job_id: int, every: float = 1.0):
    shown = None
    while True:
        with control.session() as session:
            job = session.get(Job, job_id)
            session.expunge(job)
        if job.progress != shown:
            click.echo(f"[{job.progress}] {job.state}")
            shown = job.progress
        if job.state not in {"queued", "running"}:
            return job
        time.sleep(every)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
