"""The app as the servers run it: start-up objects frozen out of the cyclic collector."""

from __future__ import annotations

import gc

import pytest

import backoffice
from backoffice.config import make_app, serving_app


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # back into the oldest generation: this process builds many apps


def test_serving_app_freezes_what_start_up_built(sqlite_control, unfrozen):
    app = serving_app(sqlite_control.settings, control=sqlite_control)
    assert gc.get_freeze_count() > 50_000
    # The registry is tracked, yet in no generation the collector walks: frozen.
    assert gc.is_tracked(app.registry)
    assert not any(obj is app.registry for obj in gc.get_objects())


def test_freezing_is_a_setting(sqlite_control, unfrozen):
    settings = {**sqlite_control.settings, "backoffice.gc_freeze": "false"}
    serving_app(settings, control=sqlite_control)
    assert gc.get_freeze_count() == 0
    make_app(sqlite_control.settings, control=sqlite_control)
    assert gc.get_freeze_count() == 0  # tests and scripts that build apps do not freeze


def test_a_bad_value_is_refused(sqlite_control, unfrozen):
    settings = {**sqlite_control.settings, "backoffice.gc_freeze": "sometimes"}
    with pytest.raises(ValueError, match="backoffice.gc_freeze must be true or false"):
        serving_app(settings, control=sqlite_control)
    assert gc.get_freeze_count() == 0


def test_paste_entry_point_serves_the_frozen_app(sqlite_control, unfrozen):
    settings = {k: v for k, v in sqlite_control.settings.items() if k != "here"}
    app = backoffice.main({"here": sqlite_control.settings["here"]}, **settings)
    assert app.registry.settings["backoffice.gc_freeze"] == "true"
    assert gc.get_freeze_count() > 50_000
