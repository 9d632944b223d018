"""The app as the servers run it: start-up objects frozen out of the cyclic
collector, and each request's garbage collected as it ends."""

from __future__ import annotations

import gc
import weakref

import pytest
from pyramid.config import Configurator
from pyramid.response import Response
from webtest import TestApp

import backoffice
from backoffice.collector import AUTOMATIC_THRESHOLD, CollectingPolicy
from backoffice.config import make_app, serving_app
from backoffice.web.input import GuardedExecutionPolicy


@pytest.fixture
def unfrozen():
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()  # back into the oldest generation: this process builds many apps
    gc.set_threshold(*threshold)


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
    with pytest.raises(ValueError, match=r"backoffice\.gc_freeze must be true or false"):
        serving_app(settings, control=sqlite_control)
    assert gc.get_freeze_count() == 0


def test_paste_entry_point_serves_the_frozen_app(sqlite_control, unfrozen):
    settings = {k: v for k, v in sqlite_control.settings.items() if k != "here"}
    app = backoffice.main({"here": sqlite_control.settings["here"]}, **settings)
    assert app.registry.settings["backoffice.gc_freeze"] == "true"
    assert gc.get_freeze_count() > 50_000


def test_serving_app_collects_between_requests(sqlite_control, unfrozen):
    app = serving_app(sqlite_control.settings, control=sqlite_control)
    assert isinstance(app.execution_policy, CollectingPolicy)
    # ... around the app's own: the input guard and the deadlock retries stay.
    assert isinstance(app.execution_policy.inner, GuardedExecutionPolicy)
    assert gc.get_threshold()[0] == AUTOMATIC_THRESHOLD
    # As served: an undecodable path is a 400 from the guard, not a 500.
    undecodable = TestApp(app).get("/s/%FF%FE/admin/", expect_errors=True)
    assert undecodable.status_int == 400


def test_collecting_between_requests_is_a_setting(sqlite_control, unfrozen):
    threshold = gc.get_threshold()
    settings = {**sqlite_control.settings, "backoffice.gc_between_requests": "false"}
    app = serving_app(settings, control=sqlite_control)
    assert isinstance(app.execution_policy, GuardedExecutionPolicy)
    assert gc.get_threshold() == threshold
    assert isinstance(
        make_app(sqlite_control.settings, control=sqlite_control).execution_policy,
        GuardedExecutionPolicy,
    )


class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the collector frees it


def cycle_app(policy, made: list):
    def view(request):
        node = Node()
        made.append(weakref.ref(node))
        request.node = node  # the request is in cycles of its own too
        return Response("ok")

    config = Configurator()
    config.add_route("cycle", "/")
    config.add_view(view, route_name="cycle")
    if policy is not None:
        config.set_execution_policy(policy)
    return TestApp(config.make_wsgi_app())


@pytest.fixture
def collector_off():
    gc.collect()
    gc.disable()  # nothing but the policy collects during the test
    yield
    gc.enable()


def test_a_request_s_cycles_are_collected_when_it_ends(collector_off):
    made = []
    cycle_app(CollectingPolicy(), made).get("/")
    assert made[0]() is None
    made.clear()
    cycle_app(None, made).get("/")  # Pyramid's own policy: the cycle outlives the request
    assert made[0]() is not None


def test_older_generations_are_collected_on_schedule():
    policy = CollectingPolicy(middle_every=10, full_every=100)
    assert [policy.generation(n) for n in range(1, 11)] == [0] * 9 + [1]
    assert policy.generation(100) == 2 and policy.generation(200) == 2
    assert sum(policy.generation(n) == 1 for n in range(1, 1001)) == 90
    with pytest.raises(ValueError):
        CollectingPolicy(middle_every=10, full_every=5)
