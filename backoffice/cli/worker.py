"""``backoffice worker`` runs background tasks, ``backoffice beat`` queues the periodic
ones (both need ``backoffice.broker_url``)."""

from __future__ import annotations

import click

from backoffice.cli.base import cli, friendly, pass_ctx
from backoffice.config import configure
from backoffice.tasks.worker import run_beat, run_worker

LOGLEVEL = click.option(
    "--loglevel",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
)
SCHEDULE_FILE = click.option(
    "--schedule-file",
    default=None,
    help="Where beat keeps its last-run times (default: celerybeat-schedule).",
)


def celery_app(obj):
    """The Celery app configured like the web app; refused without a broker."""
    config = configure(obj.settings, control=obj.control)
    config.commit()
    app = config.registry.celery
    if app.conf.task_always_eager:
        raise click.ClickException(
            "backoffice.broker_url (BACKOFFICE_BROKER_URL) is not set: tasks run "
            "eagerly in the web process and need no worker or beat"
        )
    return app


@cli.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 512),
    default=None,
    help="Worker processes (default: one per CPU).",
)
@LOGLEVEL
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default="prefork",
    show_default=True,
)
@click.option("--hostname", default=None, help="Node name, e.g. worker1@%h.")
@click.option(
    "--beat",
    is_flag=True,
    help="Also run the periodic tasks (backups prune); in one worker only, "
    "and not beside 'backoffice beat'.",
)
@SCHEDULE_FILE
@pass_ctx
@friendly
def worker(obj, concurrency, loglevel, pool, hostname, beat, schedule_file):
    """Run a Celery worker with the same configuration as the web app."""
    raise SystemExit(
        run_worker(
            celery_app(obj),
            concurrency=concurrency,
            loglevel=loglevel,
            pool=pool,
            hostname=hostname,
            beat=beat,
            schedule_file=schedule_file,
        )
    )


@cli.command()
@LOGLEVEL
@SCHEDULE_FILE
@pass_ctx
@friendly
def beat(obj, loglevel, schedule_file):
    """Queue the periodic tasks on their schedule (Celery beat, no worker).

    Run exactly one, beside any number of ``backoffice worker`` without --beat."""
    raise SystemExit(run_beat(celery_app(obj), loglevel=loglevel, schedule_file=schedule_file))
