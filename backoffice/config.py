"""One ``configure(settings)`` for the web app, the worker, the CLI and the tests."""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping

from pyramid.config import Configurator

from tenancy import settings as app_settings
from tenancy.control import ControlPlane


def configure(settings: Mapping[str, str] | None = None, *, here: str | None = None,
              control: ControlPlane | None = None) -> Configurator:
    settings = app_settings.resolve(settings, here=here or os.getcwd())
    config = Configurator(settings=settings)
    config.registry["control"] = control or ControlPlane(settings)
    config.include("pyramid_jinja2")
    config.registry.settings.setdefault("jinja2.i18n.gettext",
                                        "backoffice.translations.TemplateGetText")
    config.add_jinja2_renderer(".jinja2")
    config.include("backoffice.request")
    config.include("backoffice.binding")
    config.include("backoffice.admin")
    config.include("backoffice.tasks")
    config.include("backoffice.apikeys")
    config.include("backoffice.webhooks")
    config.include("backoffice.payments")
    return config


def make_app(settings: Mapping[str, str] | None = None, *, here: str | None = None,
             control: ControlPlane | None = None):
    config = configure(settings, here=here, control=control)
    config.scan("backoffice.views")
    config.scan("backoffice.apikeys.views")
    config.scan("backoffice.webhooks.views")
    config.include("storefront")  # the store API; a dotted name, not an import
    return config.make_wsgi_app()


def serving_app(settings: Mapping[str, str] | None = None, *, here: str | None = None,
                control: ControlPlane | None = None):
    """The app as the servers run it (``pserve``, ``backoffice serve``).

    Everything built at start-up (routes, views, models, templates' machinery,
    Babel's data: ~180,000 objects) lives as long as the process. Left to the
    cyclic collector, every full collection walks all of it: ~100 ms, a stall
    of whatever request triggers it. ``gc.freeze()`` moves it out of the
    collector's sight (``backoffice.gc_freeze``, on by default); tests build
    many apps in one process and use ``make_app``, which does not freeze.
    """
    app = make_app(settings, here=here, control=control)
    if app_settings.as_bool(app.registry.settings, "backoffice.gc_freeze"):
        gc.collect()
        gc.freeze()
    return app
