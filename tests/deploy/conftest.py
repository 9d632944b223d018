"""Fixtures of the deployment-kit tests."""

from tests.tenancy.helpers import root_engine  # noqa: F401  (pytest finds fixtures by name)
