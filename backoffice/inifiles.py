"""The ini files that ship with the back office.

In a checkout they sit at the top of the tree; a wheel carries copies in
``backoffice/etc/`` (the build step, ``scripts/build_hooks.py``, puts them
there), so an installed back office starts from its own template::

    pserve "$(backoffice config path production.ini)"
"""

from __future__ import annotations

from pathlib import Path

NAMES = ("production.ini", "development.ini", "alembic.ini")
PLACES = (
    Path(__file__).parent / "etc",  # an installed wheel
    Path(__file__).parent.parent,  # a checkout, or an editable install of one
)


def path(name: str) -> Path:
    """Where the shipped *name* (one of ``NAMES``) is."""
    if name not in NAMES:
        raise ValueError(f"no shipped ini file {name!r}; there are {', '.join(NAMES)}")
    for place in PLACES:
        candidate = place / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{name} is missing from this installation")
