"""The back-office's own routes (``admin.*``); each feature has its ``routes.py``."""


def includeme(config) -> None:
    config.add_route("admin.home", "/admin/")
    config.add_route("admin.home_bare", "/admin")
