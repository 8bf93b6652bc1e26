"""Catalog database: schema, engine factory and migrations."""
