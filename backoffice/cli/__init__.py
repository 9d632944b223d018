"""The operator CLI: ``backoffice <group> <command>``; see ``backoffice --help``."""

from backoffice.cli import (  # noqa: F401  (registers commands)
    backups,
    gateways,
    inifiles,
    keys,
    servers,
    setup,
    tenants,
    worker,
)
from backoffice.cli.base import cli

__all__ = ["cli"]
