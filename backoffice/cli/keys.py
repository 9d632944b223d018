"""``backoffice keys``: the encryption keys of secrets at rest."""

from pathlib import Path

import click

from backoffice.cli.base import cli, friendly, pass_ctx
from backoffice.payments.rotation import rotate_store_secrets
from tenancy.keyring import add_key_to_file, generate_key
from tenancy.operations import rotate_keys


@cli.group()
def keys() -> None:
    """Generate keys and re-encrypt secrets under the newest one."""


@keys.command("generate")
def generate():
    """Print a new random key (put it first in BACKOFFICE_KEYS)."""
    click.echo(generate_key())


@keys.command("rotate")
@click.option(
    "--new-key", is_flag=True, help="Embedded default: first add a new key to the key file."
)
@pass_ctx
@friendly
def rotate(obj, new_key):
    """Re-encrypt every stored secret under the newest key.

    With BACKOFFICE_KEYS: put the new key first, keep the old ones after it,
    run this, then remove the old keys."""
    if new_key:
        if obj.settings.get("backoffice.keys"):
            raise click.ClickException(
                "--new-key works on the key file; with BACKOFFICE_KEYS, prepend a key there instead"
            )
        kid = add_key_to_file(Path(obj.settings["backoffice.keys_file"]))
        click.echo(f"added key {kid} to {obj.settings['backoffice.keys_file']}")
    control = obj.control
    with control.session() as session:
        counts = rotate_keys(control, session)
    click.echo(
        f"re-encrypted under key {control.keyring.current_id}: "
        f"{counts['servers']} server URLs, {counts['tenants']} store passwords"
    )
    # Gateway secrets live in each store's own database (docs/payments.md).
    stores = rotate_store_secrets(control)
    click.echo(f"gateway secrets: {sum(s.rotated for s in stores)} in {len(stores)} stores")
    if two_factor := sum(s.two_factor for s in stores):
        click.echo(f"staff two-factor secrets: {two_factor}")
    failed = [s for s in stores if s.error]
    for store in failed:
        click.echo(f"store {store.slug}: {store.error}", err=True)
    if failed:
        raise click.ClickException(
            f"{len(failed)} stores not rotated: keep the old keys and run this again"
        )
