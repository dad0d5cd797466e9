"""Alembic migrations of quotebot's store (applied by `store.open_store`)."""
