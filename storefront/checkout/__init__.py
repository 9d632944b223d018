"""The hosted checkout: cart -> details -> payment method -> review -> order status page.

``includeme`` registers the routes, the ``.html`` Jinja2 renderer whose
``_()`` speaks the ``storefront`` translation domain, the catalogs, the static
assets and the shopper's language choice. Pages live at
``/checkout`` of each store (``{slug}.<base domain>`` or ``/s/{slug}``).
"""

from __future__ import annotations

from pathlib import Path

from pyramid.events import ContextFound

from backoffice.security.sessions import session_secret
from backoffice.speedups.template_gettext import use_template_gettext
from backoffice.translations import compile_catalogs

LOCALE_DIR = Path(__file__).parent.parent / "locale"
RENDERER = ".html"


def includeme(config) -> None:
    settings = config.registry.settings
    settings.setdefault("storefront.jinja2.i18n.domain", "storefront")
    use_template_gettext(settings, "storefront.jinja2.")
    # New-style gettext: _("Only %(n)s left", n=3) escapes its arguments.
    settings.setdefault("storefront.jinja2.newstyle", "true")
    config.add_jinja2_renderer(RENDERER, settings_prefix="storefront.jinja2.")
    # Cart tokens (the checkout's and the API's) are signed with a key per store.
    config.registry.cart_secret = session_secret(settings)
    compile_catalogs(LOCALE_DIR, "storefront")
    config.add_translation_dirs("storefront:locale/")
    config.add_static_view("checkout/static", "storefront:static", cache_max_age=86400)
    config.include("storefront.checkout.routes")
    config.add_subscriber("storefront.checkout.locale.choose_locale", ContextFound)
    config.add_subscriber("storefront.checkout.headers.protect", ContextFound)
