"""The sandbox portal over real HTTP: login with CSRF and TOTP, idle expiry, fault
injection at the configured rates, and the CLI (generate, serve as its own process)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyotp
import pytest
from sandbox_helpers import TODAY, RunningPortal, running_portal

from sandbox.config import FaultConfig
from sandbox.generate import load_credentials
from sandbox.portal import Portal


def _csrf(client: httpx.Client, path: str = "/login") -> str:
    page = client.get(path)
    while page.status_code == 503:  # fault injection: a real bot retries too
        page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def _login(client: httpx.Client, portal: RunningPortal) -> httpx.Response:
    creds = portal.credentials
    return client.post(
        "/login",
        data={
            "username": creds.username,
            "password": creds.password,
            "csrf_token": _csrf(client),
            "next": "/opportunities",
        },
    )


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with running_portal(tmp_path_factory.mktemp("acme"), "acme", opportunities=30) as running:
        yield running


def test_login_needs_the_csrf_token_and_the_password(portal: RunningPortal) -> None:
    with httpx.Client(base_url=portal.base_url) as client:
        assert client.get("/api/opportunities").json()["error"] == "not_logged_in"
        creds = portal.credentials
        client.get("/login")
        refused = client.post(
            "/login", data={"username": creds.username, "password": creds.password}
        )
        assert refused.status_code == 403
        wrong = client.post(
            "/login",
            data={"username": creds.username, "password": "nope", "csrf_token": _csrf(client)},
        )
        assert wrong.status_code == 401 and creds.password not in wrong.text
        ok = _login(client, portal)
        assert ok.status_code == 303 and ok.headers["location"] == "/opportunities"
        session = client.get("/api/session").json()
        assert session["username"] == creds.username
        unsafe = client.post("/api/quotes", json={})
        assert unsafe.status_code == 403  # no X-CSRF-Token header


def test_totp_second_factor(tmp_path: Path) -> None:
    with (
        running_portal(tmp_path, "acme", opportunities=5, totp=True) as portal,
        httpx.Client(base_url=portal.base_url) as client,
    ):
        first = _login(client, portal)
        assert first.headers["location"].startswith("/login/totp")
        assert client.get("/api/opportunities").status_code == 401  # password alone is not enough
        token = _csrf(client, "/login/totp")
        bad = client.post("/login/totp", data={"code": "000000", "csrf_token": token})
        assert bad.status_code == 401
        code = pyotp.TOTP(portal.credentials.totp_secret).now()
        good = client.post(
            "/login/totp", data={"code": code, "csrf_token": token, "next": "/quotes"}
        )
        assert good.status_code == 303 and good.headers["location"] == "/quotes"
        assert client.get("/api/opportunities").status_code == 200


def test_idle_session_expires_after_the_ttl(tmp_path: Path) -> None:
    with (
        running_portal(tmp_path, "acme", opportunities=5, session_ttl=1.0) as portal,
        httpx.Client(base_url=portal.base_url) as client,
    ):
        _login(client, portal)
        assert client.get("/api/opportunities").status_code == 200
        time.sleep(1.2)  # the one legitimate wait: just past the real TTL
        expired = client.get("/api/opportunities")
        assert expired.status_code == 401 and expired.json()["error"] == "session_expired"
        _login(client, portal)
        time.sleep(1.2)
        page = client.get("/opportunities?page=2")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=/opportunities%3Fpage%3D2&expired=1"


def test_error_rate_gives_that_share_of_503s(tmp_path: Path) -> None:
    faults = FaultConfig(error_rate=0.2, seed=3)
    with (
        running_portal(tmp_path, "acme", opportunities=20, faults=faults) as portal,
        httpx.Client(base_url=portal.base_url) as client,
    ):
        statuses = [client.get("/healthz").status_code for _ in range(400)]
    share = statuses.count(503) / len(statuses)
    assert set(statuses) == {200, 503}
    assert 0.15 <= share <= 0.25, share  # binomial(400, 0.2): sd 0.02


def test_a_503_never_follows_a_committed_write(tmp_path: Path) -> None:
    faults = FaultConfig(error_rate=0.5, seed=5)
    with (
        running_portal(tmp_path, "acme", opportunities=20, faults=faults) as portal,
        httpx.Client(base_url=portal.base_url) as client,
    ):
        while _login(client, portal).status_code != 303:
            pass
        with portal.open_db() as db:
            opp = db.get_opportunity(portal.regular_opportunities()[0])
        body = {
            "opportunity_id": opp.opportunity_id,
            "external_ref": "F",
            "term_start": "2026-06-01",
            "term_end": "2027-05-31",
            "lines": [
                {"sku": ln.sku, "quantity": ln.quantity, "unit_price": "1"} for ln in opp.lines
            ],
        }
        token = ""
        while not token:
            answer = client.get("/api/session")
            token = answer.json()["csrf_token"] if answer.status_code == 200 else ""
        statuses = [
            client.post("/api/quotes", json=body, headers={"X-CSRF-Token": token}).status_code
            for _ in range(40)
        ]
        with portal.open_db() as db:
            saved = len(db.find_quotes(external_ref="F"))
    assert saved == statuses.count(200) and statuses.count(503) > 5


def test_latency_and_slow_saves(tmp_path: Path) -> None:
    faults = FaultConfig(latency_ms=(80, 100), slow_save_ms=300)
    with (
        running_portal(tmp_path, "acme", opportunities=20, faults=faults) as portal,
        httpx.Client(base_url=portal.base_url) as client,
    ):
        started = time.perf_counter()
        client.get("/healthz")
        assert time.perf_counter() - started >= 0.08
        _login(client, portal)
        token = client.get("/api/session").json()["csrf_token"]
        with portal.open_db() as db:
            opp = db.get_opportunity(portal.regular_opportunities()[0])
        started = time.perf_counter()
        answer = client.post(
            "/api/quotes",
            headers={"X-CSRF-Token": token},
            json={
                "opportunity_id": opp.opportunity_id,
                "external_ref": "S",
                "term_start": "2026-06-01",
                "term_end": "2027-05-31",
                "lines": [{"sku": opp.lines[0].sku, "quantity": 1, "unit_price": "1"}],
            },
        )
        assert answer.status_code == 200 and time.perf_counter() - started >= 0.38


def test_downloads_are_the_audit_spec_files(portal: RunningPortal) -> None:
    with httpx.Client(base_url=portal.base_url) as client:
        _login(client, portal)
        csv = client.get("/opportunities.csv", params={"end_from": "2026-03-01"})
        assert csv.headers["content-disposition"] == 'attachment; filename="opportunities.csv"'
        with portal.open_db() as db:
            assert csv.text == db.opportunities_csv(end_from=TODAY.replace(month=3, day=1))
        quotes = client.get("/quotes.csv")
        assert quotes.text.startswith("quote_id,opportunity_id,quote_date,valid_until,currency,")


def _quotebot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quotebot", "sandbox", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def test_cli_generate_is_byte_for_byte_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        _quotebot(
            "generate",
            "--seed",
            "7",
            "--opportunities",
            "120",
            "--today",
            "2026-01-15",
            "--data-dir",
            str(tmp_path / name),
        )
    for name in ("rules.yaml", "ground_truth.json", "credentials.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    dumps = []
    for name in ("a", "b"):
        with Portal(tmp_path / name / "portal.sqlite3", today=TODAY) as db:
            dumps.append(db.db.dump())
    assert dumps[0] == dumps[1]


def test_serve_runs_as_its_own_process(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox.server",
            "serve",
            "--flavour",
            "acme",
            "--port",
            "0",
            "--opportunities",
            "10",
            "--today",
            "2026-01-15",
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line
        deadline = time.monotonic() + 15
        while True:
            try:
                assert httpx.get(match.group(0) + "/healthz").json()["flavour"] == "acme"
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        password = load_credentials(tmp_path).password
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=10)
    assert password not in stderr and password not in stdout and password not in line


def test_concurrent_saves_get_distinct_sequential_numbers(portal: RunningPortal) -> None:
    with portal.open_db() as db:
        before = len(db.find_quotes())
        opp = db.get_opportunity(portal.regular_opportunities()[1])
    body = {
        "opportunity_id": opp.opportunity_id,
        "external_ref": "PAR",
        "term_start": "2026-06-01",
        "term_end": "2027-05-31",
        "lines": [{"sku": ln.sku, "quantity": ln.quantity, "unit_price": "2"} for ln in opp.lines],
    }
    with httpx.Client(base_url=portal.base_url) as client:
        _login(client, portal)
        headers = {"X-CSRF-Token": client.get("/api/session").json()["csrf_token"]}
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(
                pool.map(
                    lambda _: client.post("/api/quotes", json=body, headers=headers), range(16)
                )
            )
    numbers = sorted(answer.json()["quote_number"] for answer in answers)
    assert numbers == [f"Q-{n:06d}" for n in range(before + 1, before + 17)]
