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
    # Every unsafe method needs the session's CSRF token; a view opts out only
    # when it checks something stronger (a payment provider's signature).
    config.set_default_csrf_options(require_csrf=True)
    config.registry.control = control or ControlPlane(settings)
    # Templates: the back-office's .jinja2 (the storefront adds its .html).
    config.include("pyramid_jinja2")
    config.include("backoffice.speedups")  # templates' escaping and _(): before the renderer
    config.add_jinja2_renderer(".jinja2")
    # Proxy corrections (scheme, host, client address) first; security headers.
    config.include("backoffice.web")
    # request.tm and request.control: the transaction every session joins.
    config.include("backoffice.request")
    # Request ids, the access log, request metrics (under the proxy tween).
    config.include("backoffice.observability")
    # The store of each request (request.tenant, request.db), resolved in a tween.
    config.include("backoffice.binding")
    # Staff sessions, the security policy, request.staff_user.
    config.include("backoffice.security.web")
    # Catalogs, the locale of each request, request.fmt.
    config.include("backoffice.translations")
    # The Celery app, config.add_task and request.enqueue: features add tasks.
    config.include("backoffice.tasks")
    # The store's outbox: config.add_outbox_consumer, the beat sweep (before features).
    config.include("backoffice.outbox")
    # Operator endpoints: /healthz, /metrics.
    config.include("backoffice.views")
    # The /admin/ shell: static assets, home, template globals.
    config.include("backoffice.admin")
    # The back-office's features; their order is the order their routes match.
    config.include("backoffice.staff")
    config.include("backoffice.store")
    config.include("backoffice.orders")
    config.include("backoffice.products")
    config.include("backoffice.customers")
    config.include("backoffice.dashboard")
    config.include("backoffice.audit")
    config.include("backoffice.apikeys")
    config.include("backoffice.webhooks")
    config.include("backoffice.payments")
    # Per store too, but for shoppers and reseller sites: by dotted name, since
    # backoffice never imports storefront.
    config.include("storefront.api")
    config.include("storefront.checkout")
    # The one scan: every decorated view of the app. The entry points build the
    # app themselves and register nothing (the CLI, Celery's -A module, the demo).
    config.scan("backoffice", ignore=SCAN_IGNORE)
    config.scan("storefront")
    return config


SCAN_IGNORE = ("backoffice.cli", "backoffice.demo", "backoffice.tasks.worker")


def make_app(
    settings: Mapping[str, str] | None = None,
    *,
    here: str | None = None,
    control: ControlPlane | None = None,
):
    return configure(settings, here=here, control=control).make_wsgi_app()


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
    config = configure(settings, here=here, control=control)
    between = app_settings.as_bool(config.registry.settings, "backoffice.gc_between_requests")
    freeze = app_settings.as_bool(config.registry.settings, "backoffice.gc_freeze")
    if between:
        collect_between_requests(config)
    app = config.make_wsgi_app()
    if freeze:
        gc.collect()
        gc.freeze()
    return app
