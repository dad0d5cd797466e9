"""Pydantic models of everything that flows through quotebot. No I/O."""

from schemas.settings import Settings

__all__ = ["Settings"]
