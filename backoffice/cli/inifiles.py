"""``backoffice config path | show NAME``: the ini files that ship with the package."""

from __future__ import annotations

import click

from backoffice import inifiles
from backoffice.cli.base import cli

NAME = click.Choice(inifiles.NAMES)


@cli.group()
def config():
    """The shipped ini files (production.ini, development.ini, alembic.ini)."""


@config.command("path")
@click.argument("name", type=NAME)
def path(name):
    """Print where NAME is, e.g. for ``pserve "$(backoffice config path production.ini)"``."""
    click.echo(inifiles.path(name))


@config.command("show")
@click.argument("name", type=NAME)
def show(name):
    """Print NAME, to start a deployment's own copy from it."""
    click.echo(inifiles.path(name).read_text(encoding="utf-8"), nl=False)
