"""Alembic migrations of quotebot's store (applied by `store.open_store`), and what a test
of the migrations needs: the engine, the upgrade, Alembic's config and the models' tables."""

from store._engine import alembic_config, make_engine, migrate, writer
from store._models import Base

metadata = Base.metadata
"""The tables as the models declare them (the newest migration must match them)."""

__all__ = ["alembic_config", "make_engine", "metadata", "migrate", "writer"]
