"""The back-office under ``/admin/`` of a store: the shell around the features.

``includeme`` adds the static assets, the home routes and the globals every
page's layout reads (navigation, formatting); ``backoffice.config.configure``
includes the features themselves, and its one scan registers their views.
"""

from __future__ import annotations

from pyramid.events import BeforeRender


def includeme(config) -> None:
    config.add_static_view("admin/static", "backoffice:static", cache_max_age=86400)
    config.include("backoffice.admin.routes")
    config.add_subscriber("backoffice.ui.helpers.add_template_globals", BeforeRender)
