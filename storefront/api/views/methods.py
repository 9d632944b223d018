"""A method a route of the API does not answer: 405 with ``Allow``, in the API's envelope.

Pyramid raises ``PredicateMismatch`` (a 404) when a route matched but none of its
views takes the method. Every route of the API is covered, including routes added
later: the allowed methods are read from the views registered for the route.
"""

from __future__ import annotations

from pyramid.exceptions import PredicateMismatch
from pyramid.view import exception_view_config

from backoffice.views.errors import not_found as page_not_found
from storefront.api.errors import envelope


def allowed_methods(registry, route_name: str) -> list[str]:
    cache = registry.__dict__.setdefault("api_allowed_methods", {})
    if route_name not in cache:
        introspector = registry.introspector
        route = introspector.get("routes", route_name)
        methods: set[str] = set()
        for related in introspector.related(route) if route is not None else ():
            if related.category_name == "views" and not related["exception_only"]:
                wanted = related["request_methods"] or ()
                methods.update((wanted,) if isinstance(wanted, str) else wanted)
        if "GET" in methods:  # Pyramid answers HEAD wherever it answers GET
            methods.add("HEAD")
        cache[route_name] = sorted(methods)
    return cache[route_name]


# Only under /api/ (after any /s/<slug> prefix): other pages keep their own not-found views.
@exception_view_config(PredicateMismatch, path_info=r"^/api/")
def method_not_allowed(exc, request):
    route = request.matched_route
    api = route is not None and route.name.startswith("api.")
    methods = allowed_methods(request.registry, route.name) if api else []
    if not methods or request.method in methods:  # another predicate failed: not ours
        return page_not_found(exc, request)
    return envelope(
        405,
        "method_not_allowed",
        f"{request.method} is not allowed here; use {', '.join(methods)}",
        {"allowed": methods},
        {"Allow": ", ".join(methods)},
    )
