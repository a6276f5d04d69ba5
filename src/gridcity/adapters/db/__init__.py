"""Relational storage: SQLite (embedded) and PostgreSQL + PostGIS (production)."""
