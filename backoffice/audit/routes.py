"""Every route of the audit log (``audit.*``)."""


def includeme(config) -> None:
    config.add_route("audit.list", "/admin/audit")
