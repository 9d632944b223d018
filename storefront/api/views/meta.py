"""The OpenAPI document: public (it holds no store data), the same for every store."""

from __future__ import annotations

from pyramid.view import view_config

from storefront.api.openapi import document
from storefront.api.views import API_VIEW, json_response


@view_config(route_name="api.openapi", request_method="GET", **API_VIEW)
def openapi(request):
    # The server URL keeps a /s/<slug> prefix, so tools that follow it stay on the store.
    return json_response(
        document(request.application_url), headers={"Cache-Control": "public, max-age=300"}
    )
