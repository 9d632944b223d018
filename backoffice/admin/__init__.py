"""The back-office under ``/admin/`` of a store: layout, navigation, features.

``includeme`` wires security, translations, the static assets and every
feature package; ``config.scan`` of the feature packages registers their views.
"""

from __future__ import annotations

from pyramid.events import BeforeRender

FEATURES = (
    "backoffice.staff",
    "backoffice.store",
    "backoffice.orders",
    "backoffice.products",
    "backoffice.customers",
    "backoffice.dashboard",
    "backoffice.audit",
)


def includeme(config) -> None:
    config.include("backoffice.security.web")
    config.include("backoffice.translations")
    config.add_static_view("admin/static", "backoffice:static", cache_max_age=86400)
    config.include("backoffice.admin.routes")
    for feature in FEATURES:
        config.include(feature)
    config.add_subscriber("backoffice.admin.helpers.add_template_globals", BeforeRender)
    config.scan("backoffice.admin.views")
    for feature in FEATURES:
        config.scan(feature + ".views")
