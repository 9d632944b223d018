"""Every speedup by name, and switching them from a test (see ``tenancy.speedups``).

``make_app`` reads the environment after the settings, so a test switches
speedups the way CI does: through ``BACKOFFICE_SPEEDUPS*`` variables.
"""

from __future__ import annotations

import os

import pytest

from backoffice.speedups import (
    date_format,
    escaping,
    money_format,
    order_detail_json,
    template_gettext,
)
from tenancy.speedups import Speedup, alembic_upgrade, pymysql_datetime, shared_dialect

SPEEDUPS: dict[str, Speedup] = {
    module.SPEEDUP.name: module.SPEEDUP
    for module in (
        escaping,
        template_gettext,
        money_format,
        date_format,
        order_detail_json,
        pymysql_datetime,
        shared_dialect,
        alembic_upgrade,
    )
}


def environment(off: str | tuple[str, ...] = ()) -> dict[str, str]:
    """The variables for: every speedup on but those named in *off*, or all off
    (``off="all"``)."""
    if off == "all":
        return {"BACKOFFICE_SPEEDUPS": "off"}
    return {
        "BACKOFFICE_SPEEDUPS": "on",
        **{f"BACKOFFICE_SPEEDUPS_{n.upper()}": "false" for n in off},
    }


def switch(monkeypatch: pytest.MonkeyPatch, off: str | tuple[str, ...] = ()) -> None:
    """Set the environment to ``environment(off)``, any other speedup variable removed."""
    for name in os.environ:
        if name.startswith("BACKOFFICE_SPEEDUPS"):
            monkeypatch.delenv(name)
    for name, value in environment(off).items():
        monkeypatch.setenv(name, value)


def skip_unless_on(*names: str) -> None:
    """For a test that asserts what a speedup does: skipped when the
    environment (CI's run with every speedup off) turns it off."""
    off = [n for n in names if not SPEEDUPS[n].on()]
    if off:
        pytest.skip(f"asserts the speedups {', '.join(off)}, which are off here")
