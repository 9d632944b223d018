"""Marking the texts a gateway shows to people, without translating them here.

Titles, setting labels, help texts and validation messages stay English in
this package: it has no locale and no request.  ``N_`` only lets Babel find
them (it is one of Babel's default keywords); the core extracts them into its
own catalog and translates them when it renders a page.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Return *message* unchanged; marks it for extraction into a catalog."""
    return message
