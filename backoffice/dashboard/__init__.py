"""The dashboard: what a store owner looks at first every morning."""


def includeme(config) -> None:
    config.include("backoffice.dashboard.routes")
