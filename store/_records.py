"""What the audit and the bots attach to a work item: findings and evidence files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from os import PathLike
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select

from schemas.findings import FINDINGS_COLUMNS
from schemas.work import Evidence, EvidenceKind, StoredFinding
from store import _convert as convert
from store._base import StoreBase
from store._models import EvidenceRow, FindingRow, ItemRow
from store._types import to_json

_REQUIRED = ("rule", "severity", "message")


def _finding_values(
    finding: Mapping[str, Any] | BaseModel, index: int, item: ItemRow
) -> dict[str, Any]:
    """A findings.csv row as column values: text, empty as NULL, the item's ids as defaults."""
    raw = finding.model_dump() if isinstance(finding, BaseModel) else dict(finding)
    unknown = sorted(set(raw) - set(FINDINGS_COLUMNS))
    if unknown:
        raise ValueError(f"finding {index}: unknown field(s) {', '.join(unknown)}")
    values: dict[str, Any] = {
        key: None
        if raw.get(key) in (None, "")
        else str(to_json(raw[key], f"finding {index} {key}"))
        for key in FINDINGS_COLUMNS
    }
    missing = [key for key in _REQUIRED if values[key] is None]
    if missing:
        raise ValueError(f"finding {index}: missing {', '.join(missing)}")
    # The per-quote audit may leave out what the item already knows.
    values["quote_id"] = values["quote_id"] or item.quote_number or ""
    values["opportunity_id"] = values["opportunity_id"] or item.opportunity_id
    values["line_no"] = None if values["line_no"] is None else int(values["line_no"])
    return values


class RecordsMixin(StoreBase):
    def record_findings(
        self, item_id: int, findings: Iterable[Mapping[str, Any] | BaseModel]
    ) -> list[StoredFinding]:
        """Replace the item's findings with this audit's (an empty list: the quote passed)."""
        now = self.now()
        with self._write() as session:
            item = self._item_row(session, item_id, lock=True)
            values = [_finding_values(f, i, item) for i, f in enumerate(findings)]
            session.execute(delete(FindingRow).where(FindingRow.item_id == item_id))
            rows = [
                FindingRow(item_id=item_id, revision=item.revision, recorded_at=now, **value)
                for value in values
            ]
            session.add_all(rows)
            session.flush()
            return [convert.finding(row) for row in rows]

    def findings(self, item_id: int) -> list[StoredFinding]:
        with self._read() as session:
            query = select(FindingRow).where(FindingRow.item_id == item_id).order_by(FindingRow.id)
            return [convert.finding(row) for row in session.scalars(query)]

    def add_evidence(
        self,
        item_id: int,
        kind: EvidenceKind | str,
        path: str | PathLike[str],
        *,
        run_id: int | None = None,
    ) -> Evidence:
        """Remember a screenshot, trace or PDF file kept for the item."""
        kind = EvidenceKind(kind)
        with self._write() as session:
            self._item_row(session, item_id)
            row = EvidenceRow(
                item_id=item_id,
                run_id=run_id,
                kind=kind.value,
                path=str(path),
                created_at=self.now(),
            )
            session.add(row)
            session.flush()
            return convert.record(Evidence, row)

    def evidence(self, item_id: int) -> list[Evidence]:
        with self._read() as session:
            query = (
                select(EvidenceRow).where(EvidenceRow.item_id == item_id).order_by(EvidenceRow.id)
            )
            return [convert.record(Evidence, row) for row in session.scalars(query)]
