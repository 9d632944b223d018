"""The embedded default: no broker, tasks run in the web process after the commit."""

import uuid

from click.testing import CliRunner
from webtest import TestApp

from backoffice.cli import cli
from backoffice.config import configure
from backoffice.schema import store_schema
from tenancy.provisioning import Provisioner, StoreRequest
from tests.conftest import unique_slug
from tests.tasks.conftest import add_order, order_events
from tests.tasks.probes import add_probe_views


def test_eager_task_runs_after_commit_on_sqlite(sqlite_settings, sqlite_control):
    store = Provisioner(sqlite_control, store_schema).create(
        StoreRequest(slug=unique_slug(), name="Embedded")
    )
    other = Provisioner(sqlite_control, store_schema).create(
        StoreRequest(slug=unique_slug(), name="Other")
    )
    config = configure(sqlite_settings, control=sqlite_control)
    assert config.registry.celery.conf.task_always_eager
    add_probe_views(config)
    web = TestApp(config.make_wsgi_app())
    order_id = add_order(sqlite_control, store)
    add_order(sqlite_control, other)
    kept, lost = f"kept-{uuid.uuid4().hex}", f"lost-{uuid.uuid4().hex}"
    web.post(f"/s/{store.slug}/probe/order-event", {"order_id": order_id, "message": kept})
    web.post(
        f"/s/{store.slug}/probe/order-event-fails",
        {"order_id": order_id, "message": lost},
        status=500,
    )
    # No worker and no waiting: the task ran before the response was returned.
    assert order_events(sqlite_control, store) == [(order_id, "note", kept)]
    assert order_events(sqlite_control, other) == []
    config.registry.engines.dispose()


def test_worker_command_needs_a_broker(sqlite_settings, tmp_path):
    ini = tmp_path / "eager.ini"
    ini.write_text(
        "[app:main]\n"
        + "".join(
            f"{key} = {value.replace('%', '%%')}\n"
            for key, value in sqlite_settings.items()
            if key.startswith("backoffice.")
        )
    )
    result = CliRunner(env={"BACKOFFICE_BROKER_URL": ""}).invoke(
        cli, ["--config", str(ini), "worker"]
    )
    assert result.exit_code == 1
    assert "broker_url" in result.output
