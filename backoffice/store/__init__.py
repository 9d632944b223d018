"""Store settings (``request.store_config``) and the owner's settings pages."""

from backoffice.store.services import request_store_config


def includeme(config) -> None:
    config.add_request_method(request_store_config, "store_config", reify=True)
    config.include("backoffice.store.routes")
