"""Operator-facing views that belong to no store."""


def includeme(config) -> None:
    config.include("backoffice.views.routes")
