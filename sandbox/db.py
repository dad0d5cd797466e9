"""The simulated client portal's own SQLite database: schema and connection handling.

It is the client's system, separate from quotebot's store. WAL lets readers run while a
writer commits; one lock serialises write transactions because uvicorn runs sync
endpoints in a thread pool. Money is stored as decimal strings, dates as ISO strings.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, salt TEXT NOT NULL, password_hash TEXT NOT NULL,
    totp_secret TEXT
);
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY, name TEXT NOT NULL, segment TEXT NOT NULL
);
-- default_price: what the quote editor pre-fills (stale for planted SKUs);
-- save_price: when set, the portal silently re-prices lines of this SKU on save.
CREATE TABLE IF NOT EXISTS price_book (
    sku TEXT NOT NULL, currency TEXT NOT NULL, description TEXT NOT NULL,
    family TEXT NOT NULL, list_price TEXT NOT NULL, active INTEGER NOT NULL,
    default_price TEXT NOT NULL, save_price TEXT,
    PRIMARY KEY (sku, currency)
);
-- term_end_shift_days: a planted portal bug, added to term_end on save.
-- opportunity_lines.line_end: a line added mid-term that ends after the contract (NULL:
-- it ends with the contract); renew = 0: the customer gave notice on the line.
CREATE TABLE IF NOT EXISTS opportunities (
    opportunity_id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts,
    currency TEXT NOT NULL, contract_end TEXT, renewal_term_months INTEGER NOT NULL,
    term_end_shift_days INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS opportunity_lines (
    opportunity_id TEXT NOT NULL REFERENCES opportunities, line_no INTEGER NOT NULL,
    sku TEXT NOT NULL, quantity INTEGER NOT NULL, prior_unit_price TEXT,
    line_end TEXT, renew INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (opportunity_id, line_no)
);
CREATE TABLE IF NOT EXISTS quotes (
    quote_number TEXT PRIMARY KEY, opportunity_id TEXT NOT NULL REFERENCES opportunities,
    external_ref TEXT NOT NULL, status TEXT NOT NULL, quote_date TEXT NOT NULL,
    valid_until TEXT NOT NULL, currency TEXT NOT NULL, term_start TEXT NOT NULL,
    term_end TEXT NOT NULL, total TEXT NOT NULL, order_number TEXT
);
CREATE INDEX IF NOT EXISTS quotes_by_ref ON quotes (external_ref);
CREATE INDEX IF NOT EXISTS quotes_by_opportunity ON quotes (opportunity_id);
CREATE TABLE IF NOT EXISTS quote_lines (
    quote_number TEXT NOT NULL REFERENCES quotes, line_no INTEGER NOT NULL,
    sku TEXT NOT NULL, quantity INTEGER NOT NULL, unit_price TEXT NOT NULL,
    line_amount TEXT NOT NULL, line_start TEXT NOT NULL, line_end TEXT NOT NULL,
    PRIMARY KEY (quote_number, line_no)
);
CREATE TABLE IF NOT EXISTS customer_pos (
    quote_number TEXT PRIMARY KEY REFERENCES quotes, po_number TEXT NOT NULL,
    po_date TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL,
    pdf_name TEXT NOT NULL, pdf BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS bookings (
    order_number TEXT PRIMARY KEY, quote_number TEXT NOT NULL UNIQUE REFERENCES quotes,
    po_number TEXT NOT NULL, po_date TEXT NOT NULL, po_amount TEXT NOT NULL,
    pdf_name TEXT NOT NULL, pdf BLOB NOT NULL, booked_on TEXT NOT NULL
);
"""


def connect(path: Path) -> sqlite3.Connection:
    """One autocommit connection usable from any thread (callers serialise writes)."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Database:
    """The portal database: a connection per thread for reads, one lock for writes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        with self._write_lock:
            self._conn().executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def read(self) -> sqlite3.Connection:
        """This thread's connection, for SELECTs outside a write transaction."""
        return self._conn()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A serialised write transaction: committed on success, rolled back on error."""
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def next_number(self, conn: sqlite3.Connection, name: str) -> int:
        """The next value of a named counter (inside a write transaction)."""
        row = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = (row["value"] if row else 0) + 1
        conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
        return value

    def dump(self) -> str:
        """A canonical text dump of the whole database (for determinism checks)."""
        return "\n".join(self.read().iterdump()) + "\n"

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
