"""Every route of store settings (``store.*``)."""


def includeme(config) -> None:
    config.add_route("store.settings", "/admin/settings")
    config.add_route("store.statuses", "/admin/settings/statuses")
