"""Store owners' back-office, the store's domain model, and the WSGI app factory."""

from backoffice.config import make_app, serving_app
from backoffice.observability.logs import apply_log_format


def main(global_config, **settings):
    """Paste entry point: ``pserve development.ini``."""
    app = serving_app(settings, here=global_config.get("here"))
    apply_log_format(app.registry.settings)  # the ini's handlers, JSON if asked
    return app


__all__ = ["main", "make_app", "serving_app"]
