"""`quotebot demo --fleet`, as a newcomer with a PostgreSQL runs it: three worker processes
quote and book both sandbox portals, each does part of the work, the managers' figures
are printed as the embedded demo prints them, and the workers stop cleanly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fleet_helpers import fleet_database

from sandbox.portal import Portal
from schemas.work import RunStatus
from store import open_store

pytestmark = pytest.mark.postgres


@pytest.mark.slow
def test_the_fleet_demo_quotes_and_books_through_three_worker_processes(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    with fleet_database() as db_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTEBOT_")}
        result = subprocess.run(
            [
                *(sys.executable, "-m", "quotebot", "demo", "--fleet"),
                *("--opportunities", "10", "--home", str(home)),
            ],
            cwd=tmp_path,
            env={**env, "QUOTEBOT_DATABASE_URL": db_url},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, (result.stdout, result.stderr[-3000:])
        out = result.stdout
        did = re.findall(r"^  worker \S+ stopped: (.*)$", out, re.M)
        assert len(did) == 3, out
        items = [sum(int(n) for n in re.findall(r"\d+", line)) for line in did]
        assert all(n > 0 for n in items), ("each worker did part of the work", out)
        entered = re.search(r"quotes entered and verified: (\d+) entered, (\d+) verified", out)
        assert entered is not None and int(entered.group(1)) > 0, out
        assert re.search(r"first-pass accuracy: \d+\.\d %", out), out

        schema_url = f"{db_url}?options=-csearch_path%3Dquotebot_demo"
        with open_store(schema_url) as store:
            runs = store.runs()
            assert [(r.engagement, r.kind.value) for r in runs] == [
                ("acme", "quote"),
                ("globex", "quote"),
                ("acme", "booking"),
                ("globex", "booking"),
            ]
            assert all(r.status is RunStatus.SUCCEEDED and r.worker == "fleet" for r in runs)
            assert store.fleet_workers() == [], "each worker removed its row as it stopped"
            booked = 0
            for flavour in ("acme", "globex"):
                quoted = [i for i in store.items(flavour) if i.quote_number]
                orders = {i.order_number for i in store.items(flavour) if i.order_number}
                booked += len(orders)
                with Portal(home / "portals" / flavour / "portal.sqlite3") as db:
                    for item in quoted:
                        assert len(db.find_quotes(opportunity_id=item.opportunity_id)) == 1
                    booking_rows = db.bookings_csv().splitlines()[1:]
                assert len(booking_rows) == len(orders), (flavour, booking_rows, orders)
        said_booked = sum(int(n) for line in did for n in re.findall(r"booked (\d+)", line))
        assert booked > 0 and said_booked == booked, (booked, out)
