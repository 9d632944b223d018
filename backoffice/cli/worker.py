"""``backoffice worker``: run background tasks (needs ``backoffice.broker_url``)."""

from __future__ import annotations

import click

from backoffice.cli.base import cli, friendly, pass_ctx
from backoffice.config import configure
from backoffice.tasks.worker import run_worker


@cli.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 512),
    default=None,
    help="Worker processes (default: one per CPU).",
)
@click.option(
    "--loglevel",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default="prefork",
    show_default=True,
)
@click.option("--hostname", default=None, help="Node name, e.g. worker1@%h.")
@click.option(
    "--beat", is_flag=True, help="Also run the periodic tasks (backups prune); in one worker only."
)
@click.option(
    "--schedule-file",
    default=None,
    help="Where beat keeps its last-run times (default: celerybeat-schedule).",
)
@pass_ctx
@friendly
def worker(obj, concurrency, loglevel, pool, hostname, beat, schedule_file):
    """Run a Celery worker with the same configuration as the web app."""
    config = configure(obj.settings, control=obj.control)
    config.commit()
    app = config.registry.celery
    if app.conf.task_always_eager:
        raise click.ClickException(
            "backoffice.broker_url (BACKOFFICE_BROKER_URL) is not set: tasks run "
            "eagerly in the web process and need no worker"
        )
    raise SystemExit(
        run_worker(
            app,
            concurrency=concurrency,
            loglevel=loglevel,
            pool=pool,
            hostname=hostname,
            beat=beat,
            schedule_file=schedule_file,
        )
    )
