"""Operator-facing views that belong to no store."""
