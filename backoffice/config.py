"""One ``configure(settings)`` for the web app, the worker, the CLI and the tests."""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping

from pyramid.config import Configurator

from backoffice.collector import collect_between_requests
from tenancy import settings as app_settings
from tenancy.control import ControlPlane


def configure(
    settings: Mapping[str, str] | None = None,
    *,
    here: str | None = None,
    control: ControlPlane | None = None,
) -> Configurator:
    settings = app_settings.resolve(settings, here=here or os.getcwd())
    config = Configurator(settings=settings)
    config.registry["control"] = control or ControlPlane(settings)
    config.include("pyramid_jinja2")
    config.include("backoffice.speedups")  # templates' escaping and _(): before the renderer
    config.add_jinja2_renderer(".jinja2")
    config.include("backoffice.request")
    config.include("backoffice.binding")
    config.include("backoffice.admin")
    config.include("backoffice.tasks")
    config.include("backoffice.apikeys")
    config.include("backoffice.webhooks")
    config.include("backoffice.payments")
    return config


def make_app(
    settings: Mapping[str, str] | None = None,
    *,
    here: str | None = None,
    control: ControlPlane | None = None,
):
    return _app_config(settings, here=here, control=control).make_wsgi_app()


def _app_config(settings, *, here, control) -> Configurator:
    config = configure(settings, here=here, control=control)
    config.scan("backoffice.views")
    config.scan("backoffice.apikeys.views")
    config.scan("backoffice.webhooks.views")
    config.include("storefront")  # the store API; a dotted name, not an import
    return config


def serving_app(
    settings: Mapping[str, str] | None = None,
    *,
    here: str | None = None,
    control: ControlPlane | None = None,
):
    """The app as the servers run it (``pserve``, ``backoffice serve``).

    Everything built at start-up (routes, views, models, templates' machinery,
    Babel's data: ~180,000 objects) lives as long as the process. Left to the
    cyclic collector, every full collection walks all of it: ~100 ms, a stall
    of whatever request triggers it. ``gc.freeze()`` moves it out of the
    collector's sight (``backoffice.gc_freeze``, on by default). What each
    request leaves in cycles is collected as it ends, not in bursts inside
    later requests (``backoffice.collector``, ``backoffice.gc_between_requests``,
    on by default). Both change the process' collector: tests build many apps
    in one process and use ``make_app``, which does neither.
    """
    config = _app_config(settings, here=here, control=control)
    between = app_settings.as_bool(config.registry.settings, "backoffice.gc_between_requests")
    freeze = app_settings.as_bool(config.registry.settings, "backoffice.gc_freeze")
    if between:
        collect_between_requests(config)
    app = config.make_wsgi_app()
    if freeze:
        gc.collect()
        gc.freeze()
    return app
