"""The audit log of staff actions, viewable by the owner."""


def includeme(config) -> None:
    config.add_route("audit.list", "/admin/audit")
