"""The packaging declares what the shipped code imports (``pip install .`` serves)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("backoffice", "tenancy", "payments", "storefront", "migrations")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    """The runtime dependencies, and the optional ones of extras other than ``test``
    (the code imports those only where it can do without them, e.g. Sentry)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    deps = [*project["dependencies"]]
    deps += [dep for extra, listed in extras.items() if extra != "test" for dep in listed]
    return {normalise(re.split(r"[\[<>=!~; ]", dep, maxsplit=1)[0]) for dep in deps}


def imported_modules() -> dict[str, str]:
    """Each top-level module the shipped code imports, with one file that does."""
    found = {}
    for package in SHIPPED:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_a_declared_dependency():
    providers = packages_distributions()
    deps = declared()
    undeclared = {
        module: where
        for module, where in imported_modules().items()
        if module not in sys.stdlib_module_names
        and module not in SHIPPED
        and not deps & {normalise(dist) for dist in providers.get(module, [module])}
    }
    assert undeclared == {}, "add these to [project] dependencies in pyproject.toml"


def test_the_scan_sees_the_imports_that_were_missing_once():
    # jsonschema and referencing were imported but not declared before 0.1.0.
    modules = imported_modules()
    assert {"jsonschema", "referencing", "sqlalchemy", "pyramid"} <= modules.keys()
    assert {"jsonschema", "referencing"} <= declared()
    assert "webtest" not in declared()  # test tools are no runtime dependency
