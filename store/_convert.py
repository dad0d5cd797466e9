"""Rows to `schemas.work` records: nothing mutable from the session leaves the store."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import inspect

from schemas.work import Run, StoredFinding, WorkItem
from store._models import Base, FindingRow, ItemRow, RunRow

R = TypeVar("R", bound=BaseModel)


def record(model: type[R], row: Base) -> R:
    """The record of a row whose columns are the record's fields (JSON values are copied)."""
    return model.model_validate(row, from_attributes=True)


def _columns(row: Base, *without: str) -> dict[str, Any]:
    return {
        attr.key: getattr(row, attr.key)
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in without
    }


def item(row: ItemRow, engagement: str) -> WorkItem:
    return WorkItem.model_validate({**_columns(row, "engagement_id"), "engagement": engagement})


def run(row: RunRow, engagement: str) -> Run:
    return Run.model_validate({**_columns(row, "engagement_id"), "engagement": engagement})


def finding(row: FindingRow) -> StoredFinding:
    # Empty columns are NULL in the database and "" in findings.csv and `schemas.Finding`.
    values = _columns(row)
    for key in ("sku", "field", "expected", "actual"):
        values[key] = values[key] or ""
    return StoredFinding.model_validate(values)
