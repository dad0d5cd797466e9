"""A web site of two competing clients' work, built through the store (no portal needed),
served for real on localhost, and httpx clients that sign in through the login form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from schemas.work import EvidenceKind, FailureKind, ItemState, WorkItem
from store import Store, open_store
from web import WebServer, WebSettings, create_app, hash_password

PASSWORD = "correct horse battery"
SECRET = "test-secret-key-" + "y" * 40
TODAY = date(2026, 11, 30)
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
# Who works on what: two auditors and an operator kept to one client each, a manager on all.
PEOPLE = {
    "alice": ("auditor", ("acme",)),
    "gina": ("auditor", ("globex",)),
    "olga": ("ops", ("acme",)),
    "mia": ("manager", None),
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """The store's clock, moved by the test (session expiry without waiting 8 hours)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Site:
    store: Store
    home: Path
    db_url: str
    base_url: str
    clock: Clock
    items: dict[str, dict[str, int]] = field(default_factory=dict)
    """engagement → {"review", "later": business failures (to review), "system": a system
    failure (to retry), "verified": a quote that passed}"""
    runs: dict[str, int] = field(default_factory=dict)
    evidence: dict[str, int] = field(default_factory=dict)


def _item(store: Store, engagement: str, suffix: str, days: int, account: str) -> WorkItem:
    opportunity = f"{engagement.upper()}-OPP-{suffix}"
    return store.ensure_item(
        engagement,
        opportunity,
        contract_end=TODAY + timedelta(days=days),
        account_name=account,
        data={"opportunity_id": opportunity},
    )


def _work(
    store: Store, home: Path, engagement: str, account: str
) -> tuple[dict[str, int], int, int]:
    store.ensure_engagement(engagement, "acme", f"http://127.0.0.1:1/{engagement}")
    run = store.start_run(engagement, "quote")
    ids = {}
    done = _item(store, engagement, "V", 130, f"{account} verified")
    for state in (ItemState.PRICED, ItemState.ENTERED, ItemState.VERIFIED):
        store.transition(done.id, state, run_id=run.id)
    ids["verified"] = done.id
    for n, (kind, code) in enumerate(
        [
            (FailureKind.BUSINESS, "unknown_sku"),
            (FailureKind.SYSTEM, "timeout"),
            (FailureKind.BUSINESS, "missing_expiry"),
        ]
    ):
        item = _item(store, engagement, str(n), 90, f"{account} {n}")
        store.fail(item.id, kind, f"{code} in {engagement}", code=code, run_id=run.id)
        ids["system" if kind is FailureKind.SYSTEM else "review" if n == 0 else "later"] = item.id
    shot = Path("evidence") / engagement / str(ids["system"]) / "screenshot.png"
    (home / shot).parent.mkdir(parents=True, exist_ok=True)
    (home / shot).write_bytes(b"\x89PNG\r\n\x1a\n" + engagement.encode())
    evidence = store.add_evidence(ids["system"], EvidenceKind.SCREENSHOT, shot, run_id=run.id)
    trace = shot.with_name("trace.zip")
    (home / trace).write_bytes(b"PK\x05\x06" + bytes(18))
    store.add_evidence(ids["system"], EvidenceKind.TRACE, trace, run_id=run.id)
    store.finish_run(run.id, "succeeded", {"failed": 2})
    return ids, run.id, evidence.id


@contextmanager
def two_clients_site(folder: Path, *, host: str = "127.0.0.1") -> Iterator[Site]:
    """acme's and globex's failed items (one for review, one to retry, with a screenshot)."""
    clock = Clock()
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{home / 'quotebot.sqlite'}"
    store = open_store(db_url, clock=clock)
    site = Site(store, home, db_url, "", clock)
    for engagement, account in (("acme", "Acme Client"), ("globex", "Globex Rival")):
        ids, run_id, evidence_id = _work(store, home, engagement, account)
        site.items[engagement], site.runs[engagement] = ids, run_id
        site.evidence[engagement] = evidence_id
    for name, (role, engagements) in PEOPLE.items():
        store.add_user(
            name,
            role,
            hash_password(PASSWORD),
            engagements=engagements or (),
            all_engagements=engagements is None,
        )
    app = create_app(store, WebSettings(secret_key=SECRET), today=TODAY, home=home, host=host)
    try:
        with WebServer(app) as base_url:
            site.base_url = base_url
            yield site
    finally:
        store.close()


def csrf(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, f"no CSRF token on {page.url}"
    return found.group(1)


def client(site: Site) -> httpx.Client:
    return httpx.Client(base_url=site.base_url, follow_redirects=False, timeout=30)


def try_sign_in(web: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf(web.get("/login"))
    form = {"username": name, "password": password, "csrf_token": token, "next": "/"}
    return web.post("/login", data=form)


def signed_in(site: Site, name: str) -> httpx.Client:
    web = client(site)
    answer = try_sign_in(web, name)
    assert answer.status_code == 303 and answer.headers["location"] != "/login", answer.text
    return web
