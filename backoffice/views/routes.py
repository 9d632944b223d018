"""Operator endpoints, answered whatever the store (see ``binding.OPERATOR_PATHS``)."""


def includeme(config) -> None:
    config.add_route("healthz", "/healthz")
    config.add_route("metrics", "/metrics")
