"""Per-request services: ``request.control`` (the control DB session)."""

from __future__ import annotations

import zope.sqlalchemy


def control_session(request):
    """A control-DB session joined to the request's transaction (pyramid_tm)."""
    session = request.registry.control.session()
    zope.sqlalchemy.register(session, transaction_manager=request.tm)
    return session


def includeme(config) -> None:
    config.include("pyramid_tm")
    config.add_request_method(control_session, "control", reify=True)
