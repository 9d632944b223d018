"""Alembic environments: ``control/`` (the control DB) and ``tenant/`` (one store)."""

from pathlib import Path

CONTROL_DIR = Path(__file__).parent / "control"
TENANT_DIR = Path(__file__).parent / "tenant"
