"""Store owners' back-office, the store's domain model, and the WSGI app factory."""

from backoffice.config import make_app, serving_app


def main(global_config, **settings):
    """Paste entry point: ``pserve development.ini``."""
    return serving_app(settings, here=global_config.get("here"))


__all__ = ["main", "make_app", "serving_app"]
