"""The back office's speedups (see ``tenancy.speedups`` for the switches).

``includeme`` installs the template ones; it runs before the ``.jinja2``
renderer is added, whose environment reads the gettext class then.
"""

from __future__ import annotations

from backoffice.speedups.escaping import use_escaping_templates
from backoffice.speedups.template_gettext import direct_underscore, use_template_gettext


def includeme(config) -> None:
    use_template_gettext(config.registry.settings)
    use_escaping_templates(config)
    direct_underscore(config)
