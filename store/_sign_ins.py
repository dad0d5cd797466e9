"""Failed sign-ins in a row, per address, name or known device, shared by every server
process of the people's pages (`web._throttle` decides what they cost)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, select, tuple_

from store._base import StoreBase
from store._models import SignInFailureRow

Key = tuple[str, str]
"""(kind, key): ("address", "203.0.113.7"), ("name", "alice"), ("device", …)."""
_KEY_MAX = 200


def _clip(keys: Sequence[Key]) -> list[Key]:
    # A name typed 5,000 characters long still counts (its first 200 characters).
    return [(kind, key[:_KEY_MAX]) for kind, key in keys]


class SignInFailuresMixin(StoreBase):
    def sign_in_failures(
        self, keys: Sequence[Key], since: datetime
    ) -> dict[Key, tuple[int, datetime]]:
        """For each key with failures since `since` (older ones are forgotten): how many in
        a row and when the last was."""
        if not keys:
            return {}
        with self._read() as session:
            rows = session.execute(
                select(
                    SignInFailureRow.kind,
                    SignInFailureRow.key,
                    SignInFailureRow.failures,
                    SignInFailureRow.last_failed_at,
                ).where(
                    tuple_(SignInFailureRow.kind, SignInFailureRow.key).in_(_clip(keys)),
                    SignInFailureRow.last_failed_at >= since,
                )
            )
            return {(kind, key): (n, last) for kind, key, n, last in rows}

    def count_sign_in_failure(self, keys: Sequence[Key], now: datetime, since: datetime) -> None:
        """One more failure for each key (the first again if its last was before `since`);
        keys quiet since before `since` are dropped, so the table stays small."""
        table = SignInFailureRow.__table__
        with self._write() as session:
            session.execute(delete(SignInFailureRow).where(SignInFailureRow.last_failed_at < since))
            for kind, key in _clip(keys):
                insert = self._insert(SignInFailureRow).values(
                    kind=kind, key=key, failures=1, last_failed_at=now
                )
                session.execute(
                    insert.on_conflict_do_update(
                        index_elements=["kind", "key"],
                        set_={
                            "failures": case(
                                (table.c.last_failed_at < since, 1),
                                else_=table.c.failures + 1,
                            ),
                            "last_failed_at": now,
                        },
                    )
                )

    def clear_sign_in_failures(self, keys: Sequence[Key]) -> None:
        """A right password: these keys start from zero."""
        if not keys:
            return
        with self._write() as session:
            session.execute(
                delete(SignInFailureRow).where(
                    tuple_(SignInFailureRow.kind, SignInFailureRow.key).in_(_clip(keys))
                )
            )
