"""Log lines that carry the request id, as text or as one JSON object per line.

``configure_logging(settings)`` sets up the root logger for the processes
started by the CLI (``backoffice serve``, ``backoffice worker``):
``backoffice.log_format`` (``BACKOFFICE_LOG_FORMAT``) is ``text`` (default) or
``json``. Under ``pserve`` the ini file's logging sections are used; their
formatters name ``backoffice.observability.logs.TextFormatter`` (or
``JsonFormatter``), and ``apply_log_format(settings)``, called by the app
factory, switches the root handlers to JSON when the setting asks for it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

from backoffice.observability.context import current_request_id
from tenancy.settings import SettingsError

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)-5.5s [%(name)s] [%(request_id)s] %(message)s"
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
}


def log_format(settings: Mapping[str, str]) -> str:
    value = (settings.get("backoffice.log_format") or "text").strip().lower()
    if value not in FORMATS:
        raise SettingsError(f"backoffice.log_format must be text or json, not {value!r}")
    return value


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id (``-`` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or "-"
        return True


_stamp = RequestIdFilter()


class TextFormatter(logging.Formatter):
    """A plain formatter whose format may use ``%(request_id)s``."""

    def __init__(self, fmt: str | None = None, *args, **kwargs):
        super().__init__(fmt or TEXT_FORMAT, *args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        _stamp.filter(record)
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def __init__(self, *args, **kwargs):
        # fileConfig passes a format string; the JSON shape does not use one.
        super().__init__()

    def format(self, record: logging.LogRecord) -> str:
        _stamp.filter(record)
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": record.request_id,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def formatter_for(settings: Mapping[str, str]) -> logging.Formatter:
    return JsonFormatter() if log_format(settings) == "json" else TextFormatter()


def configure_logging(settings: Mapping[str, str], level: str | int = "INFO") -> None:
    """The root logger writes to stderr in the configured format; replaces its handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(settings))
    handler.addFilter(_stamp)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # At INFO, SQLAlchemy would log every statement.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


def apply_log_format(settings: Mapping[str, str]) -> None:
    """Keep the handlers an ini file set up; stamp request ids, and use JSON if asked."""
    json_format = log_format(settings) == "json"
    for handler in logging.getLogger().handlers:
        if _stamp not in handler.filters:
            handler.addFilter(_stamp)
        if json_format and not isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(JsonFormatter())
