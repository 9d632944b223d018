"""Alembic environment and revisions of one store's database."""
