"""Alembic environment and revisions of the control database."""
