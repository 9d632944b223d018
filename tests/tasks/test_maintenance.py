"""Periodic housekeeping: backup retention as a Celery task on beat's schedule."""

from pathlib import Path

import pytest
from celery.schedules import crontab

from backoffice.config import configure
from backoffice.schema import store_schema
from backoffice.tasks.app import beat_schedule
from tenancy.backups.service import backup_store, list_backups
from tenancy.provisioning import Provisioner, StoreRequest
from tests.conftest import unique_slug


def test_prune_task_applies_the_retention_settings(sqlite_settings, sqlite_control):
    settings = {
        **sqlite_settings,
        "backoffice.backup_keep_daily": "1",
        "backoffice.backup_keep_weekly": "0",
    }
    sqlite_control.settings.update(settings)
    store = Provisioner(sqlite_control, store_schema).create(
        StoreRequest(slug=unique_slug(), name="Kept small")
    )
    backups = [backup_store(sqlite_control, store.slug) for _ in range(3)]
    config = configure(settings, control=sqlite_control)
    celery = config.registry.celery
    assert celery.conf.task_always_eager  # the embedded default runs it in process

    outcome = celery.tasks["backups.prune"].delay().get()

    assert outcome == {"deleted": 2, "kept": 1}
    with sqlite_control.session() as session:
        left = [b.id for b in list_backups(session, store.slug)]
    assert left == [backups[-1].id]
    assert [Path(b.path).exists() for b in backups] == [False, False, True]
    config.registry.engines.dispose()


def test_beat_runs_prune_daily_at_the_configured_time():
    schedule = beat_schedule({"backoffice.backup_prune_at": "04:15"})
    assert schedule["backups-prune"]["task"] == "backups.prune"
    assert schedule["backups-prune"]["schedule"] == crontab(hour=4, minute=15)
    assert beat_schedule({"backoffice.backup_prune_at": ""}) == {}


@pytest.mark.parametrize("bad", ["25:00", "3", "03:61", "noon"])
def test_a_bad_prune_time_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="backup_prune_at must be HH:MM"):
        beat_schedule({"backoffice.backup_prune_at": bad})
