"""Every route of the dashboard (``dashboard.*``)."""


def includeme(config) -> None:
    config.add_route("dashboard.home", "/admin/dashboard")
