"""One ``configure(settings)`` for the web app, the worker, the CLI and the tests."""

from __future__ import annotations

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
