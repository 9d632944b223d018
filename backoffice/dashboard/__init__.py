"""The dashboard: what a store owner looks at first every morning."""


def includeme(config) -> None:
    config.add_route("dashboard.home", "/admin/dashboard")
