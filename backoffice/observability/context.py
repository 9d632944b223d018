"""The request id: one per request, carried into its log lines and its tasks.

A client or a proxy in front may send ``X-Request-ID``; it is kept when it is
short and made of safe characters (it ends up in logs and headers), otherwise
a fresh one is made. The id of the request (or task) being served lives in a
context variable, so log records pick it up without being handed the request.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
# What a message to the worker carries the id in (a Celery message header).
TASK_HEADER = "backoffice_request_id"
SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")

_current: ContextVar[str | None] = ContextVar("backoffice_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def valid_request_id(value: str | None) -> str | None:
    """*value* if it is acceptable as a request id, else None."""
    if value and SAFE_ID.fullmatch(value):
        return value
    return None


def request_id(request) -> str:
    """``request.request_id``: the client's/proxy's id if acceptable, else a new one."""
    return valid_request_id(request.headers.get(HEADER)) or new_request_id()


def current_request_id() -> str | None:
    """The id of the request or task this code runs for, if any."""
    return _current.get()


def bind_request_id(value: str | None):
    """Make *value* the current id; returns the token for ``unbind_request_id``."""
    return _current.set(value)


def unbind_request_id(token) -> None:
    _current.reset(token)
