"""The wheel's build step (``[tool.setuptools.cmdclass]`` in pyproject.toml).

Two things a wheel needs that are not plain files in a package of the tree:

- compiled message catalogs: the ``.mo`` files are build output (git-ignored,
  ``make translations`` makes them in a checkout), so they are compiled here
  from the ``.po`` files, straight into the build directory;
- the ini files, which live at the top of the tree (``make demo`` and ``pserve``
  use them there): copies go into ``backoffice/etc/``, where
  ``backoffice.inifiles`` finds them in an installed back office.

An editable install (``make install``) reads the tree itself and skips both.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent
CATALOG_DOMAINS = ("backoffice", "storefront")
INI_FILES = ("production.ini", "development.ini", "alembic.ini")


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        build_lib = Path(self.build_lib)
        for domain in CATALOG_DOMAINS:
            compile_catalogs(ROOT / domain / "locale", build_lib / domain / "locale", domain)
        etc = build_lib / "backoffice" / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        for name in INI_FILES:
            shutil.copyfile(ROOT / name, etc / name)


def compile_catalogs(source: Path, target: Path, domain: str) -> None:
    """``pybabel compile --use-fuzzy``, as ``make translations`` runs it."""
    for po_path in sorted(source.glob(f"*/LC_MESSAGES/{domain}.po")):
        locale = po_path.parent.parent.name
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=locale, domain=domain)
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=True)
