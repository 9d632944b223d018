"""The root command, its shared context, and how expected failures are shown."""

from __future__ import annotations

import functools
import json
import logging
import sys

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from tenancy import settings as app_settings
from tenancy.control import ControlPlane, NotFound
from tenancy.keyring import KeyRingError
from tenancy.names import InvalidName
from tenancy.operations import OperationError
from tenancy.provisioning import ProvisioningError
from tenancy.sagas import LeaseHeld, LeaseLost
from tenancy.servers import ServerError

EXPECTED = (
    InvalidName,
    NotFound,
    OperationError,
    ProvisioningError,
    ServerError,
    KeyRingError,
    app_settings.SettingsError,
    LeaseHeld,
    LeaseLost,
)


class Context:
    def __init__(self, config_path: str | None):
        self.config_path = config_path
        self._settings: dict | None = None
        self._control: ControlPlane | None = None

    @property
    def settings(self) -> dict:
        if self._settings is None:
            self._settings = app_settings.load(self.config_path)
        return self._settings

    @property
    def control(self) -> ControlPlane:
        if self._control is None:
            self._control = ControlPlane(self.settings)
        return self._control

    def close(self) -> None:
        if self._control is not None:
            self._control.dispose()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def friendly(func):
    """Turn expected failures into one line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except EXPECTED as exc:
            raise click.ClickException(_one_line(exc)) from None
        except OperationalError as exc:
            raise click.ClickException(
                f"database unreachable or refused: {_one_line(exc.orig or exc)}"
            ) from None
        except SQLAlchemyError as exc:
            raise click.ClickException(f"database error: {_one_line(exc)}") from None

    return wrapper


def emit(data, as_json: bool, render) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    else:
        render(data)


pass_ctx = click.make_pass_decorator(Context)


@click.group()
@click.version_option(package_name="backoffice", prog_name="backoffice")
@click.option(
    "--config",
    "-c",
    envvar="BACKOFFICE_CONFIG",
    default="development.ini",
    show_default=True,
    help="The ini file with the settings.",
)
@click.pass_context
def cli(ctx: click.Context, config: str) -> None:
    """Operate the back-office: servers, stores, keys, the web app."""
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    ctx.obj = Context(config)
    ctx.call_on_close(ctx.obj.close)
