"""Speedup ``template_gettext``: templates' ``_()`` remembered per language, and
``_`` bound to ``gettext`` itself.

Plain path (``backoffice.speedups.template_gettext = false``): pyramid_jinja2's
``GetTextWrapper`` and Jinja2's own ``_`` alias. The fast path subclasses the
wrapper (whose ``localizer`` and ``domain`` attributes pyramid_jinja2 does not
document) and replaces the alias Jinja2's i18n extension puts in the
environment's globals.
"""

from __future__ import annotations

import weakref
from collections.abc import MutableMapping
from typing import ClassVar

from pyramid_jinja2 import ENV_CONFIG_PHASE
from pyramid_jinja2.i18n import GetTextWrapper

from tenancy.speedups import Speedup

SPEEDUP = Speedup(
    "template_gettext", (("pyramid_jinja2", "2.10", "2.11"), ("jinja2", "3.1", "3.2"))
)
MEMO_CAP = 4096


class TemplateGetText(GetTextWrapper):
    """``_()`` in templates (``jinja2.i18n.gettext``): a plain message's
    translation is remembered per language and domain.

    A page asks for the same few dozen labels on every request, and each went
    through a TranslationString, the localizer's translator and gettext. Only
    plain strings are remembered; a message with a mapping, or a
    TranslationString (equal to another with the same id but not the same
    default or mapping), is translated every time.
    """

    _memos: ClassVar[weakref.WeakKeyDictionary] = weakref.WeakKeyDictionary()

    def gettext(self, message, mapping=None):
        localizer = self.localizer
        if mapping or type(message) is not str:
            return localizer.translate(message, domain=self.domain, mapping=mapping)
        memo = self._memos.get(localizer)
        if memo is None:
            memo = self._memos.setdefault(localizer, {})
        key = (self.domain, message)
        text = memo.get(key)
        if text is None:
            if len(memo) >= MEMO_CAP:  # templates that translate data, not labels
                memo.clear()
            text = memo[key] = localizer.translate(message, domain=self.domain)
        return text


def use_template_gettext(settings: MutableMapping[str, str], prefix: str = "jinja2.") -> None:
    """Before the renderer of *prefix* is added: its templates' ``_()`` is
    ``TemplateGetText``, unless the speedup is off or a setting names another."""
    if SPEEDUP.on(settings):
        settings.setdefault(prefix + "i18n.gettext", f"{__name__}.TemplateGetText")


def direct_underscore(config, renderer: str = ".jinja2") -> None:
    """``_`` in the renderer's templates is the ``gettext`` callable itself.

    Jinja2's i18n extension makes ``_`` an alias that looks ``gettext`` up in
    the render context and calls it through the context again: two context
    calls per label, and a page has ~50 labels. Nothing here passes its own
    ``gettext`` in a render context, so the alias can point straight at it.
    """
    if not SPEEDUP.on(config.registry.settings):
        return

    def install():
        env = config.get_jinja2_environment(renderer)
        env.globals["_"] = env.globals["gettext"]

    config.action(("backoffice.direct-underscore", renderer), install, order=ENV_CONFIG_PHASE + 1)
