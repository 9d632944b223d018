"""The audit log of staff actions, viewable by the owner."""


def includeme(config) -> None:
    config.include("backoffice.audit.routes")
