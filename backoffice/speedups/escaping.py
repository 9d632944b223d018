"""Speedup ``escaping``: Jinja2's autoescape with two Python calls fewer per value.

Every ``{{ value }}`` of an autoescaped template calls ``markupsafe.escape``,
which since MarkupSafe 3 is Python around a C core: a type test, then
``Markup(...)``, whose ``__new__`` is Python again. A 50-row order list does
that ~900 times, ~0.45 us each. ``escape`` here takes the same three branches
in the same order and builds the ``Markup`` directly (``str.__new__``), which
is what ``Markup.__new__`` does for a plain string: the same results (a test
compares them), in half the time. Without MarkupSafe's C core it is
MarkupSafe's own ``escape``. It calls ``markupsafe._speedups._escape_inner``,
a private C helper.

Plain path (``backoffice.speedups.escaping = false``): Jinja2's own templates,
which call ``markupsafe.escape``.

``Template`` puts it into each compiled template's namespace, where the
generated code looks ``escape`` up; pyramid_jinja2's environment makes its
templates with it (``use_escaping_templates``).
"""

from __future__ import annotations

import jinja2
import markupsafe
from markupsafe import Markup
from pyramid_jinja2 import ENV_CONFIG_PHASE

from tenancy.speedups import Speedup

SPEEDUP = Speedup("escaping", (("markupsafe", "3.0", "3.1"), ("jinja2", "3.1", "3.2")))

try:
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover (no C core, or MarkupSafe rearranged its insides)
    _escape_inner = None


def _escape(
    s, _inner=_escape_inner, _new=str.__new__, _markup=Markup, _str=str, _int=int
) -> Markup:
    cls = s.__class__
    if cls is _str:
        return _new(_markup, _inner(s))
    if cls is _markup:  # already safe and immutable: MarkupSafe would copy it
        return s
    if cls is _int:  # digits and a sign: nothing to escape
        return _new(_markup, _str(s))
    if hasattr(s, "__html__"):
        return _markup(s.__html__())
    return _new(_markup, _inner(_str(s)))


escape = _escape if _escape_inner is not None else markupsafe.escape


class Template(jinja2.Template):
    """A template whose autoescaping uses ``escape``."""

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):
        template = super().from_code(environment, code, globals, uptodate)
        # Module-level functions and macros all read this one namespace.
        template.root_render_func.__globals__["escape"] = escape
        return template


def use_escaping_templates(config, renderer: str = ".jinja2") -> None:
    """Once pyramid_jinja2 has built the renderer's environment, before any
    template is loaded, have it make ``Template`` (unless the speedup is off)."""
    if escape is markupsafe.escape or not SPEEDUP.on(config.registry.settings):
        return

    def install():
        config.get_jinja2_environment(renderer).template_class = Template

    config.action(("backoffice.speedups.escaping", renderer), install, order=ENV_CONFIG_PHASE + 1)
