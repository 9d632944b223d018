"""An embedded (SQLite) app with probe views, and the app's log lines as JSON."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pyramid.view import view_config
from webtest import TestApp

from backoffice.config import configure
from backoffice.observability.logs import JsonFormatter, RequestIdFilter
from backoffice.schema import store_schema
from tenancy.provisioning import Provisioner, StoreRequest
from tests.conftest import unique_slug
from tests.tasks.probes import add_probe_views

probe_log = logging.getLogger("backoffice.tests.probe")


@view_config(route_name="obs.hello", renderer="json")
def hello(request):
    probe_log.info("hello from the view")
    return {"store": request.tenant.slug if request.tenant else None}


@view_config(route_name="obs.cart", renderer="json")
def cart(request):
    return {"ok": True}


@view_config(route_name="obs.boom", renderer="json")
def boom(request):
    raise RuntimeError("the probe fails")


def build_app(settings, control, **overrides) -> TestApp:
    config = configure({**settings, **overrides}, control=control)
    config.add_route("obs.hello", "/probe/hello")
    config.add_route("obs.cart", "/probe/cart/{token}")
    config.add_route("obs.boom", "/probe/boom")
    add_probe_views(config)
    config.scan(__name__)
    app = TestApp(config.make_wsgi_app())
    app.registry = config.registry
    return app


@pytest.fixture
def store(sqlite_control):
    return Provisioner(sqlite_control, store_schema).create(
        StoreRequest(slug=unique_slug("obs"), name="Observed")
    )


@pytest.fixture
def make_app(sqlite_settings, sqlite_control):
    built = []

    def make(**overrides) -> TestApp:
        app = build_app(sqlite_settings, sqlite_control, **overrides)
        built.append(app)
        return app

    yield make
    for app in built:
        app.registry.engines.dispose()


class LogLines:
    """What the app logs at INFO and above, one JSON object per record."""

    def __init__(self):
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter())
        self.handler.addFilter(RequestIdFilter())

    def records(self, logger: str | None = None) -> list[dict]:
        lines = [json.loads(line) for line in self.stream.getvalue().splitlines()]
        return [line for line in lines if logger is None or line["logger"] == logger]


@pytest.fixture
def log_lines():
    lines = LogLines()
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in ("backoffice", "celery.app.trace")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
    root.addHandler(lines.handler)
    yield lines
    root.removeHandler(lines.handler)
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)
