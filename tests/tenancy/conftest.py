"""Fixtures of the tenancy tests; they live in ``helpers`` so the CLI tests share them."""

from tests.tenancy.helpers import (  # noqa: F401  (pytest finds fixtures by name here)
    admin_user,
    own_control,
    private_control,
    root_engine,
)
from tests.tenancy.saga_kit import kit  # noqa: F401  (the saga kill tests' fixture)
