"""``backoffice gateways``: installed payment gateways and the stores using them."""

from __future__ import annotations

import click

from backoffice.cli.base import cli, emit, friendly, pass_ctx
from backoffice.payments import gateway_registry
from backoffice.payments.usage import store_gateways


@cli.group()
def gateways() -> None:
    """Payment gateways installed on this server."""


@gateways.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def list_(obj, as_json):
    """Installed gateways (distribution, version) and the active stores using each;
    a gateway a store set up that is no longer installed is listed too."""
    registry = gateway_registry(obj.settings)
    stores = store_gateways(obj.control)
    rows = []
    for name, gateway in registry.available(include_hidden=True).items():
        dist, version = registry.distribution(name)
        rows.append(
            _row(name, gateway.title, dist, version, stores, True, registry.is_hidden(gateway))
        )
    installed = {row["name"] for row in rows}
    for name in sorted({n for s in stores for n in s.gateways} - installed):
        rows.append(_row(name, "", "", "", stores, False, False))
    errors = [{"store": s.slug, "error": s.error} for s in stores if s.error]

    def render(data):
        for row in data["gateways"]:
            where = ", ".join(
                f"{u['store']}{'' if u['enabled'] else ' (disabled)'}" for u in row["stores"]
            )
            state = (
                "NOT INSTALLED"
                if not row["installed"]
                else (
                    f"{row['distribution']} {row['version']}".strip()
                    + (" hidden" if row["hidden"] else "")
                )
            )
            click.echo(f"{row['name']:<14} {state:<28} {where or '-'}")
        for error in data["errors"]:
            click.echo(f"store {error['store']}: {error['error']}", err=True)

    emit({"gateways": rows, "errors": errors}, as_json, render)


def _row(name, title, dist, version, stores, installed, hidden) -> dict:
    using = [{"store": s.slug, "enabled": s.gateways[name]} for s in stores if name in s.gateways]
    return {
        "name": name,
        "title": title,
        "distribution": dist,
        "version": version,
        "installed": installed,
        "hidden": hidden,
        "stores": using,
    }
