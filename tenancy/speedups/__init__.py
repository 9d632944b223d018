"""Speed tricks that lean on other libraries' insides, each behind a setting.

A speedup does what a public API already does, faster, by using something a
library does not promise to keep (a private attribute, an undocumented
constructor, a C helper). Each has a plain path that uses public APIs only,
and a test that runs both and compares the results. The list, with what each
touches: ``docs/architecture.md``, "Speedups".

Settings (``tenancy/settings.py`` maps the environment):

* ``backoffice.speedups = on|off`` turns them all off (``BACKOFFICE_SPEEDUPS=off``);
* ``backoffice.speedups.<name> = true|false`` turns one off
  (``BACKOFFICE_SPEEDUPS_<NAME>=false``).

A speedup is on when both say so *and* the library it leans on is a version
it was tested with; outside that range it turns itself off, with one warning
in the log per process.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata

from tenancy.settings import SettingsError, as_bool, resolve

log = logging.getLogger(__name__)

MASTER = "backoffice.speedups"


def _version(text: str) -> tuple[int, ...]:
    """``"2.1.9"`` -> ``(2, 1, 9)``; a pre-release suffix is ignored (``"3.1.0rc1"``)."""
    return tuple(int(part) for part in re.findall(r"\d+", text.split("rc")[0])[:3])


@dataclass(frozen=True)
class Speedup:
    """One speed trick: its setting's name and the library versions it was tested with.

    ``tested`` holds ``(distribution, lowest, below)``: on from ``lowest``
    up to, not including, ``below``.
    """

    name: str
    tested: tuple[tuple[str, str, str], ...]

    @property
    def key(self) -> str:
        return f"{MASTER}.{self.name}"

    def on(self, settings: Mapping[str, str] | None = None) -> bool:
        """Whether to take the fast path. Without *settings* (code that has
        none at hand: engines made outside the app, migrations) the defaults
        and the environment decide."""
        if settings is None:
            settings = _environment_settings(tuple(sorted(os.environ.items())))
        return switched_on(settings, MASTER) and switched_on(settings, self.key) and self.supported

    @property
    def supported(self) -> bool:
        return _supported(self)


def switched_on(settings: Mapping[str, str], key: str) -> bool:
    """A missing key is on (the default); ``on``/``off`` as well as true/false."""
    if key not in settings:
        return True
    try:
        return as_bool(settings, key)
    except SettingsError:
        raise SettingsError(f"{key} must be on or off, got {settings[key]!r}") from None


@functools.lru_cache(maxsize=8)
def _environment_settings(environ: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return resolve({}, here=".", environ=dict(environ))


@functools.cache
def _supported(speedup: Speedup) -> bool:
    """Checked once per process: outside the tested versions, off with one warning."""
    for distribution, lowest, below in speedup.tested:
        try:
            installed = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or not _version(lowest) <= _version(installed) < _version(below):
            log.warning(
                "speedup %s is off: it was tested with %s>=%s,<%s and %s is installed",
                speedup.name,
                distribution,
                lowest,
                below,
                installed or "no version",
            )
            return False
    return True
