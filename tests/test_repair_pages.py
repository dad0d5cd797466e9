"""The repair pages' rules, over HTTP (no portal): who sees and approves a drift ticket, a
map changed since the ticket opened is not overwritten, a ticket is decided once, and
going back a version writes the map file again (issue 29)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from web_site import csrf, signed_in, two_clients_site

from schemas.fingerprint import Candidate, DriftTicket, KeyCheck, Suggestion

BEFORE = 'pages:\n  opportunities:\n    selectors:\n      next: "[data-testid=page-next]"\n'
AFTER = BEFORE.replace("page-next]", "page-next] > button]")


def _ticket(engagement: str, map_path: Path) -> DriftTicket:
    best = Candidate(
        selector="[data-testid=page-next] > button",
        score=0.81,
        matched={"tag": 1.0, "text": 1.0, "test_id": 0.0},
        tag="button",
        text="Next ›",
        visible=True,
    )
    check = KeyCheck(
        page="opportunities",
        key="next",
        selector="[data-testid=page-next]",
        status="changed",
        suggestion=Suggestion(candidates=(best,), confident=best, margin=0.3, reason="clear"),
    )
    return DriftTicket(
        id=0,
        engagement=engagement,
        flavour=engagement,
        key="opportunities.next",
        url="http://portal/opportunities",
        selector="[data-testid=page-next]",
        opened_at=datetime.now(UTC),
        check=check,
        map_path=str(map_path),
        proposed=best.selector,
        patch="-next\n+next",
        map_before=BEFORE,
        map_after=AFTER,
        write=True,
    )


def test_only_operations_of_the_engagement_approve_and_a_changed_map_is_not_overwritten(
    tmp_path: Path,
) -> None:
    with two_clients_site(tmp_path) as site:
        acme_map, globex_map = tmp_path / "acme.yaml", tmp_path / "globex.yaml"
        for path in (acme_map, globex_map):
            path.write_text(BEFORE, encoding="utf-8")
        acme = site.store.open_drift_ticket(_ticket("acme", acme_map))
        site.store.open_drift_ticket(_ticket("globex", globex_map))
        again = site.store.open_drift_ticket(_ticket("acme", acme_map))
        assert again.id == acme.id, "one open ticket per engagement and key"

        gina = signed_in(site, "gina")  # an auditor of globex only
        listed = gina.get("/repairs").text
        assert "globex" in listed and f'data-ticket="{acme.id}"' not in listed
        assert gina.get(f"/repairs/{acme.id}").status_code == 404

        olga = signed_in(site, "olga")  # operations, acme
        page = olga.get(f"/repairs/{acme.id}")
        assert "The Next button on the opportunities list now finds another element" in page.text
        alice = signed_in(site, "alice")  # an auditor of acme: reads, may not approve
        token = csrf(alice.get(f"/repairs/{acme.id}"))
        refused = alice.post(f"/repairs/{acme.id}/approve", data={"csrf_token": token})
        assert refused.status_code == 403
        assert acme_map.read_text(encoding="utf-8") == BEFORE

        acme_map.write_text(BEFORE + "# edited by hand\n", encoding="utf-8")
        token = csrf(page)
        answer = olga.post(f"/repairs/{acme.id}/approve", data={"csrf_token": token})
        assert "changed+since" in answer.headers["location"]
        assert site.store.drift_ticket(acme.id).status == "open"
        assert acme_map.read_text(encoding="utf-8").endswith("# edited by hand\n")

        acme_map.write_text(BEFORE, encoding="utf-8")
        answer = olga.post(f"/repairs/{acme.id}/approve", data={"csrf_token": token})
        assert "done=" in answer.headers["location"]
        assert acme_map.read_text(encoding="utf-8") == AFTER
        assert site.store.drift_ticket(acme.id).decided_by == "olga"
        answer = olga.post(f"/repairs/{acme.id}/approve", data={"csrf_token": token})
        assert "already+decided" in answer.headers["location"]

        history = olga.get("/repairs/maps/acme").text
        assert re.findall(r'data-version="(\d+)"', history) == ["2", "1"]
        back = olga.post("/repairs/maps/acme/1/restore", data={"csrf_token": token})
        assert back.status_code == 303
        assert acme_map.read_text(encoding="utf-8") == BEFORE
        assert [v.number for v in site.store.map_versions("acme")] == [3, 2, 1]
        assert globex_map.read_text(encoding="utf-8") == BEFORE, "another client's map"
