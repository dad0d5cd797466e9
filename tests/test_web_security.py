"""The security probes of the people's pages, replayed against the real app on localhost
with httpx, each asserting on the store: sessions that end, clients kept apart, sign-in
that neither blocks the pages nor lets a stranger lock a person out, no 500 from what a
person could type, redirects only within the site, and the probes that held before."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from loguru import logger
from web_site import (
    PASSWORD,
    SECRET,
    Site,
    client,
    csrf,
    signed_in,
    try_sign_in,
    two_clients_site,
)

from quotebot import cli
from schemas.work import ItemState
from store import open_store
from web import WebServer, WebSettings, create_app


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with two_clients_site(tmp_path) as built:
        yield built


@pytest.fixture(scope="module")
def probed_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One site for the probes of bad input: each is refused and changes nothing."""
    with two_clients_site(tmp_path_factory.mktemp("probed")) as built:
        yield built


def _replay(site: Site, cookies: httpx.Cookies) -> httpx.Client:
    web = client(site)
    web.cookies.update(cookies)
    return web


def _decide(web: httpx.Client, item_id: int, token: str) -> httpx.Response:
    form = {"action": "escalate", "note": "replayed", "version": "x", "csrf_token": token}
    return web.post(f"/review/{item_id}", data=form)


def _cli(site: Site, *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(
        cli, list(args), env={"QUOTEBOT_DATABASE_URL": site.db_url}, input=stdin
    )
    assert result.exit_code == 0, result.output
    return result.output


# -- sessions that end ----------------------------------------------------------------------


def test_a_cookie_replayed_after_sign_out_reads_nothing_and_decides_nothing(site: Site) -> None:
    alice = signed_in(site, "alice")
    item_id = site.items["acme"]["review"]
    page = alice.get(f"/review/{item_id}")
    assert page.status_code == 200
    token, stolen = csrf(page), httpx.Cookies(alice.cookies)
    alice.post("/logout", data={"csrf_token": token})
    replay = _replay(site, stolen)
    assert replay.get("/review").status_code == 303
    assert replay.get("/review").headers["location"].startswith("/login")
    refused = _decide(replay, item_id, token)  # the sign-in page, holding the decision
    assert refused.status_code == 401 and "Sign in" in refused.text
    assert site.store.reviews(item_id) == []
    assert [s.ended_why for s in site.store.sessions("alice")] == ["signed_out"]


def test_a_session_ends_when_it_expires(site: Site) -> None:
    alice = signed_in(site, "alice")
    assert alice.get("/review").status_code == 200
    site.clock.now += timedelta(hours=8, seconds=1)
    assert alice.get("/review").headers["location"].startswith("/login")


def test_a_new_password_and_disabling_end_every_session_and_the_trail_names_who(
    site: Site,
) -> None:
    first, second = signed_in(site, "alice"), signed_in(site, "alice")
    _cli(site, "users", "passwd", "alice", "--by", "root", stdin="a-new-password\n" * 2)
    for web in (first, second):
        assert web.get("/review").headers["location"].startswith("/login")
    assert try_sign_in(client(site), "alice").status_code == 401  # the old password
    assert try_sign_in(client(site), "alice", "a-new-password").status_code == 303

    olga = signed_in(site, "olga")
    _cli(site, "users", "disable", "olga", "--by", "root")
    assert olga.get("/runs").headers["location"].startswith("/login")
    refused = try_sign_in(client(site), "olga")
    assert refused.status_code == 403 and "disabled" in refused.text
    listing = _cli(site, "users", "list")
    assert "olga\tops\tdisabled\tacme\t0 open session(s)" in listing
    _cli(site, "users", "enable", "olga", "--by", "root")
    assert try_sign_in(client(site), "olga").status_code == 303
    trail = {(t.actor, t.action, t.subject) for t in site.store.trail()}
    assert {
        ("root", "password_changed", "alice"),
        ("root", "user_disabled", "olga"),
        ("root", "user_enabled", "olga"),
        ("127.0.0.1", "sign_in_failed", "olga"),
    } <= trail
    whys = {s.ended_why for s in site.store.sessions("alice")} | {
        s.ended_why for s in site.store.sessions("olga")
    }
    assert {"password_changed", "disabled"} <= whys


# -- clients kept apart ---------------------------------------------------------------------


_TOKEN = re.compile(r'name="csrf_token" value="[^"]+"')


def test_a_person_sees_only_their_engagements_everything_else_is_not_found(site: Site) -> None:
    alice = signed_in(site, "alice")
    rival = site.items["globex"]
    queue = alice.get("/review").text
    assert "ACME-OPP-0" in queue and "GLOBEX" not in queue and "Globex" not in queue
    missing = alice.get("/review/999999")
    for path in (
        f"/review/{rival['review']}",
        f"/runs/{site.runs['globex']}",
        f"/items/{rival['system']}/evidence/{site.evidence['globex']}",
        "/dashboard?engagement=globex",
    ):
        answer = alice.get(path)
        assert answer.status_code == 404, path
        assert "Globex" not in answer.text and "globex" not in answer.text.lower(), path
    # Not found looks the same whether the item is someone else's or does not exist.
    assert missing.status_code == 404

    # (Error pages keep the menu and its sign-out form: its token is the session's.)
    def same(text: str, item_id: object) -> str:
        return _TOKEN.sub("", text).replace(str(item_id), "N")

    assert same(alice.get(f"/review/{rival['review']}").text, rival["review"]) == same(
        missing.text, 999999
    )
    for path in ("/runs", "/trail", "/dashboard", "/schedule"):
        page = alice.get(path)
        assert page.status_code == 200 and "globex" not in page.text.lower(), path
    decided = _decide(alice, rival["review"], csrf(alice.get("/review")))
    assert decided.status_code == 404 and site.store.reviews(rival["review"]) == []


def test_an_operator_cannot_retry_another_clients_item_a_manager_with_all_sees_both(
    site: Site,
) -> None:
    olga = signed_in(site, "olga")
    rival = site.items["globex"]["system"]
    token = csrf(olga.get("/runs"))
    refused = olga.post(f"/items/{rival}/retry", data={"csrf_token": token})
    assert refused.status_code == 404
    assert site.store.item(rival).state is ItemState.FAILED
    own = site.items["acme"]["system"]
    assert olga.post(f"/items/{own}/retry", data={"csrf_token": token}).status_code == 303
    assert site.store.item(own).state is ItemState.NEW
    mia = signed_in(site, "mia")
    queue = mia.get("/review").text
    assert "ACME-OPP-0" in queue and "GLOBEX-OPP-0" in queue
    shot = mia.get(f"/items/{rival}/evidence/{site.evidence['globex']}")
    assert shot.status_code == 200 and shot.content.endswith(b"globex")


# -- signing in -----------------------------------------------------------------------------


def test_parallel_wrong_passwords_leave_signed_in_pages_answering_and_are_trailed(
    site: Site,
) -> None:
    logged: list[str] = []
    sink = logger.add(lambda m: logged.append(str(m)), level="WARNING", format="{message}")
    mia = signed_in(site, "mia")
    answers: list[int] = []

    def guess(n: int) -> None:
        answers.append(try_sign_in(client(site), f"guess{n}", "wrong password").status_code)

    guessers = [threading.Thread(target=guess, args=(n,)) for n in range(16)]
    try:
        for thread in guessers:
            thread.start()
        pages = [mia.get("/review").status_code for _ in range(5)]
        for thread in guessers:
            thread.join()
    finally:
        logger.remove(sink)
    assert pages == [200] * 5
    assert sorted(set(answers)) in ([401], [401, 429]) and len(answers) == 16
    failed = [t for t in site.store.trail(limit=100) if t.action == "sign_in_failed"]
    assert len(failed) == 16 and {t.actor for t in failed} == {"127.0.0.1"}
    assert any("'guess3' from 127.0.0.1" in line for line in logged)


def test_a_stranger_guessing_cannot_lock_out_the_person_whose_browser_signed_in_before(
    site: Site,
) -> None:
    alice = client(site)
    assert try_sign_in(alice, "alice").status_code == 303  # her browser is now known
    alice.post("/logout", data={"csrf_token": csrf(alice.get("/review"))})
    stranger = client(site)
    answers = [try_sign_in(stranger, "alice", f"guess {n}").status_code for n in range(5)]
    assert answers[:3] == [401] * 3 and answers[-1] == 429
    assert try_sign_in(stranger, "alice").status_code == 429  # even the right one waits
    assert try_sign_in(alice, "alice").status_code == 303  # but not in her own browser


def test_guesses_across_many_names_from_one_address_are_slowed(site: Site) -> None:
    stranger = client(site)
    answers = [try_sign_in(stranger, f"name{n}", "wrong").status_code for n in range(12)]
    assert answers[:10] == [401] * 10 and answers[-1] == 429


def test_guesses_are_counted_across_server_processes_in_the_store(site: Site) -> None:
    """A second server of the same store (its own process memory) sees the first's count:
    spreading guesses over processes or machines does not reset it."""
    with open_store(site.db_url, clock=site.clock) as other_store:
        other = create_app(other_store, WebSettings(secret_key=SECRET), home=site.home)
        with WebServer(other) as other_url, httpx.Client(base_url=other_url) as second:
            first = client(site)
            answers = [try_sign_in(first, "alice", f"guess {n}").status_code for n in range(3)]
            assert answers == [401] * 3
            refused = try_sign_in(second, "alice", "guess 4")
            assert refused.status_code == 429 and "Try again in" in refused.text
    site.clock.now += timedelta(minutes=16)  # forgotten after a quiet quarter of an hour
    assert try_sign_in(client(site), "alice").status_code == 303


# -- ordinary input never answers 500 -------------------------------------------------------

BIG = str(2**63)
PROBES = [
    ("get", f"/review/{BIG}", 404),
    ("get", "/review/99999999999999999999999", 404),
    ("get", f"/runs/{BIG}", 404),
    ("get", f"/items/{BIG}/evidence/1", 404),
    ("get", f"/items/1/evidence/{BIG}", 404),
    ("get", "/review/-1", 404),
    ("get", "/review/abc", 404),
    ("get", "/review?age=²", 400),
    ("get", "/review?age=" + "9" * 5000, 400),
    ("get", "/dashboard?since=0202-01-01", 400),
    ("get", "/dashboard?until=9999-12-31", 400),
    ("get", "/dashboard?since=2026-11-30&until=2026-11-01", 400),
    ("get", "/dashboard?since=2026-13-45", 400),
    ("get", "/trail?page=" + "9" * 30, 400),
    ("get", "/review?page=0", 400),
    ("get", "/review?page=" + "9" * 30, 400),
    ("get", "/review?severity=<b>", 400),
    ("get", "/review?rule=" + "r" * 5000, 400),
    ("get", "/runs/1?page=abc", 400),
    ("get", "/runs/1?outcome=<b>", 400),
    ("get", "/no-such-page", 404),
    ("post", "/review/999999", 404),
    ("post", f"/review/{BIG}", 404),
    ("post", "/items/999999/retry", 404),
    ("post", f"/items/{BIG}/retry", 404),
]


@pytest.mark.parametrize(("method", "path", "status"), PROBES)
def test_ordinary_input_gets_a_clear_page_with_the_security_headers(
    probed_site: Site, method: str, path: str, status: int
) -> None:
    site = probed_site
    person = "mia" if method == "get" else "alice" if path.startswith("/review") else "olga"
    web = signed_in(site, person)
    if method == "get":
        answer = web.get(path)
    else:
        token = csrf(web.get("/runs"))
        form = {"csrf_token": token, "action": "escalate", "note": "n", "version": "v"}
        answer = web.post(path, data=form)
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "<h1>" in answer.text and "Traceback" not in answer.text


# -- redirects and cookies ------------------------------------------------------------------


def test_retry_goes_back_only_within_the_site(site: Site) -> None:
    olga = signed_in(site, "olga")
    token = csrf(olga.get("/runs"))
    item_id = site.items["acme"]["system"]
    answer = olga.post(
        f"/items/{item_id}/retry",
        data={"csrf_token": token, "back": "//evil.example/x"},
        headers={"referer": "https://evil.example/phish"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/") and "evil" not in answer.headers["location"]
    assert site.store.item(item_id).state is ItemState.NEW


def test_the_session_cookie_is_secure_by_default_when_not_serving_on_loopback(
    tmp_path: Path,
) -> None:
    with two_clients_site(tmp_path, host="0.0.0.0") as exposed:  # noqa: S104
        cookie = client(exposed).get("/login").headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie
    with two_clients_site(tmp_path / "local") as local:
        assert "Secure" not in client(local).get("/login").headers["set-cookie"]


# -- probes that held before, kept holding ----------------------------------------------------


def test_the_probes_that_held_still_hold(site: Site) -> None:
    anonymous = client(site)
    for path in ("/", "/review", "/trail", "/runs", "/schedule", "/dashboard", "/review/1"):
        assert anonymous.get(path).headers["location"].startswith("/login"), path
    page = anonymous.get("/login?next=//evil.example")
    assert 'value="/"' in page.text and "evil" not in page.text
    olga = signed_in(site, "olga")
    item_id = site.items["acme"]["system"]
    no_token = olga.post(f"/items/{item_id}/retry", data={})
    assert no_token.status_code == 403 and site.store.item(item_id).state is ItemState.FAILED
    for path in (
        f"/items/{item_id}/evidence/..%2F..%2Fquotebot.sqlite",
        f"/items/{item_id}/evidence/%2e%2e",
    ):
        assert olga.get(path).status_code == 404, path
    next_ = try_sign_in(client(site), "alice")
    assert next_.headers["location"] == "/review"
    assert PASSWORD not in str(site.store.trail(limit=500))
